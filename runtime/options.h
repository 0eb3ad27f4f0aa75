// Runtime options: what a user may tune, and how defaults are derived.
//
// Owns: the Options struct, the default worker count (CPUs this process may
// use: sched_getaffinity, then the cgroup v2 cpu.max or v1 CFS quota, as
// Go 1.25 does)
// and SWITCHYARD_DEBUG parsing (our GODEBUG: schedtrace=MS,scheddetail=1).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace rt {

enum class AffinityMode {
  kNone,    // threads may run anywhere the process may
  kSpread,  // every thread restricted to cpu_affinity
  kPin,     // P i's thread bound to the i-th CPU of cpu_affinity (mod size)
};
const char* affinityModeName(AffinityMode m);

struct Options {
  int workers = 0;                      // P count; 0 = defaultWorkers()
  std::vector<int> cpu_affinity;        // empty = all CPUs the process may use
  AffinityMode affinity_mode = AffinityMode::kNone;
  size_t stack_size = 64 * 1024;        // usable bytes per task stack
  std::chrono::milliseconds schedtrace{0};  // period of SCHED lines; 0 = off
  bool scheddetail = false;             // add P/M/G lines to each trace
  // Longest the network may go unpolled while every P is busy; sysmon then
  // polls. Go hard-codes 10 ms; here it is a knob (our own, not Go's).
  std::chrono::nanoseconds poller_handoff_interval{std::chrono::milliseconds(10)};
  int netpoll_batch = 512;              // fd events taken per poll
  // Signals blocked in every runtime thread from the start, so that
  // rt::net::SignalReader (signalfd) receives them instead of a default
  // action on a random thread. Restored when rt::run returns.
  std::vector<int> notify_signals;
};

// CPUs the process may run on (sched_getaffinity), ascending.
std::vector<int> allowedCpus();

// min(allowed CPUs, ceil(cgroup CPU quota/period)), at least 1.
// `cgroup_root` is injectable for tests ("/sys/fs/cgroup" normally).
int defaultWorkers(const std::string& cgroup_root = "/sys/fs/cgroup");

// Reads the cgroup CPU limit in CPUs (quota/period rounded up) along the
// process's cgroup path and its ancestors: cgroup v2 cpu.max, and cgroup v1
// cpu.cfs_quota_us / cpu.cfs_period_us under <root>/cpu,cpuacct (or
// <root>/cpu); the tightest wins. 0 when unlimited or unknown.
int cgroupCpuLimit(const std::string& cgroup_root = "/sys/fs/cgroup");
// The same with the text of /proc/self/cgroup given (tests).
int cgroupCpuLimit(const std::string& cgroup_root, const std::string& proc_self_cgroup);

// Applies SWITCHYARD_DEBUG ("schedtrace=1000,scheddetail=1") over `opts`.
// Unknown keys are reported on stderr once and ignored.
Options applyDebugEnv(Options opts, const char* env_value);

}  // namespace rt
