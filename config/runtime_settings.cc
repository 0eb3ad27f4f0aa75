#include "config/runtime_settings.h"

#include <chrono>

#include "config/units.h"
#include "runtime/runtime.h"

namespace switchyard::config {
namespace {

rt::AffinityMode toRuntimeMode(AffinityMode m) {
  switch (m) {
    case AffinityMode::kNone: return rt::AffinityMode::kNone;
    case AffinityMode::kSpread: return rt::AffinityMode::kSpread;
    case AffinityMode::kPin: return rt::AffinityMode::kPin;
  }
  return rt::AffinityMode::kNone;
}

int effectiveWorkers(const RuntimeConfig& rc) {
  return rc.workers.has_value() ? *rc.workers : rt::defaultWorkers();
}

}  // namespace

rt::Options toRuntimeOptions(const RuntimeConfig& rc) {
  rt::Options o;
  o.workers = rc.workers.value_or(0);
  o.cpu_affinity = rc.cpu_affinity;
  o.affinity_mode = toRuntimeMode(rc.affinity_mode);
  o.stack_size = rc.stack_size;
  o.schedtrace = std::chrono::duration_cast<std::chrono::milliseconds>(rc.schedtrace);
  o.scheddetail = rc.scheddetail;
  o.poller_handoff_interval = rc.poller_handoff_interval;
  o.netpoll_batch = rc.netpoll_batch;
  return o;
}

std::vector<std::string> applyRuntimeChanges(const RuntimeConfig& previous,
                                             const RuntimeConfig& next) {
  std::vector<std::string> changes;
  const int old_workers = effectiveWorkers(previous);
  const int new_workers = effectiveWorkers(next);
  if (old_workers != new_workers) {
    rt::set_workers(new_workers);
    changes.push_back("runtime.workers: " + std::to_string(old_workers) + " -> " +
                      std::to_string(new_workers));
  }
  if (previous.cpu_affinity != next.cpu_affinity ||
      previous.affinity_mode != next.affinity_mode) {
    const bool ok = rt::set_affinity(next.cpu_affinity, toRuntimeMode(next.affinity_mode));
    changes.push_back(std::string("runtime.cpu_affinity: \"") +
                      formatCpuSet(next.cpu_affinity) + "\" mode " +
                      rt::affinityModeName(toRuntimeMode(next.affinity_mode)) +
                      (ok ? "" : " NOT applied: CPUs outside the process's allowed set"));
  }
  if (previous.poller_handoff_interval != next.poller_handoff_interval) {
    rt::set_poller_handoff_interval(next.poller_handoff_interval);
    changes.push_back("runtime.poller_handoff_interval: " +
                      formatDuration(next.poller_handoff_interval));
  }
  if (previous.netpoll_batch != next.netpoll_batch) {
    rt::set_netpoll_batch(next.netpoll_batch);
    changes.push_back("runtime.netpoll_batch: " + std::to_string(next.netpoll_batch));
  }
  if (previous.schedtrace != next.schedtrace || previous.scheddetail != next.scheddetail) {
    rt::set_schedtrace(std::chrono::duration_cast<std::chrono::milliseconds>(next.schedtrace),
                       next.scheddetail);
    changes.push_back("runtime.schedtrace: " + formatDuration(next.schedtrace) +
                      (next.scheddetail ? " (detailed)" : ""));
  }
  if (previous.stack_size != next.stack_size) {
    changes.push_back("runtime.stack_size: " + formatSize(next.stack_size) +
                      " needs a restart (kept " + formatSize(previous.stack_size) + ")");
  }
  return changes;
}

}  // namespace switchyard::config
