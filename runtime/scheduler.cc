// The scheduler: Go's G/M/P design in C++.
//
// Tasks (G) are stackful coroutines. Machines (M) are OS threads. Processors
// (P) are the right to run Tasks: an M must hold a P to run one, so at most
// `workers` Tasks run at once however many threads exist. Each P owns a
// 256-slot lock-free run queue plus `runnext`; a global queue under
// sched.lock catches overflow, Tasks woken by threads without a P, and
// preempted Tasks.
//
// Every M runs the scheduler loop on its own thread stack (g0). A Task gives
// up its M by switching to g0 with a SwitchReason; g0 then finishes what the
// Task could not do on its own stack (publish it as waiting, put it in a run
// queue, recycle it) and picks the next Task. Two switches per hand-off, as
// in Go (mcall + gogo), and it keeps the invariant simple: a Task's
// registers are saved before any other M can see it.
//
// Finding work (findRunnable), in Go's order:
//   1. run this P's expired timers;
//   2. every 61st tick, one Task from the global queue first (fairness: two
//      Tasks re-spawning each other through the local queue cannot starve
//      the global one);
//   3. runnext, then the local queue;
//   4. the global queue (a batch, refilling the local queue);
//   5. a non-blocking look at the poller;
//   6. steal half of another P's queue (4 passes in random order; the last
//      pass also runs their expired timers and may take their runnext);
//   7. give the P back (idle list), re-check everything once more, then
//      either block in the poller until the earliest timer (one M at most)
//      or park the thread.
//
// Spinning Ms. An M looking for work without finding it "spins" (steps 5-6).
// At most half the busy Ps' worth of Ms spin. When work is submitted
// (spawn, ready, a timer) and no M is spinning while a P is idle, wakep()
// starts one spinner. When a spinner finds work it stops spinning and calls
// wakep() itself, so the *last* spinner to find work always starts a
// replacement: parallelism grows one thread at a time as long as work
// keeps appearing, and an idle process has no spinning thread at all. The
// "delicate dance" at step 7 (drop spinning, then re-check all queues) makes
// sure work submitted while the last spinner was giving up is not missed.
//
// Blocking calls. rt::blocking() detaches the P into kSyscall without giving
// it away (lazy hand-off, Go 1.19's entersyscall). If the call returns
// quickly the M takes its P back with one CAS. If not, sysmon notices after
// one 20us tick and hands the P to another M (handoffp), so the other Tasks
// keep running.
//
// Rejected alternatives: a single global queue (one lock per spawn/wake);
// one thread per P with no hand-off (a blocking call stalls the P);
// direct Task-to-Task switches (one switch cheaper, but wakers could then
// observe a Task whose registers are not yet saved).

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "runtime/runtime.h"
#include "runtime/scheduler.h"
#include "runtime/scheduler_state.h"

namespace rt::internal {

Scheduler* sched = nullptr;

namespace {

thread_local Machine* tls_m = nullptr;

// Free-list bounds, as Go's gfput/gfget.
constexpr uint64_t kLocalFreeMax = 64;
constexpr uint64_t kLocalFreeKeep = 32;
constexpr uint32_t kGoidBatch = 16;

[[noreturn]] void fatal(const char* msg) {
  std::fprintf(stderr, "switchyard runtime: fatal: %s\n", msg);
  std::abort();
}

void bindCurrentThread(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) CPU_SET(c, &set);
  sched_setaffinity(0, sizeof set, &set);
}

// Applies the affinity mode to the calling M: spread restricts it to the
// set, pin binds it to its P's CPU. Called when the generation changed or
// when the M takes a P in pin mode.
void applyAffinity(Machine* m) {
  uint64_t gen = sched->affinity_gen.load(std::memory_order_acquire);
  int want_cpu = -1;
  if (m->p != nullptr) want_cpu = m->p->pinned_cpu.load(std::memory_order_relaxed);
  if (m->affinity_gen == gen && m->bound_cpu == want_cpu) return;
  std::vector<int> cpus;
  AffinityMode mode;
  {
    std::lock_guard<std::mutex> l(sched->affinity_mu);
    cpus = sched->cpus;
    mode = sched->affinity_mode;
  }
  if (mode == AffinityMode::kPin && want_cpu >= 0) {
    bindCurrentThread({want_cpu});
  } else {
    bindCurrentThread(cpus);  // kNone: cpus is every allowed CPU
  }
  m->affinity_gen = gen;
  m->bound_cpu = want_cpu;
}

// ---- scheduling latency ----

constexpr int64_t kLatencyBoundsNs[Processor::kLatencyBuckets - 1] = {
    1'000, 5'000, 10'000, 50'000, 100'000, 500'000,
    1'000'000, 5'000'000, 10'000'000, 50'000'000, 100'000'000};

// Reads the clock and keeps it as p's value for the current round
// (roundNanotime).
inline int64_t readRoundClock(Processor* p) {
  const int64_t now = nanotime();
  p->clock_ns = now;
  p->clock_round = p->switches.load(std::memory_order_relaxed);
  return now;
}

// Called whenever t becomes runnable.
inline void stampRunnable(Task* t) {
  if (t->track_all || (++t->track_seq & 7) == 0) {
    t->runnable_since_ns = nanotime();
  } else {
    t->runnable_since_ns = 0;
  }
}

// Called when t starts running on p, in its new round: the clock read here
// is also the round's coarse_now().
inline void recordRunnableWait(Processor* p, Task* t) {
  if (t->runnable_since_ns == 0) return;
  const int64_t waited = readRoundClock(p) - t->runnable_since_ns;
  t->runnable_since_ns = 0;
  if (t->track_all) t->sched_delay_ns += waited;
  int b = 0;
  while (b < Processor::kLatencyBuckets - 1 && waited > kLatencyBoundsNs[b]) b++;
  // Single writer (the owner P): load+store, no read-modify-write.
  p->latency_counts[b].store(p->latency_counts[b].load(std::memory_order_relaxed) + 1,
                             std::memory_order_relaxed);
  p->latency_sum_ns.store(
      p->latency_sum_ns.load(std::memory_order_relaxed) + static_cast<uint64_t>(waited),
      std::memory_order_relaxed);
}

// ---- global queue and lists (sched.lock held) ----

void globrunqput(Task* t) {
  sched->runq.pushBack(t);
  sched->runqsize.store(sched->runq.size, std::memory_order_release);
}

void globrunqputBatch(TaskQueue& q) {
  sched->runq.append(q);
  sched->runqsize.store(sched->runq.size, std::memory_order_release);
}

void runqput(Processor* p, Task* t, bool next);

// Go's globrunqget: a fair share of the global queue, at most half a local
// queue; one Task is returned, the rest refill the local queue.
Task* globrunqget(Processor* p, uint64_t max) {
  uint64_t size = sched->runq.size;
  if (size == 0) return nullptr;
  uint64_t n = size / static_cast<uint64_t>(sched->procs()) + 1;
  if (n > size) n = size;
  if (max > 0 && n > max) n = max;
  if (n > LocalRunQueue::kSize / 2) n = LocalRunQueue::kSize / 2;
  Task* t = sched->runq.popFront();
  for (uint64_t i = 1; i < n; i++) {
    TaskQueue overflow;
    if (p->runq.put(sched->runq.popFront(), false, overflow)) {
      fatal("globrunqget: local run queue overflowed");
    }
  }
  sched->runqsize.store(sched->runq.size, std::memory_order_release);
  return t;
}

void mput(Machine* m) {
  m->link = sched->midle;
  sched->midle = m;
  sched->nmidle++;
}

Machine* mget() {
  Machine* m = sched->midle;
  if (m != nullptr) {
    sched->midle = m->link;
    sched->nmidle--;
  }
  return m;
}

void retirePLocked(Processor* p);

void pidleput(Processor* p) {
  if (p->id >= sched->procs()) {
    retirePLocked(p);
    return;
  }
  if (!p->runq.empty()) fatal("pidleput: P has a non-empty run queue");
  p->status.store(ProcStatus::kIdle, std::memory_order_release);
  p->link = sched->pidle;
  sched->pidle = p;
  sched->npidle.fetch_add(1, std::memory_order_acq_rel);
}

Processor* pidleget() {
  Processor* p = sched->pidle;
  if (p != nullptr) {
    sched->pidle = p->link;
    sched->npidle.fetch_sub(1, std::memory_order_acq_rel);
  }
  return p;
}

// Go's pidlegetSpinning: a spinner that found work but no P tells a
// non-spinning M about to drop its P to become spinning instead.
Processor* pidlegetSpinning() {
  Processor* p = pidleget();
  if (p == nullptr) sched->needspinning.store(1, std::memory_order_release);
  return p;
}

// Removes a P beyond `workers` from service: its queued Tasks go to the
// global queue, its timers to P0, its caches back to the pools.
void retirePLocked(Processor* p) {
  TaskQueue q;
  p->runq.drainTo(q);
  if (!q.empty()) globrunqputBatch(q);
  if (p->timers.size() > 0) p->timers.moveAllTo(sched->proc(0)->timers);
  p->stacks.drain(sched->stacks);
  sched->gfree.append(p->gfree);
  sched->ngfree.store(sched->gfree.size, std::memory_order_relaxed);
  p->m.store(nullptr, std::memory_order_relaxed);
  p->status.store(ProcStatus::kDead, std::memory_order_release);
}

// ---- P ownership ----

void acquirep(Machine* m, Processor* p) {
  m->p = p;
  p->m.store(m, std::memory_order_relaxed);
  p->status.store(ProcStatus::kRunning, std::memory_order_release);
  applyAffinity(m);
  // seq_cst pairs with sysmon publishing sysmonwait then re-reading npidle:
  // one of us sees the other, so sysmon never deep-sleeps over a busy P.
  if (sched->sysmonwait.load(std::memory_order_seq_cst)) wakeSysmon();
}

Processor* releasep(Machine* m) {
  Processor* p = m->p;
  p->m.store(nullptr, std::memory_order_relaxed);
  m->p = nullptr;
  return p;
}

// ---- M lifecycle ----

void scheduleLoop(Machine* m);

void* mstartThread(void* arg) {
  auto* m = static_cast<Machine*>(arg);
  tls_m = m;
  m->tid = static_cast<pid_t>(syscall(SYS_gettid));
  context::adoptThreadStack(m->g0);
  Processor* p = m->nextp.exchange(nullptr, std::memory_order_acq_rel);
  if (p != nullptr) acquirep(m, p);
  applyAffinity(m);
  scheduleLoop(m);
  sched->mcount.fetch_sub(1, std::memory_order_acq_rel);
  return nullptr;
}

void newm(Processor* p, bool spinning) {
  auto* m = new Machine();
  m->id = sched->mnext.fetch_add(1, std::memory_order_relaxed);
  m->spinning.store(spinning, std::memory_order_relaxed);
  m->nextp.store(p, std::memory_order_release);
  {
    std::lock_guard<std::mutex> l(sched->lock);
    if (sched->shutting_down.load(std::memory_order_acquire)) {
      // Teardown snapshots allm under this lock: no thread may start after.
      if (spinning) sched->nmspinning.fetch_sub(1, std::memory_order_acq_rel);
      pidleput(p);
      delete m;
      return;
    }
    sched->allm.push_back(m);
    sched->mcount.fetch_add(1, std::memory_order_acq_rel);
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  // g0 runs only the scheduler and timer callbacks: 256 KiB is plenty.
  pthread_attr_setstacksize(&attr, 256 * 1024);
  if (pthread_create(&m->thread, &attr, mstartThread, m) != 0) fatal("pthread_create failed");
  pthread_attr_destroy(&attr);
}

// Parks the M until startm hands it a P. Returns false at shutdown.
bool stopm(Machine* m) {
  {
    std::lock_guard<std::mutex> l(sched->lock);
    if (sched->shutting_down.load(std::memory_order_acquire)) return false;
    mput(m);
  }
  m->blocked.store(true, std::memory_order_relaxed);
  m->park.sleep();
  m->park.clear();
  m->blocked.store(false, std::memory_order_relaxed);
  if (sched->shutting_down.load(std::memory_order_acquire)) return false;
  Processor* p = m->nextp.exchange(nullptr, std::memory_order_acq_rel);
  if (p == nullptr) fatal("stopm: woken without a P");
  acquirep(m, p);
  return true;
}

// ---- run queues ----

void runqput(Processor* p, Task* t, bool next) {
  TaskQueue overflow;
  if (p->runq.put(t, next, overflow)) {
    std::lock_guard<std::mutex> l(sched->lock);
    globrunqputBatch(overflow);
  }
}

// Go's resetspinning: the last spinner to find work starts a replacement.
void resetSpinning(Machine* m) {
  m->spinning.store(false, std::memory_order_relaxed);
  if (sched->nmspinning.fetch_sub(1, std::memory_order_acq_rel) - 1 < 0) {
    fatal("resetSpinning: negative nmspinning");
  }
  wakep();
}

void becomeSpinning(Machine* m) {
  m->spinning.store(true, std::memory_order_relaxed);
  sched->nmspinning.fetch_add(1, std::memory_order_acq_rel);
}

// Runs expired timers of `victim` on our P and returns a Task if that made
// one runnable here.
Task* runTimersOf(Processor* victim, Processor* mine, int64_t now, bool& inherit) {
  if (victim->timers.nextWhen() > now) return nullptr;
  victim->timers.runExpired(now);
  return mine->runq.get(inherit);
}

Task* stealWork(Machine* m, int64_t now, bool& inherit) {
  Processor* mine = m->p;
  const int n = sched->procs();
  constexpr int kStealTries = 4;
  for (int pass = 0; pass < kStealTries; pass++) {
    const bool last_pass = pass == kStealTries - 1;
    mine->rand_state = mine->rand_state * 1664525u + 1013904223u;
    const int start = static_cast<int>((mine->rand_state >> 8) % static_cast<uint32_t>(n));
    for (int k = 0; k < n; k++) {
      Processor* victim = sched->proc((start + k) % n);
      if (victim == nullptr || victim == mine) continue;
      if (last_pass) {
        if (Task* t = runTimersOf(victim, mine, now, inherit)) return t;
      }
      ProcStatus st = victim->status.load(std::memory_order_acquire);
      if (st == ProcStatus::kIdle || st == ProcStatus::kDead) continue;
      if (Task* t = mine->runq.stealFrom(victim->runq, last_pass, st == ProcStatus::kRunning)) {
        mine->steals.fetch_add(1, std::memory_order_relaxed);
        inherit = false;
        return t;
      }
    }
  }
  return nullptr;
}

int64_t earliestTimer() {
  int64_t when = TimerHeap::kNever;
  const int n = sched->procs();
  for (int i = 0; i < n; i++) {
    Processor* p = sched->proc(i);
    if (p != nullptr) when = std::min(when, p->timers.nextWhen());
  }
  return when;
}

void retireIfBeyondWorkers(Machine* m) {
  if (m->p == nullptr || m->p->id < sched->procs()) return;
  {
    std::lock_guard<std::mutex> l(sched->lock);
    if (m->p->id < sched->procs()) return;  // grown back meanwhile
    Processor* p = releasep(m);
    retirePLocked(p);
  }
  // Without a P this M is about to park in stopm(); if it was spinning it
  // must stop counting as a spinner first (Go's stopm throws on a spinning
  // M). Otherwise nmspinning stays above 0 for good, and every wakep()
  // from then on, the one below included, returns without waking anyone.
  if (m->spinning.load(std::memory_order_relaxed)) {
    m->spinning.store(false, std::memory_order_relaxed);
    if (sched->nmspinning.fetch_sub(1, std::memory_order_acq_rel) - 1 < 0) {
      fatal("retireIfBeyondWorkers: negative nmspinning");
    }
  }
  // Its Tasks went to the global queue and its timers to P0, which may be
  // idle with no M waiting in the poller: break any wait so the deadline is
  // re-read, and wake an M so someone runs or watches them.
  sched->poller.wake();
  wakep();
}

// Blocks until there is a Task to run; returns nullptr only at shutdown.
// On return m holds a P.
Task* findRunnable(Machine* m, bool& inherit) {
top:
  if (sched->shutting_down.load(std::memory_order_acquire)) return nullptr;
  retireIfBeyondWorkers(m);
  if (m->p == nullptr) {
    if (!stopm(m)) return nullptr;
    goto top;
  }
  Processor* p = m->p;
  // The clock only when something needs it (a timer here, or stealing):
  // on a busy P without timers it is most of a scheduling round's cost.
  int64_t now = 0;
  if (const int64_t next = p->timers.nextWhen(); next != TimerHeap::kNever) {
    now = nanotime();
    if (next <= now) p->timers.runExpired(now);
  }

  if (p->schedtick.load(std::memory_order_relaxed) % 61 == 0 &&
      sched->runqsize.load(std::memory_order_acquire) > 0) {
    std::lock_guard<std::mutex> l(sched->lock);
    if (Task* t = globrunqget(p, 1)) {
      inherit = false;
      return t;
    }
  }
  if (Task* t = p->runq.get(inherit)) return t;
  if (sched->runqsize.load(std::memory_order_acquire) > 0) {
    std::lock_guard<std::mutex> l(sched->lock);
    if (Task* t = globrunqget(p, 0)) {
      inherit = false;
      return t;
    }
  }
  // The network, without blocking, before stealing (Go's order): a ready
  // connection is local work nobody else will find for us.
  if (sched->poller.waiters() > 0 && sched->lastpoll.load(std::memory_order_relaxed) != 0) {
    TaskQueue ready;
    pollNetwork(0, ready);
    if (Task* t = ready.popFront()) {
      injectList(ready);
      inherit = false;
      return t;
    }
  }

  // Spin (steal) only while spinners are fewer than half the busy Ps.
  const int busy = sched->procs() - sched->npidle.load(std::memory_order_acquire);
  if (m->spinning.load(std::memory_order_relaxed) ||
      2 * sched->nmspinning.load(std::memory_order_acquire) < busy) {
    if (!m->spinning.load(std::memory_order_relaxed)) becomeSpinning(m);
    if (now == 0) now = nanotime();
    if (Task* t = stealWork(m, now, inherit)) return t;
  }

  // Nothing found: give the P back, re-checking the global queue under the
  // lock so a Task put there meanwhile is not stranded.
  {
    std::unique_lock<std::mutex> l(sched->lock);
    if (sched->runq.size > 0) {
      Task* t = globrunqget(p, 0);
      inherit = false;
      return t;
    }
    if (!m->spinning.load(std::memory_order_relaxed) &&
        sched->needspinning.load(std::memory_order_acquire) == 1) {
      sched->needspinning.store(0, std::memory_order_release);
      l.unlock();
      becomeSpinning(m);
      goto top;
    }
    releasep(m);
    pidleput(p);
  }

  const bool was_spinning = m->spinning.load(std::memory_order_relaxed);
  if (was_spinning) {
    m->spinning.store(false, std::memory_order_relaxed);
    if (sched->nmspinning.fetch_sub(1, std::memory_order_acq_rel) - 1 < 0) {
      fatal("findRunnable: negative nmspinning");
    }
    // The delicate dance: a Task submitted between our last look and the
    // decrement above saw a spinner and did not wake anyone. Look again.
    const int n = sched->procs();
    for (int i = 0; i < n; i++) {
      Processor* pp = sched->proc(i);
      if (pp != nullptr && !pp->runq.empty()) {
        Processor* got;
        {
          std::lock_guard<std::mutex> l(sched->lock);
          got = pidlegetSpinning();
        }
        if (got != nullptr) {
          acquirep(m, got);
          becomeSpinning(m);
          goto top;
        }
        break;
      }
    }
  }

  // Block in the poller until the earliest timer, if nobody else does.
  const int64_t poll_until = earliestTimer();
  const bool have_reason = poll_until != TimerHeap::kNever || sched->poller.waiters() > 0;
  if (have_reason && sched->lastpoll.exchange(0, std::memory_order_acq_rel) != 0) {
    sched->poll_until.store(poll_until, std::memory_order_release);
    int64_t timeout = -1;
    if (poll_until != TimerHeap::kNever) timeout = std::max<int64_t>(0, poll_until - nanotime());
    TaskQueue ready;
    if (!sched->shutting_down.load(std::memory_order_acquire)) {
      sched->blocking_polls.fetch_add(1, std::memory_order_relaxed);
      pollNetwork(timeout, ready);
    }
    sched->poll_until.store(0, std::memory_order_release);
    sched->lastpoll.store(nanotime(), std::memory_order_release);
    Processor* got;
    {
      std::lock_guard<std::mutex> l(sched->lock);
      got = pidleget();
    }
    if (got == nullptr) {
      injectList(ready);
    } else {
      acquirep(m, got);
      if (Task* t = ready.popFront()) {
        injectList(ready);
        inherit = false;
        return t;
      }
      if (was_spinning) becomeSpinning(m);
      goto top;
    }
  } else if (poll_until != TimerHeap::kNever &&
             sched->lastpoll.load(std::memory_order_acquire) == 0 &&
             poll_until < sched->poll_until.load(std::memory_order_acquire)) {
    sched->poller.wake();  // the waiting M sleeps past our earlier timer
  }
  if (!stopm(m)) return nullptr;
  goto top;
}

// ---- running Tasks ----

void taskEntry(void* arg) {
  context::onFirstEntry();
  auto* t = static_cast<Task*>(arg);
  t->invoke(t->closure);
  t->destroy(t->closure);
  t->closure = nullptr;
  Machine* m = currentMachine();
  m->reason = SwitchReason::kExit;
  context::switchTo(t->ctx, m->g0, /*from_is_finished=*/true);
  fatal("a finished task was resumed");
}

void gfput(Processor* p, Task* t) {
  p->gfree.pushBack(t);
  if (p->gfree.size >= kLocalFreeMax) {
    std::lock_guard<std::mutex> l(sched->lock);
    while (p->gfree.size > kLocalFreeKeep) sched->gfree.pushBack(p->gfree.popFront());
    sched->ngfree.store(sched->gfree.size, std::memory_order_relaxed);
  }
}

void startLockedM(Machine* m, Task* t);
void stopLockedM(Machine* m);

// After a Task switched back to g0: finish what it asked for.
void afterSwitch(Machine* m, Task* t) {
  m->curg.store(nullptr, std::memory_order_relaxed);
  t->m.store(nullptr, std::memory_order_relaxed);
  switch (m->reason) {
    case SwitchReason::kPark: {
      t->state.store(TaskState::kParking, std::memory_order_release);
      auto commit = m->park_commit;
      void* arg = m->park_arg;
      m->park_commit = nullptr;
      m->park_arg = nullptr;
      const bool parked = commit == nullptr || commit(t, arg);
      TaskState expected = TaskState::kParking;
      if (!parked || !t->state.compare_exchange_strong(expected, TaskState::kWaiting,
                                                       std::memory_order_acq_rel)) {
        // Not parked after all, or woken while the commit ran: the commit
        // is over, so now the Task may run again.
        t->wait_reason.store(WaitReason::kNone, std::memory_order_relaxed);
        stampRunnable(t);
        t->state.store(TaskState::kRunnable, std::memory_order_release);
        runqput(m->p, t, true);
        wakep();
      }
      break;
    }
    case SwitchReason::kYield:
      stampRunnable(t);
      t->state.store(TaskState::kRunnable, std::memory_order_release);
      runqput(m->p, t, false);
      break;
    case SwitchReason::kPreempted: {
      stampRunnable(t);
      t->state.store(TaskState::kRunnable, std::memory_order_release);
      std::lock_guard<std::mutex> l(sched->lock);
      globrunqput(t);
      break;
    }
    case SwitchReason::kExit: {
      t->state.store(TaskState::kDead, std::memory_order_release);
      Processor* p = m->p;
      p->stacks.put(sched->stacks, t->stack);
      t->stack = Stack{};
      t->started = false;
      sched->tasks_exited.fetch_add(1, std::memory_order_relaxed);
      if (m->lockedg.load(std::memory_order_relaxed) == t) {
        m->lockedg.store(nullptr, std::memory_order_relaxed);
        t->locked_m.store(nullptr, std::memory_order_relaxed);
        t->lock_count = 0;
        gfput(p, t);
        // Go 1.10+: a Task that exits while locked takes its thread with it
        // (the Task may have changed the thread's state). The process's main
        // thread is kept, as Go wedges m0 rather than ending it.
        if (!m->is_m0) {
          m->exiting.store(true, std::memory_order_relaxed);
          handoffp(releasep(m));
        }
        break;
      }
      t->locked_m.store(nullptr, std::memory_order_relaxed);
      t->lock_count = 0;
      gfput(p, t);
      break;
    }
    case SwitchReason::kExitSyscall: {
      // blocking() returned and no P was free. A locked Task waits for its
      // own M to get a P; others go to the global queue for anyone.
      stampRunnable(t);
      t->state.store(TaskState::kRunnable, std::memory_order_release);
      {
        std::lock_guard<std::mutex> l(sched->lock);
        globrunqput(t);
      }
      wakep();
      break;
    }
    case SwitchReason::kNone:
      fatal("task switched to the scheduler without a reason");
  }
  m->reason = SwitchReason::kNone;
}

void execute(Machine* m, Task* t, bool inherit) {
  Processor* p = m->p;
  // Only the M holding p writes these: a load and a store, not a locked add.
  if (!inherit) {
    p->schedtick.store(p->schedtick.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  p->switches.store(p->switches.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (!t->started) {
    t->stack = p->stacks.get(sched->stacks);
    context::prepare(t->ctx, t->stack.bottom, t->stack.size, taskEntry, t);
    t->started = true;
  }
  recordRunnableWait(p, t);
  t->m.store(m, std::memory_order_relaxed);
  t->state.store(TaskState::kRunning, std::memory_order_release);
  m->curg.store(t, std::memory_order_release);
  context::switchTo(m->g0, t->ctx);
  afterSwitch(m, t);
}

void scheduleLoop(Machine* m) {
  for (;;) {
    if (m->affinity_gen != sched->affinity_gen.load(std::memory_order_relaxed)) applyAffinity(m);
    if (m->exiting.load(std::memory_order_relaxed)) return;
    Task* locked = m->lockedg.load(std::memory_order_relaxed);
    if (locked != nullptr) {
      // This M belongs to one Task: wait until it is runnable and a P is
      // handed to us, then run it.
      stopLockedM(m);
      if (sched->shutting_down.load(std::memory_order_acquire)) return;
      execute(m, locked, false);
      continue;
    }
    bool inherit = false;
    Task* t = findRunnable(m, inherit);
    if (t == nullptr) return;
    if (m->spinning.load(std::memory_order_relaxed)) resetSpinning(m);
    Machine* owner = t->locked_m.load(std::memory_order_relaxed);
    if (owner != nullptr && owner != m) {
      startLockedM(m, t);
      continue;
    }
    execute(m, t, inherit);
  }
}

// Go's stoplockedm: give our P away and sleep until our Task is runnable
// and someone hands us a P to run it with.
void stopLockedM(Machine* m) {
  if (m->p != nullptr) handoffp(releasep(m));
  sched->nmidlelocked.fetch_add(1, std::memory_order_relaxed);
  m->blocked.store(true, std::memory_order_relaxed);
  m->park.sleep();
  m->park.clear();
  m->blocked.store(false, std::memory_order_relaxed);
  sched->nmidlelocked.fetch_sub(1, std::memory_order_relaxed);
  if (sched->shutting_down.load(std::memory_order_acquire)) return;
  Processor* p = m->nextp.exchange(nullptr, std::memory_order_acq_rel);
  if (p == nullptr) fatal("stopLockedM: woken without a P");
  acquirep(m, p);
}

// Go's startlockedm: `t` is locked to another M; hand it our P and park.
void startLockedM(Machine* m, Task* t) {
  Machine* locked = t->locked_m.load(std::memory_order_relaxed);
  Processor* p = releasep(m);
  locked->nextp.store(p, std::memory_order_release);
  locked->park.wake();
  stopm(m);
}

}  // namespace

// ---- shared with sysmon and the netpoller ----

int pollNetwork(int64_t timeout_ns, TaskQueue& ready) {
  const int n = sched->poller.poll(timeout_ns, netpollBatch(), ready);
  sched->last_net_poll.store(nanotime(), std::memory_order_relaxed);
  sched->recordPoll(n);
  return n;
}

void injectList(TaskQueue& q) {
  if (q.empty()) return;
  Machine* m = currentMachine();
  Processor* p = m != nullptr ? m->p : nullptr;
  if (p == nullptr) {
    const uint64_t n = q.size;
    {
      std::lock_guard<std::mutex> l(sched->lock);
      globrunqputBatch(q);
    }
    for (uint64_t i = 0; i < n && sched->npidle.load(std::memory_order_acquire) > 0; i++) {
      startm(nullptr, false);
    }
    return;
  }
  // One Task per idle P through the global queue, each with an M to run
  // it: the batch spreads over idle Ps instead of queueing behind us.
  const int idle = sched->npidle.load(std::memory_order_acquire);
  TaskQueue global;
  for (int i = 0; i < idle && !q.empty(); i++) global.pushBack(q.popFront());
  if (!global.empty()) {
    const uint64_t n = global.size;
    {
      std::lock_guard<std::mutex> l(sched->lock);
      globrunqputBatch(global);
    }
    for (uint64_t i = 0; i < n; i++) startm(nullptr, false);
  }
  while (Task* t = q.popFront()) runqput(p, t, false);
  wakep();
}

void startm(Processor* p, bool spinning) {
  Machine* nm;
  {
    std::lock_guard<std::mutex> l(sched->lock);
    if (p == nullptr) {
      p = pidleget();
      if (p == nullptr) {
        if (spinning) sched->nmspinning.fetch_sub(1, std::memory_order_acq_rel);
        return;
      }
    }
    nm = mget();
  }
  if (nm == nullptr) {
    newm(p, spinning);
    return;
  }
  nm->spinning.store(spinning, std::memory_order_relaxed);
  nm->nextp.store(p, std::memory_order_release);
  nm->park.wake();
}

void wakep() {
  // No idle P: nobody to wake. Go 1.19 checks this first too; without it,
  // every spawn and wake-up at workers=1 would take sched.lock for nothing.
  // Racing with a P going idle is harmless: the work is in a running P's
  // queue, and that P will run it.
  if (sched->npidle.load(std::memory_order_acquire) == 0) return;
  if (sched->nmspinning.load(std::memory_order_acquire) != 0) return;
  int32_t expected = 0;
  if (!sched->nmspinning.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) return;
  Processor* p;
  {
    std::lock_guard<std::mutex> l(sched->lock);
    p = pidlegetSpinning();
    if (p == nullptr) {
      sched->nmspinning.fetch_sub(1, std::memory_order_acq_rel);
      return;
    }
  }
  startm(p, true);
}

// Go's handoffp: `p` has no M (taken from a blocking call, or released by a
// locked M). Start an M for it if there is anything it could do, else idle it.
void handoffp(Processor* p) {
  if (!p->runq.empty() || sched->runqsize.load(std::memory_order_acquire) > 0) {
    startm(p, false);
    return;
  }
  if (sched->nmspinning.load(std::memory_order_acquire) +
              sched->npidle.load(std::memory_order_acquire) ==
          0) {
    int32_t expected = 0;
    if (sched->nmspinning.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
      sched->needspinning.store(0, std::memory_order_release);
      startm(p, true);
      return;
    }
  }
  std::unique_lock<std::mutex> l(sched->lock);
  if (sched->runq.size > 0) {
    l.unlock();
    startm(p, false);
    return;
  }
  // The last running P with nobody waiting in the poller: someone must
  // watch timers and I/O.
  if (sched->npidle.load(std::memory_order_acquire) == sched->procs() - 1 &&
      sched->lastpoll.load(std::memory_order_acquire) != 0 && p->id < sched->procs()) {
    l.unlock();
    startm(p, false);
    return;
  }
  const int64_t when = p->timers.nextWhen();
  pidleput(p);
  l.unlock();
  if (when != TimerHeap::kNever) {
    if (sched->lastpoll.load(std::memory_order_acquire) == 0) {
      if (when < sched->poll_until.load(std::memory_order_acquire)) sched->poller.wake();
    } else {
      wakep();
    }
  }
}

// ---- scheduler.h ----

[[gnu::noinline]] Machine* currentMachine() {
  // Not inlined, and opaque to the optimiser: a Task may resume on another
  // thread, so a TLS address computed before a switch must not be reused.
  asm volatile("" ::: "memory");
  return tls_m;
}

Task* currentTask() {
  Machine* m = currentMachine();
  return m == nullptr ? nullptr : m->curg.load(std::memory_order_relaxed);
}

int64_t nanotime() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

int64_t roundNanotime() {
  Machine* m = currentMachine();
  Processor* p = m != nullptr ? m->p : nullptr;
  // Between Tasks (timer callbacks, the poller) a round's value could be
  // arbitrarily old: read the clock.
  if (p == nullptr || m->curg.load(std::memory_order_relaxed) == nullptr) return nanotime();
  if (p->clock_round == p->switches.load(std::memory_order_relaxed)) return p->clock_ns;
  return readRoundClock(p);
}

void park(bool (*commit)(Task* t, void* arg), void* arg, WaitReason reason) {
  Machine* m = currentMachine();
  Task* t = m->curg.load(std::memory_order_relaxed);
  if (t == nullptr) fatal("park called outside a task");
  t->wait_reason.store(reason, std::memory_order_relaxed);
  m->park_commit = commit;
  m->park_arg = arg;
  m->reason = SwitchReason::kPark;
  context::switchTo(t->ctx, m->g0);
  t->wait_reason.store(WaitReason::kNone, std::memory_order_relaxed);
}

bool markRunnable(Task* t) {
  TaskState s = t->state.load(std::memory_order_acquire);
  while (s == TaskState::kParking) {
    if (t->state.compare_exchange_weak(s, TaskState::kWokenWhileParking,
                                       std::memory_order_acq_rel)) {
      return false;
    }
  }
  t->wait_reason.store(WaitReason::kNone, std::memory_order_relaxed);
  stampRunnable(t);
  t->state.store(TaskState::kRunnable, std::memory_order_release);
  return true;
}

void ready(Task* t) {
  if (!markRunnable(t)) return;
  Machine* m = currentMachine();
  if (m != nullptr && m->p != nullptr) {
    runqput(m->p, t, true);
  } else {
    std::lock_guard<std::mutex> l(sched->lock);
    globrunqput(t);
  }
  wakep();
}

uint64_t armWake(Task* t) { return t->wake_seq.fetch_add(1, std::memory_order_acq_rel) + 1; }

bool claimWake(Task* t, uint64_t ticket) {
  uint64_t expected = ticket;
  return t->wake_seq.compare_exchange_strong(expected, ticket + 1, std::memory_order_acq_rel);
}

bool tryWake(Task* t, uint64_t ticket) {
  if (!claimWake(t, ticket)) return false;
  ready(t);
  return true;
}

namespace {
// Arms `t` on p's heap. If it became the earliest there and an M sleeps in
// the poller past it, breaks that wait so the M re-reads the deadline.
void addTimer(Processor* p, Timer* t) {
  if (p->timers.add(t) && sched->lastpoll.load(std::memory_order_acquire) == 0 &&
      t->when < sched->poll_until.load(std::memory_order_acquire)) {
    sched->poller.wake();
  }
}

struct DeadlineParkArgs {
  bool (*commit)(Task*, void*);
  void* arg;
};

void deadlineFired(Timer*, void* arg, uint64_t ticket) {
  auto* t = static_cast<Task*>(arg);
  // Record the timeout before waking: once ready() runs the Task may read it.
  uint64_t expected = ticket;
  if (t->wake_seq.compare_exchange_strong(expected, ticket + 1, std::memory_order_acq_rel)) {
    t->timed_out_seq = ticket;
    ready(t);
  }
}

bool commitWithTimer(Task* t, void* raw) {
  auto* a = static_cast<DeadlineParkArgs*>(raw);
  if (a->commit != nullptr && !a->commit(t, a->arg)) return false;
  if (t->sleep_timer.when == INT64_MAX) return true;  // no deadline
  addTimer(currentMachine()->p, &t->sleep_timer);
  return true;
}
}  // namespace

bool parkUntil(int64_t deadline_ns, uint64_t ticket, bool (*commit)(Task* t, void* arg),
               void* arg, WaitReason reason) {
  Task* t = currentTask();
  t->timed_out_seq = 0;
  t->sleep_timer.when = deadline_ns;
  t->sleep_timer.fn = deadlineFired;
  t->sleep_timer.arg = t;
  t->sleep_timer.seq = ticket;
  DeadlineParkArgs a{commit, arg};
  park(commitWithTimer, &a, reason);
  if (t->timed_out_seq == ticket) return false;
  // Woken by someone else: disarm. If the timer is firing right now its
  // CAS fails against our consumed ticket, so it does nothing.
  if (deadline_ns != INT64_MAX) timerStop(&t->sleep_timer);
  return true;
}

void checkPreempt() {
  Task* t = currentTask();
  if (t != nullptr && t->preempt.load(std::memory_order_relaxed)) rt::yield_if_preempted();
}

}  // namespace rt::internal

// ======================= public API (runtime.h) =========================

namespace rt {

using namespace rt::internal;

namespace detail {

Task* allocTask() {
  Machine* m = currentMachine();
  Processor* p = m != nullptr ? m->p : nullptr;
  Task* t = nullptr;
  if (p != nullptr) {
    t = p->gfree.popFront();
    if (t == nullptr && sched->ngfree.load(std::memory_order_relaxed) > 0) {
      std::lock_guard<std::mutex> l(sched->lock);
      while (p->gfree.size < kLocalFreeKeep && !sched->gfree.empty()) {
        p->gfree.pushBack(sched->gfree.popFront());
      }
      sched->ngfree.store(sched->gfree.size, std::memory_order_relaxed);
      t = p->gfree.popFront();
    }
  } else {
    std::lock_guard<std::mutex> l(sched->lock);
    t = sched->gfree.popFront();
    sched->ngfree.store(sched->gfree.size, std::memory_order_relaxed);
  }
  if (t == nullptr) {
    t = new Task();
    context::createSanitizerFiber(t->ctx);
    std::lock_guard<std::mutex> l(sched->allg_lock);
    sched->allgs.push_back(t);
  }
  if (p != nullptr) {
    if (p->goid_next == p->goid_end) {
      p->goid_next = sched->goidgen.fetch_add(kGoidBatch, std::memory_order_relaxed) + 1;
      p->goid_end = p->goid_next + kGoidBatch;
    }
    t->id = p->goid_next++;
  } else {
    t->id = sched->goidgen.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  t->preempt.store(false, std::memory_order_relaxed);
  t->track_all = false;
  t->sched_delay_ns = 0;
  t->locked_m.store(nullptr, std::memory_order_relaxed);
  t->lock_count = 0;
  t->wait_reason.store(WaitReason::kNone, std::memory_order_relaxed);
  return t;
}

void startTask(Task* t) {
  sched->tasks_spawned.fetch_add(1, std::memory_order_relaxed);
  stampRunnable(t);
  t->state.store(TaskState::kRunnable, std::memory_order_release);
  Machine* m = currentMachine();
  if (m != nullptr && m->p != nullptr) {
    runqput(m->p, t, true);
    wakep();
    checkPreempt();
  } else {
    {
      std::lock_guard<std::mutex> l(sched->lock);
      globrunqput(t);
    }
    wakep();
  }
}

void enterBlocking() {
  Machine* m = currentMachine();
  Task* t = m->curg.load(std::memory_order_relaxed);
  Processor* p = m->p;
  t->state.store(TaskState::kSyscall, std::memory_order_release);
  p->syscalltick.fetch_add(1, std::memory_order_relaxed);
  m->oldp = p;
  p->m.store(nullptr, std::memory_order_relaxed);
  m->p = nullptr;
  if (p->id >= sched->procs()) {
    // A P removed by set_workers() retires when its Task next enters the
    // scheduler, which this call may delay for long, and sysmon only hands
    // off the Ps in service: its queued Tasks and timers would wait for the
    // call. Retire it now; exitBlocking() finds it dead and finds another.
    bool retired = false;
    {
      std::lock_guard<std::mutex> l(sched->lock);
      if (p->id >= sched->procs()) {
        retirePLocked(p);
        retired = true;
      }
    }
    if (retired) {
      sched->poller.wake();
      wakep();
      return;
    }
  }
  // Release: sysmon (or another M) that CASes the P away sees it complete.
  p->status.store(ProcStatus::kSyscall, std::memory_order_release);
  if (sched->sysmonwait.load(std::memory_order_relaxed)) wakeSysmon();
}

void exitBlocking() {
  Machine* m = currentMachine();
  Task* t = m->curg.load(std::memory_order_relaxed);
  Processor* oldp = m->oldp;
  m->oldp = nullptr;
  const bool stopping = sched->shutting_down.load(std::memory_order_acquire);
  ProcStatus expected = ProcStatus::kSyscall;
  if (!stopping && oldp->status.compare_exchange_strong(expected, ProcStatus::kRunning,
                                                        std::memory_order_acq_rel)) {
    // Fast path: nobody took our P.
    m->p = oldp;
    oldp->m.store(m, std::memory_order_relaxed);
    oldp->syscalltick.fetch_add(1, std::memory_order_relaxed);
    t->state.store(TaskState::kRunning, std::memory_order_release);
    return;
  }
  Processor* p = nullptr;
  if (!stopping) {
    std::lock_guard<std::mutex> l(sched->lock);
    p = pidleget();
  }
  if (p != nullptr) {
    acquirep(m, p);
    p->syscalltick.fetch_add(1, std::memory_order_relaxed);
    t->state.store(TaskState::kRunning, std::memory_order_release);
    return;
  }
  // No P: queue the Task and let this M sleep (Go's exitsyscall0).
  m->reason = SwitchReason::kExitSyscall;
  context::switchTo(t->ctx, m->g0);
  // Resumed, with a P, possibly on another thread.
}

}  // namespace detail

bool inTask() { return currentTask() != nullptr; }

uint64_t currentTaskId() {
  Task* t = currentTask();
  return t == nullptr ? 0 : t->id;
}

void yield() {
  Machine* m = currentMachine();
  Task* t = m->curg.load(std::memory_order_relaxed);
  t->preempt.store(false, std::memory_order_relaxed);
  m->reason = SwitchReason::kYield;
  context::switchTo(t->ctx, m->g0);
}

bool yield_if_preempted() {
  Machine* m = currentMachine();
  Task* t = m == nullptr ? nullptr : m->curg.load(std::memory_order_relaxed);
  if (t == nullptr || !t->preempt.load(std::memory_order_relaxed)) return false;
  t->preempt.store(false, std::memory_order_relaxed);
  m->reason = SwitchReason::kPreempted;
  context::switchTo(t->ctx, m->g0);
  return true;
}

void sleep_until(std::chrono::steady_clock::time_point deadline) {
  // steady_clock is CLOCK_MONOTONIC on Linux, the clock timers use.
  const int64_t when =
      std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
  if (when <= nanotime()) {
    checkPreempt();
    return;
  }
  Task* t = currentTask();
  uint64_t ticket = armWake(t);
  parkUntil(when, ticket, nullptr, nullptr, WaitReason::kSleep);
}

void sleep_for(std::chrono::nanoseconds d) {
  sleep_until(std::chrono::steady_clock::now() + d);
}

void lock_os_thread() {
  Machine* m = currentMachine();
  Task* t = m->curg.load(std::memory_order_relaxed);
  t->lock_count++;
  t->locked_m.store(m, std::memory_order_relaxed);
  m->lockedg.store(t, std::memory_order_relaxed);
}

void unlock_os_thread() {
  Machine* m = currentMachine();
  Task* t = m->curg.load(std::memory_order_relaxed);
  if (t->lock_count == 0) return;
  if (--t->lock_count == 0) {
    t->locked_m.store(nullptr, std::memory_order_relaxed);
    m->lockedg.store(nullptr, std::memory_order_relaxed);
  }
}

int workers() { return sched->procs(); }

std::chrono::steady_clock::time_point coarse_now() {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(internal::roundNanotime()));
}

int current_worker() {
  Machine* m = currentMachine();
  return m != nullptr && m->p != nullptr ? m->p->id : -1;
}

void track_sched_delay(bool on) {
  Task* t = currentTask();
  if (t != nullptr) t->track_all = on;
}

std::chrono::nanoseconds sched_delay() {
  Task* t = currentTask();
  return std::chrono::nanoseconds(t != nullptr ? t->sched_delay_ns : 0);
}

namespace {
// Go's procresize, with sched.lock held. Returns true if Ps were added.
bool resizeLocked(int n) {
  bool grew = false;
  {
    const int old = sched->procs();
    if (n == old) return false;
    std::vector<int> cpus;
    AffinityMode mode;
    {
      std::lock_guard<std::mutex> al(sched->affinity_mu);
      cpus = sched->cpus;
      mode = sched->affinity_mode;
    }
    for (int i = old; i < n; i++) {
      Processor* p = sched->proc(i);
      if (p == nullptr) {
        p = new Processor();
        p->id = i;
        p->rand_state = static_cast<uint32_t>(i * 2654435761u + 1);
        sched->allp[i].store(p, std::memory_order_release);
      }
      p->pinned_cpu.store(mode == AffinityMode::kPin ? cpus[i % cpus.size()] : -1,
                          std::memory_order_relaxed);
    }
    sched->gomaxprocs.store(n, std::memory_order_release);
    if (n > old) {
      grew = true;
      for (int i = old; i < n; i++) {
        Processor* p = sched->proc(i);
        // A P that was shrunk away but whose M has not retired it yet is
        // still running; it simply stays in service.
        if (p->status.load(std::memory_order_acquire) == ProcStatus::kDead) pidleput(p);
      }
    } else {
      // Idle Ps beyond n are retired now; running ones retire themselves
      // at their next scheduling round (asked to hurry by a preempt flag).
      Processor** link = &sched->pidle;
      while (*link != nullptr) {
        Processor* p = *link;
        if (p->id >= n) {
          *link = p->link;
          sched->npidle.fetch_sub(1, std::memory_order_acq_rel);
          retirePLocked(p);
        } else {
          link = &p->link;
        }
      }
      for (int i = n; i < old; i++) {
        Processor* p = sched->proc(i);
        ProcStatus expected = ProcStatus::kSyscall;
        if (p->status.compare_exchange_strong(expected, ProcStatus::kIdle,
                                              std::memory_order_acq_rel)) {
          // Its Task is inside rt::blocking(): take the P, as sysmon's
          // retake would, and retire it now rather than when the call
          // returns; exitBlocking() then finds it dead and finds another.
          retirePLocked(p);
          continue;
        }
        Machine* pm = p->m.load(std::memory_order_relaxed);
        Task* cur = pm != nullptr ? pm->curg.load(std::memory_order_relaxed) : nullptr;
        if (cur != nullptr) cur->preempt.store(true, std::memory_order_relaxed);
      }
    }
  }
  return grew;
}
}  // namespace

void set_workers(int n) {
  n = std::clamp(n, 1, kMaxProcs);
  bool grew;
  {
    std::lock_guard<std::mutex> l(sched->lock);
    grew = resizeLocked(n);
  }
  // New Ps need Ms; retired idle Ps handed timers to P0, which must be
  // watched by some M even if every P is idle now.
  (void)grew;
  sched->poller.wake();
  wakep();
}

bool set_affinity(const std::vector<int>& cpus_in, AffinityMode mode) {
  const std::vector<int>& allowed = sched->allowed;
  std::vector<int> cpus = cpus_in.empty() ? allowed : cpus_in;
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  for (int c : cpus) {
    if (!std::binary_search(allowed.begin(), allowed.end(), c)) return false;
  }
  if (mode == AffinityMode::kNone) cpus = allowed;
  {
    std::lock_guard<std::mutex> l(sched->lock);
    std::lock_guard<std::mutex> al(sched->affinity_mu);
    sched->cpus = cpus;
    sched->affinity_mode = mode;
    for (int i = 0; i < kMaxProcs; i++) {
      Processor* p = sched->proc(i);
      if (p == nullptr) break;
      p->pinned_cpu.store(mode == AffinityMode::kPin ? cpus[i % cpus.size()] : -1,
                          std::memory_order_relaxed);
    }
    sched->affinity_gen.fetch_add(1, std::memory_order_acq_rel);
  }
  // Running Ms apply it at their next scheduling round; make one happen.
  Machine* m = currentMachine();
  if (m != nullptr) applyAffinity(m);
  wakeSysmon();
  return true;
}

void CallbackTimer::fire(internal::Timer*, void* self, uint64_t) {
  auto* ct = static_cast<CallbackTimer*>(self);
  // Copy first: the callback may free the object that holds this timer.
  Fn fn = ct->fn_;
  void* arg = ct->arg_;
  fn(arg);
}

void CallbackTimer::arm(std::chrono::steady_clock::time_point deadline, Fn fn, void* arg) {
  fn_ = fn;
  arg_ = arg;
  timer_.when =
      std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
  timer_.fn = &CallbackTimer::fire;
  timer_.arg = this;
  timer_.seq = 0;
  Machine* m = currentMachine();
  addTimer(m != nullptr && m->p != nullptr ? m->p : sched->proc(0), &timer_);
}

bool CallbackTimer::cancel() { return timerStop(&timer_); }

void set_poller_handoff_interval(std::chrono::nanoseconds d) {
  // Bounds: below 50us sysmon would poll more than it sleeps; above 1s a
  // busy server would hide ready connections for seconds.
  int64_t ns = std::clamp<int64_t>(d.count(), 50'000, 1'000'000'000);
  sched->handoff_interval_ns.store(ns, std::memory_order_relaxed);
  wakeSysmon();
}

std::chrono::nanoseconds poller_handoff_interval() {
  return std::chrono::nanoseconds(sched->handoff_interval_ns.load(std::memory_order_relaxed));
}

void set_netpoll_batch(int n) { setNetpollBatch(std::clamp(n, 1, 65536)); }
int netpoll_batch() { return netpollBatch(); }

void set_schedtrace(std::chrono::milliseconds period, bool detailed) {
  sched->schedtrace_ms.store(period.count(), std::memory_order_relaxed);
  sched->scheddetail.store(detailed, std::memory_order_relaxed);
  wakeSysmon();
}

int run(const Options& opts_in, std::function<void()> main_task) {
  if (sched != nullptr) fatal("rt::run: a runtime is already running in this process");
  Options opts = applyDebugEnv(opts_in, std::getenv("SWITCHYARD_DEBUG"));
  if (opts.workers <= 0) opts.workers = defaultWorkers();
  opts.workers = std::clamp(opts.workers, 1, kMaxProcs);
  sched = new Scheduler(opts);
  sched->start_ns = nanotime();
  sched->schedtrace_ms.store(opts.schedtrace.count(), std::memory_order_relaxed);
  sched->scheddetail.store(opts.scheddetail, std::memory_order_relaxed);
  set_poller_handoff_interval(opts.poller_handoff_interval);
  set_netpoll_batch(opts.netpoll_batch);
  // M0 is the caller's thread: it gets its own CPU mask back at the end.
  cpu_set_t caller_cpus;
  const bool have_caller_cpus = sched_getaffinity(0, sizeof caller_cpus, &caller_cpus) == 0;
  // Block the notify signals before any runtime thread exists: threads
  // inherit the mask, so none of them takes a default action.
  sigset_t old_mask;
  {
    sigset_t block;
    sigemptyset(&block);
    for (int sig : opts.notify_signals) sigaddset(&block, sig);
    pthread_sigmask(SIG_BLOCK, &block, &old_mask);
  }
  {
    std::vector<int> allowed = allowedCpus();
    sched->allowed = allowed;
    std::vector<int> cpus = opts.cpu_affinity;
    bool ok = true;
    for (int c : cpus) ok = ok && std::binary_search(allowed.begin(), allowed.end(), c);
    if (cpus.empty() || !ok || opts.affinity_mode == AffinityMode::kNone) {
      if (!ok) std::fprintf(stderr, "switchyard runtime: cpu_affinity outside allowed CPUs; ignored\n");
      cpus = allowed;
    }
    sched->cpus = cpus;
    sched->affinity_mode = ok ? opts.affinity_mode : AffinityMode::kNone;
  }

  auto* m0 = new Machine();
  m0->id = sched->mnext.fetch_add(1, std::memory_order_relaxed);
  m0->is_m0 = true;
  m0->thread = pthread_self();
  m0->tid = static_cast<pid_t>(syscall(SYS_gettid));
  sched->allm.push_back(m0);
  sched->mcount.store(1, std::memory_order_relaxed);
  tls_m = m0;
  context::adoptThreadStack(m0->g0);

  {
    std::lock_guard<std::mutex> l(sched->lock);
    resizeLocked(opts.workers);
    // Take P0 for M0 (the idle list is LIFO).
    Processor** link = &sched->pidle;
    while (*link != nullptr && (*link)->id != 0) link = &(*link)->link;
    Processor* p0 = *link;
    *link = p0->link;
    sched->npidle.fetch_sub(1, std::memory_order_acq_rel);
    acquirep(m0, p0);
  }

  go([fn = std::move(main_task)]() mutable {
    fn();
    // Main returned: stop the world for good (Go exits the process here).
    sched->shutting_down.store(true, std::memory_order_release);
    std::vector<Machine*> ms;
    {
      std::lock_guard<std::mutex> l(sched->lock);
      ms = sched->allm;
    }
    for (Machine* m : ms) m->park.wake();
    sched->poller.wake();
    sched->sysmon_note.wake();
  });
  sched->sysmon = std::thread(sysmonMain);

  scheduleLoop(m0);

  // Teardown: every other M leaves its loop once it sees shutting_down.
  sched->sysmon_note.wake();
  sched->sysmon.join();
  std::vector<Machine*> ms;
  {
    std::lock_guard<std::mutex> l(sched->lock);
    ms = sched->allm;
  }
  for (Machine* m : ms) {
    if (!m->is_m0) {
      m->park.wake();
      sched->poller.wake();
      pthread_join(m->thread, nullptr);
    }
  }
  for (Task* t : sched->allgs) {
    if (t->stack) sched->stacks.release(&t->stack, 1);
    if (t->closure != nullptr && t->destroy != nullptr && !t->started) t->destroy(t->closure);
    context::destroySanitizerFiber(t->ctx);
    delete t;
  }
  for (int i = 0; i < kMaxProcs; i++) {
    Processor* p = sched->proc(i);
    if (p == nullptr) continue;
    p->stacks.drain(sched->stacks);
    delete p;
  }
  for (Machine* m : ms) delete m;
  tls_m = nullptr;
  delete sched;
  sched = nullptr;
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  if (have_caller_cpus) sched_setaffinity(0, sizeof caller_cpus, &caller_cpus);
  return 0;
}

}  // namespace rt

namespace rt::internal {

Scheduler::Scheduler(const Options& o) : opts(o), stacks(o.stack_size) {}

}  // namespace rt::internal
