// SchedSnapshot: the scheduler's state as plain data.
//
// Owns: the numbers behind schedtrace/scheddetail lines (Go's field names)
// plus the cumulative counters the metrics layer exports. Taking a snapshot
// reads racy per-P fields without stopping anything, as Go's schedtrace does:
// each number is exact when read, the set is not one instant.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rt {

struct ProcessorSnapshot {
  int id = 0;
  int status = 0;          // Go's numbering: 0 idle, 1 running, 2 syscall, 4 dead
  uint32_t schedtick = 0;
  uint32_t syscalltick = 0;
  int64_t m = -1;          // M id or -1 (printed "nil")
  uint32_t runqsize = 0;
  uint32_t gfreecnt = 0;
  uint64_t timerslen = 0;
  uint64_t steals = 0;     // Tasks this P stole from others
};

struct MachineSnapshot {
  int64_t id = 0;
  int64_t p = -1;
  int64_t curg = -1;
  bool spinning = false;
  bool blocked = false;    // parked waiting for work
  int64_t lockedg = -1;
};

struct TaskSnapshot {
  uint64_t id = 0;
  int status = 0;          // Go's numbering: 1 runnable, 2 running, 3 syscall, 4 waiting
  std::string wait_reason;
  int64_t m = -1;
  int64_t lockedm = -1;
};

struct SchedSnapshot {
  int64_t uptime_ms = 0;
  int gomaxprocs = 0;
  int idleprocs = 0;
  int threads = 0;
  int spinningthreads = 0;
  int needspinning = 0;
  int idlethreads = 0;
  uint64_t runqueue = 0;   // global run queue length
  int nmidlelocked = 0;
  bool sysmonwait = false;
  // Cumulative counters.
  uint64_t tasks_live = 0;         // spawned and not yet exited
  uint64_t tasks_spawned = 0;
  uint64_t context_switches = 0;   // Task resumptions
  uint64_t steals = 0;
  uint64_t sysmon_retakes = 0;     // Ps taken from Ms stuck in blocking()
  uint64_t sysmon_preempt_requests = 0;
  // Effective CPU set (sorted) and affinity mode ("none", "spread", "pin").
  std::vector<int> affinity_cpus;
  std::string affinity_mode;
  uint64_t stacks_mapped = 0;
  uint64_t stacks_unguarded = 0;
  // Netpoller.
  int64_t poller_handoff_interval_ns = 0;
  int netpoll_batch = 0;
  int64_t netpoll_waiters = 0;       // Tasks parked on fds + armed hooks
  uint64_t netpoll_blocking_waits = 0;  // polls by the M waiting for work
  uint64_t netpoll_forced_polls = 0;    // sysmon hand-off polls
  uint64_t netpoll_events = 0;          // fd events taken, all polls
  // Polls by fd events taken; bucket i counts polls with events in
  // [2^(i-1), 2^i) (bucket 0: none; the last: 512 and more).
  std::vector<uint64_t> netpoll_events_per_poll;
  // Time Tasks waited runnable before running (sampled 1 in 8 wake-ups, as
  // Go's /sched/latencies:seconds). Counts per bucket, not cumulative:
  // bucket i holds waits <= sched_latency_bounds_ns[i]; the last, the rest.
  std::vector<int64_t> sched_latency_bounds_ns;
  std::vector<uint64_t> sched_latency_counts;
  uint64_t sched_latency_sum_ns = 0;
  std::vector<ProcessorSnapshot> processors;
  std::vector<MachineSnapshot> machines;
  std::vector<TaskSnapshot> tasks; // only when asked for
};

// Go's format: "SCHED 1000ms: gomaxprocs=2 idleprocs=0 threads=5 ..." and,
// when detailed, P/M/G lines. Ends with a newline.
std::string formatSchedTrace(const SchedSnapshot& s, bool detailed);

}  // namespace rt
