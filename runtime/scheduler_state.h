// The scheduler's global state (Go's `schedt`), shared by scheduler.cc,
// sysmon.cc and snapshot.cc. Private to runtime/.
//
// Lock discipline: `lock` (Go's sched.lock) guards the global run queue, the
// idle P and idle M lists, the global free-Task list and allm. It is never
// taken on the per-Task fast paths (spawn onto the local queue, park/ready
// through runnext, local run queue get). Lock order: sched.lock before any
// timer heap lock before the stack allocator's lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/internal/note.h"
#include "runtime/internal/stack.h"
#include "runtime/machine.h"
#include "runtime/netpoll/poller.h"
#include "runtime/options.h"
#include "runtime/processor.h"
#include "runtime/task.h"

namespace rt::internal {

constexpr int kMaxProcs = 256;
// Go's forcePreemptNS: a Task running longer than this is asked to yield.
constexpr int64_t kForcePreemptNs = 10'000'000;

struct Scheduler {
  explicit Scheduler(const Options& o);

  Options opts;
  std::mutex lock;

  // Global run queue (guarded by lock; size readable without it).
  TaskQueue runq;
  std::atomic<uint64_t> runqsize{0};

  Processor* pidle = nullptr;
  std::atomic<int32_t> npidle{0};
  Machine* midle = nullptr;
  int32_t nmidle = 0;
  std::atomic<int32_t> nmidlelocked{0};
  std::atomic<int32_t> nmspinning{0};
  std::atomic<int32_t> needspinning{0};
  std::atomic<int32_t> gomaxprocs{0};

  // Processors are created on first use and never freed while running, so
  // a racy reader (a thief, sysmon) always sees a valid object.
  std::atomic<Processor*> allp[kMaxProcs] = {};
  std::vector<Machine*> allm;     // guarded by lock
  std::atomic<int64_t> mnext{0};  // next M id
  std::atomic<int32_t> mcount{0}; // Ms not exited

  std::mutex allg_lock;
  std::vector<Task*> allgs;       // guarded by allg_lock
  TaskQueue gfree;                // guarded by lock
  // gfree.size, stored under lock, for allocTask's unlocked peek.
  std::atomic<uint64_t> ngfree{0};
  std::atomic<uint64_t> goidgen{0};

  StackAllocator stacks;
  Poller poller;
  // Go's sched.lastpoll: 0 while an M is blocked in poller.poll().
  std::atomic<int64_t> lastpoll{1};
  std::atomic<int64_t> poll_until{0};
  // Any poll at all (blocking, findRunnable, sysmon): the poller hand-off
  // interval is measured from here.
  std::atomic<int64_t> last_net_poll{0};
  std::atomic<int64_t> handoff_interval_ns{10'000'000};
  std::atomic<uint64_t> forced_polls{0};
  std::atomic<uint64_t> blocking_polls{0};
  // Polls by number of fd events taken: 0, 1, 2-3, 4-7, ..., >= 512.
  static constexpr int kPollBuckets = 11;
  std::atomic<uint64_t> poll_events_hist[kPollBuckets] = {};
  std::atomic<uint64_t> poll_events_total{0};
  void recordPoll(int events) {
    int b = 0;
    while (b < kPollBuckets - 1 && (1 << b) <= events) b++;
    poll_events_hist[b].fetch_add(1, std::memory_order_relaxed);
    poll_events_total.fetch_add(static_cast<uint64_t>(events), std::memory_order_relaxed);
  }

  std::atomic<bool> shutting_down{false};

  // sysmon
  std::thread sysmon;
  Note sysmon_note;
  std::atomic<bool> sysmonwait{false};
  std::atomic<int64_t> schedtrace_ms{0};
  std::atomic<bool> scheddetail{false};
  std::atomic<uint64_t> retakes{0};
  std::atomic<uint64_t> preempt_requests{0};

  // Affinity (guarded by affinity_mu; generation read lock-free by Ms).
  std::mutex affinity_mu;
  // The process's CPUs as rt::run found them, before any M was bound.
  // Immutable after start: allowedCpus() called on an M reads that
  // thread's (possibly restricted) mask, so live changes check this.
  std::vector<int> allowed;
  std::vector<int> cpus;          // effective set (never empty)
  AffinityMode affinity_mode = AffinityMode::kNone;
  std::atomic<uint64_t> affinity_gen{1};

  int64_t start_ns = 0;
  std::atomic<uint64_t> tasks_spawned{0};
  std::atomic<uint64_t> tasks_exited{0};

  Processor* proc(int i) const { return allp[i].load(std::memory_order_acquire); }
  int procs() const { return gomaxprocs.load(std::memory_order_acquire); }
};

extern Scheduler* sched;

// Implemented in scheduler.cc, used by sysmon.cc.
void handoffp(Processor* p);
void startm(Processor* p, bool spinning);
void wakep();
// Polls the netpoller (batch = netpoll_batch) and records the statistics.
int pollNetwork(int64_t timeout_ns, TaskQueue& ready);

// sysmon.cc
void sysmonMain();
void wakeSysmon();
// snapshot.cc
void emitSchedTrace(bool detailed);

}  // namespace rt::internal
