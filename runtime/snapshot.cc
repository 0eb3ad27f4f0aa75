// rt::snapshot(): reads the scheduler's state for traces and metrics.
#include <cstdio>
#include <unordered_map>

#include "runtime/runtime.h"
#include "runtime/scheduler.h"
#include "runtime/scheduler_state.h"

namespace rt::internal {

const char* waitReasonName(WaitReason r) {
  switch (r) {
    case WaitReason::kNone: return "";
    case WaitReason::kSleep: return "sleep";
    case WaitReason::kChanSend: return "chan send";
    case WaitReason::kChanReceive: return "chan receive";
    case WaitReason::kMutex: return "sync.Mutex.Lock";
    case WaitReason::kCondVar: return "sync.Cond.Wait";
    case WaitReason::kWaitGroup: return "sync.WaitGroup.Wait";
    case WaitReason::kIoWait: return "IO wait";
    case WaitReason::kLockedThread: return "locked thread";
    case WaitReason::kPreempted: return "preempted";
  }
  return "";
}

void emitSchedTrace(bool detailed) {
  std::string text = formatSchedTrace(rt::snapshot(detailed), detailed);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

}  // namespace rt::internal

namespace rt {
using namespace rt::internal;

SchedSnapshot snapshot(bool with_tasks) {
  SchedSnapshot s;
  std::unordered_map<const Machine*, int64_t> p_of_m;
  {
    std::lock_guard<std::mutex> l(sched->lock);
    s.uptime_ms = (nanotime() - sched->start_ns) / 1'000'000;
    s.gomaxprocs = sched->procs();
    s.idleprocs = sched->npidle.load(std::memory_order_relaxed);
    s.threads = sched->mcount.load(std::memory_order_relaxed);
    s.spinningthreads = sched->nmspinning.load(std::memory_order_relaxed);
    s.needspinning = sched->needspinning.load(std::memory_order_relaxed);
    s.idlethreads = sched->nmidle;
    s.runqueue = sched->runq.size;
    s.nmidlelocked = sched->nmidlelocked.load(std::memory_order_relaxed);
    s.sysmonwait = sched->sysmonwait.load(std::memory_order_relaxed);
    for (int i = 0; i < s.gomaxprocs; i++) {
      Processor* p = sched->proc(i);
      if (p == nullptr) continue;
      ProcessorSnapshot ps;
      ps.id = p->id;
      ps.status = static_cast<int>(p->status.load(std::memory_order_relaxed));
      ps.schedtick = p->schedtick.load(std::memory_order_relaxed);
      ps.syscalltick = p->syscalltick.load(std::memory_order_relaxed);
      Machine* m = p->m.load(std::memory_order_acquire);
      ps.m = m != nullptr ? m->id : -1;
      if (m != nullptr) p_of_m[m] = p->id;
      ps.runqsize = p->runq.size();
      ps.timerslen = p->timers.size();
      ps.steals = p->steals.load(std::memory_order_relaxed);
      s.processors.push_back(ps);
    }
    // Cumulative counters add up every P ever created, including ones a
    // shrink retired, so that they never go backwards.
    s.sched_latency_counts.assign(Processor::kLatencyBuckets, 0);
    for (int i = 0; i < kMaxProcs; i++) {
      Processor* p = sched->proc(i);
      if (p == nullptr) break;
      for (int b = 0; b < Processor::kLatencyBuckets; b++) {
        s.sched_latency_counts[b] += p->latency_counts[b].load(std::memory_order_relaxed);
      }
      s.sched_latency_sum_ns += p->latency_sum_ns.load(std::memory_order_relaxed);
      s.steals += p->steals.load(std::memory_order_relaxed);
      s.context_switches += p->switches.load(std::memory_order_relaxed);
    }
    for (Machine* m : sched->allm) {
      if (m->exiting.load(std::memory_order_relaxed)) continue;
      MachineSnapshot ms;
      ms.id = m->id;
      auto it = p_of_m.find(m);
      ms.p = it == p_of_m.end() ? -1 : it->second;
      Task* cur = m->curg.load(std::memory_order_acquire);
      ms.curg = cur != nullptr ? static_cast<int64_t>(cur->id) : -1;
      ms.spinning = m->spinning.load(std::memory_order_relaxed);
      ms.blocked = m->blocked.load(std::memory_order_relaxed);
      Task* locked = m->lockedg.load(std::memory_order_acquire);
      ms.lockedg = locked != nullptr ? static_cast<int64_t>(locked->id) : -1;
      s.machines.push_back(ms);
    }
  }
  s.sched_latency_bounds_ns = {1'000,     5'000,     10'000,     50'000,
                                100'000,   500'000,   1'000'000,  5'000'000,
                                10'000'000, 50'000'000, 100'000'000};
  s.tasks_spawned = sched->tasks_spawned.load(std::memory_order_relaxed);
  s.tasks_live = s.tasks_spawned - sched->tasks_exited.load(std::memory_order_relaxed);
  s.sysmon_retakes = sched->retakes.load(std::memory_order_relaxed);
  s.sysmon_preempt_requests = sched->preempt_requests.load(std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> l(sched->affinity_mu);
    s.affinity_cpus = sched->cpus;
    s.affinity_mode = affinityModeName(sched->affinity_mode);
  }
  StackStats st = sched->stacks.stats();
  s.stacks_mapped = st.mapped;
  s.stacks_unguarded = st.unguarded;
  s.poller_handoff_interval_ns = sched->handoff_interval_ns.load(std::memory_order_relaxed);
  s.netpoll_batch = netpollBatch();
  s.netpoll_waiters = sched->poller.waiters();
  s.netpoll_blocking_waits = sched->blocking_polls.load(std::memory_order_relaxed);
  s.netpoll_forced_polls = sched->forced_polls.load(std::memory_order_relaxed);
  s.netpoll_events = sched->poll_events_total.load(std::memory_order_relaxed);
  for (auto& b : sched->poll_events_hist) {
    s.netpoll_events_per_poll.push_back(b.load(std::memory_order_relaxed));
  }
  if (with_tasks) {
    std::lock_guard<std::mutex> l(sched->allg_lock);
    for (Task* t : sched->allgs) {
      TaskState state = t->state.load(std::memory_order_acquire);
      if (state == TaskState::kDead || state == TaskState::kIdle) continue;
      TaskSnapshot ts;
      ts.id = t->id;
      ts.status = static_cast<int>(state);
      if (state == TaskState::kParking) ts.status = static_cast<int>(TaskState::kWaiting);
      if (state == TaskState::kWokenWhileParking) ts.status = static_cast<int>(TaskState::kRunnable);
      ts.wait_reason = waitReasonName(t->wait_reason.load(std::memory_order_relaxed));
      Machine* m = t->m.load(std::memory_order_relaxed);
      ts.m = m != nullptr ? m->id : -1;
      Machine* lm = t->locked_m.load(std::memory_order_relaxed);
      ts.lockedm = lm != nullptr ? lm->id : -1;
      s.tasks.push_back(std::move(ts));
    }
  }
  return s;
}

}  // namespace rt
