// RuntimeCollector: the scheduler's numbers as switchyard_runtime_* families.
//
// Everything is computed at scrape time from one rt::snapshot() call: the runtime keeps
// its own per-P counters (it must, for schedtrace), so nothing is added to the
// scheduler's hot paths, and the values follow live changes (rt::set_workers(),
// set_affinity(), set_poller_handoff_interval(), set_netpoll_batch()) with no wiring.
// The snapshot reads racy per-P fields without stopping anything, as Go's schedtrace
// does: each number was true when read, the set is not one instant.
//
// Register it only while rt::run() is active: rt::snapshot() reads the running
// scheduler (the admin server scrapes from a Task, so this holds there). Tests and tools
// inject their own source.
//
// Names, types and meanings: docs/METRICS.md.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "proxy/metrics/runtime_view.h"

namespace switchyard::proxy::metrics {

class RuntimeCollector : public prometheus::Collectable {
 public:
  using Source = std::function<RuntimeView()>;

  // Reads rt::snapshot() through runtimeView().
  RuntimeCollector();
  // Reads `source` instead (tests).
  explicit RuntimeCollector(Source source);

  // Interim, until rt::SchedSnapshot carries the affinity (see runtime_view.h): the CPU
  // set and mode last applied with rt::set_affinity() / rt::Options. Used only when the
  // view has no affinity of its own. Any thread.
  void noteAffinity(std::vector<int> cpus, std::string mode);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  Source source_;
  mutable std::mutex affinity_mu_;
  std::optional<AffinityInfo> noted_affinity_;  // guarded by affinity_mu_
};

// The families of one view (exposed for tests; Collect() uses it).
std::vector<prometheus::MetricFamily> runtimeFamilies(const RuntimeView& view);

}  // namespace switchyard::proxy::metrics
