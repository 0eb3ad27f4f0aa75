// Runtime settings: the bridge from [runtime] in the config to the running
// scheduler.
//
// Owns the mapping of RuntimeConfig onto rt::Options at start-up, and the
// live part of a reload: which runtime knobs change in place (workers,
// cpu_affinity + affinity_mode, poller_handoff_interval, netpoll_batch,
// schedtrace + scheddetail) and which need a restart (stack_size: stacks
// already mapped keep their size). config/ depends on runtime/ here and
// only here.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "runtime/options.h"

namespace switchyard::config {

rt::Options toRuntimeOptions(const RuntimeConfig& rc);

// Applies what differs between `previous` and `next` to the running
// runtime. Callable from any thread while rt::run is active. Returns one
// human-readable line per change (applied, or needing a restart), for logs.
std::vector<std::string> applyRuntimeChanges(const RuntimeConfig& previous,
                                             const RuntimeConfig& next);

}  // namespace switchyard::config
