// RuntimeView: what the runtime collector reads from the scheduler, in one struct.
//
// It is rt::SchedSnapshot plus the affinity set and mode taken out of it. The collector
// only ever reads a RuntimeView, so a field the runtime starts exporting is wired in one
// line in runtimeView() (runtime_view.cc) and nothing else moves.
// RuntimeCollector::noteAffinity() remains as a fallback for views built without it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/sched_snapshot.h"

namespace switchyard::proxy::metrics {

struct AffinityInfo {
  std::vector<int> cpus;  // sorted, unique
  std::string mode;       // "none" | "spread" | "pin"
  bool operator==(const AffinityInfo&) const = default;
};

struct RuntimeView {
  rt::SchedSnapshot sched;
  // From the snapshot's affinity_cpus/affinity_mode.
  std::optional<AffinityInfo> affinity;
};

// The view of one snapshot.
RuntimeView runtimeView(rt::SchedSnapshot snapshot);

}  // namespace switchyard::proxy::metrics
