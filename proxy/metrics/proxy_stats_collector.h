// ProxyStatsCollector: the proxy's counters as Prometheus families, stable across reloads.
//
// Every reload builds a new ProxyStats (its own label tables and cells) while requests
// still in flight finish on the old snapshot and keep recording into the old ProxyStats.
// A Prometheus counter must never go down, so the collector keeps one process-lifetime
// view, keyed by label values:
//
//   1. publish() makes a new ProxyStats current and keeps its own reference to every
//      earlier one ("previous generations"). What publish() and current() hand out is a
//      lease: a shared_ptr whose last copy, when dropped, marks the generation released
//      (a release store, read with acquire by the collector).
//   2. A scrape adds up, series by series (same label values = same series), the retired
//      totals, every previous generation and the current one. A listener, route or
//      cluster that exists before and after a reload therefore continues its counters
//      where they were, whichever snapshot a request recorded into.
//   3. A previous generation whose lease is released can receive no more writes (the
//      last writer's stores happen before the release): its totals are folded into the
//      retired totals and the generation is freed (at the next scrape or publish). No
//      series is ever counted twice or dropped: folding and summing happen under one
//      mutex, and a generation is either folded or summed in one scrape.
//
// Chosen over "copy totals into the new snapshot at reload" because in-flight requests
// keep writing into the old snapshot after the reload, and over a process-lifetime table
// of cells because per-snapshot cells keep the request path to one array per worker.
// The cost: series of listeners, routes and clusters that were removed stay in the
// exposition with their final values until the process restarts (a bounded set: one per
// label set ever configured). Gauges (active connections, pool sizes) are deltas, so a
// connection opened under one snapshot and closed under another still sums to zero.
// Endpoint health is shown for the current snapshot only.
//
// Threads: publish(), current() and Collect() may be called from any thread; the mutex
// is held for an in-memory summation (a scrape) or a pointer swap (a publish), never on
// the request path.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "config/config.h"
#include "proxy/metrics/proxy_stats.h"

namespace switchyard::proxy::metrics {

class ProxyStatsCollector : public prometheus::Collectable {
 public:
  ProxyStatsCollector() = default;

  // Builds the ProxyStats of `config` (reserving rt::workers()'s blocks: pass it as
  // `reserve_workers`), makes it current and returns a lease on it. The caller stores
  // it with the snapshot's other per-snapshot objects (Router, ...) and records into it
  // for as long as it holds a copy.
  std::shared_ptr<ProxyStats> publish(const config::Config& config, int reserve_workers);

  // A lease on the ProxyStats of the latest publish(), or null before the first.
  std::shared_ptr<ProxyStats> current() const;

  // Previous generations whose lease is still held somewhere (for tests).
  size_t liveGenerations() const;

  // Totals of every generation, as a scrape sees them.
  ProxyTotals totals() const;

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  // Folds previous generations whose lease is released. mu_ must be held.
  void foldRetiredLocked() const;

  struct Generation {
    std::shared_ptr<ProxyStats> stats;  // the collector's own reference, not a lease
    std::shared_ptr<const std::atomic<bool>> released;  // set when the lease is gone
  };

  mutable std::mutex mu_;
  std::shared_ptr<ProxyStats> current_lease_;  // keeps the current generation unreleased
  std::shared_ptr<ProxyStats> current_;         // the collector's own reference
  std::shared_ptr<const std::atomic<bool>> current_released_;
  mutable std::vector<Generation> previous_;
  mutable ProxyTotals retired_;
};

// The families of `totals` (exposed for tests; Collect() uses it).
std::vector<prometheus::MetricFamily> proxyFamilies(const ProxyTotals& totals);

}  // namespace switchyard::proxy::metrics
