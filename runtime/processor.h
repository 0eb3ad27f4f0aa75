// Processor: the P of Go's G/M/P model, a logical worker.
//
// Owns, while an M holds it (status kRunning): its run queue's producer
// side, its free-Task list, its stack cache, its goid batch and its counters.
// Its timer heap has its own lock (see timer.h). In status kSyscall the P
// still belongs to the M inside blocking(), but sysmon may CAS it to kIdle
// and hand it to another M. In kIdle it sits on sched.pidle and belongs to
// sched.lock. kDead Ps (beyond `workers` after a resize) hold nothing.
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime/internal/stack.h"
#include "runtime/run_queue.h"
#include "runtime/task.h"
#include "runtime/timer/timer.h"

namespace rt::internal {

struct Machine;

// Numbered as Go's _P* constants so schedtrace output reads the same.
enum class ProcStatus : uint8_t { kIdle = 0, kRunning = 1, kSyscall = 2, kDead = 4 };

struct alignas(64) Processor {
  int32_t id = 0;
  std::atomic<ProcStatus> status{ProcStatus::kDead};
  std::atomic<Machine*> m{nullptr};
  Processor* link = nullptr;  // sched.pidle list

  LocalRunQueue runq;

  // Incremented on every scheduling round that does not inherit a time
  // slice; sysmon reads it (relaxed) to detect a Task running too long.
  std::atomic<uint32_t> schedtick{0};
  std::atomic<uint32_t> syscalltick{0};

  // Dead Tasks for reuse (Go's gFree): bounded, spills to sched.gfree.
  TaskQueue gfree;
  StackCache stacks;
  TimerHeap timers;

  // Task ids come from the global counter in batches (Go's goidcache).
  uint64_t goid_next = 0;
  uint64_t goid_end = 0;
  uint32_t rand_state = 0;  // steal order

  // sysmon's view, touched only by sysmon.
  uint32_t sysmon_schedtick = 0;
  int64_t sysmon_schedwhen = 0;
  uint32_t sysmon_syscalltick = 0;
  int64_t sysmon_syscallwhen = 0;

  // Pin mode: the CPU this P's M is bound to (-1 = none).
  std::atomic<int> pinned_cpu{-1};

  std::atomic<uint64_t> steals{0};
  std::atomic<uint64_t> switches{0};
  // The clock as first read in scheduling round `clock_round` (a value of
  // `switches`, which execute() bumps per round): coarse_now() reads it once
  // per round. Only the M holding this P touches them.
  int64_t clock_ns = 0;
  uint64_t clock_round = UINT64_MAX;

  // Scheduling-latency histogram (sampled), written only by the owner.
  static constexpr int kLatencyBuckets = 12;  // 11 bounds + overflow
  std::atomic<uint64_t> latency_counts[kLatencyBuckets] = {};
  std::atomic<uint64_t> latency_sum_ns{0};
};

}  // namespace rt::internal
