// sysmon: a thread without a P that watches the Ps (Go's sysmon).
//
// It wakes every 20us while it finds something to do, doubling its sleep
// after 50 idle rounds up to 10ms, and sleeps deeply while every P is idle
// (an idle process costs no wake-ups). Each round it:
//   - retakes a P whose M has sat in rt::blocking() for over one tick
//     (>= 20us) and hands it to another M (handoffp), unless the P has no
//     work, other Ms are spinning or idle, and the call is younger than 10ms
//     (Go's retake rule: do not pay a thread hand-off for nothing);
//   - asks a Task that has run for 10ms without a scheduling round to yield
//     (the flag is honoured at runtime calls and yield_if_preempted());
//   - polls the network when nothing did for poller_handoff_interval (all
//     Ps busy), and injects the Tasks that became ready;
//   - prints schedtrace lines when enabled.
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cstdio>

#include "runtime/scheduler.h"
#include "runtime/scheduler_state.h"

namespace rt::internal {
namespace {

constexpr int64_t kSysmonMinDelayUs = 20;
constexpr int64_t kSysmonMaxDelayUs = 10'000;
constexpr int kIdleRoundsBeforeBackoff = 50;
// A blocked call younger than this keeps its P when nothing needs it.
constexpr int64_t kSyscallGraceNs = 10'000'000;

void preemptOne(Processor* p) {
  Machine* m = p->m.load(std::memory_order_acquire);
  if (m == nullptr) return;
  Task* t = m->curg.load(std::memory_order_acquire);
  if (t == nullptr || t->state.load(std::memory_order_acquire) != TaskState::kRunning) return;
  if (!t->preempt.exchange(true, std::memory_order_relaxed)) {
    sched->preempt_requests.fetch_add(1, std::memory_order_relaxed);
  }
}

int retake(int64_t now) {
  int taken = 0;
  const int n = sched->procs();
  for (int i = 0; i < n; i++) {
    Processor* p = sched->proc(i);
    if (p == nullptr) continue;
    ProcStatus st = p->status.load(std::memory_order_acquire);
    if (st == ProcStatus::kRunning) {
      uint32_t tick = p->schedtick.load(std::memory_order_relaxed);
      if (p->sysmon_schedtick != tick) {
        p->sysmon_schedtick = tick;
        p->sysmon_schedwhen = now;
      } else if (p->sysmon_schedwhen + kForcePreemptNs <= now) {
        preemptOne(p);
      }
      continue;
    }
    if (st != ProcStatus::kSyscall) continue;
    uint32_t stick = p->syscalltick.load(std::memory_order_relaxed);
    if (p->sysmon_syscalltick != stick) {
      // First sighting of this call: give it one tick.
      p->sysmon_syscalltick = stick;
      p->sysmon_syscallwhen = now;
      continue;
    }
    if (p->runq.empty() &&
        sched->nmspinning.load(std::memory_order_acquire) +
                sched->npidle.load(std::memory_order_acquire) >
            0 &&
        p->sysmon_syscallwhen + kSyscallGraceNs > now) {
      continue;
    }
    ProcStatus expected = ProcStatus::kSyscall;
    if (p->status.compare_exchange_strong(expected, ProcStatus::kIdle,
                                          std::memory_order_acq_rel)) {
      taken++;
      sched->retakes.fetch_add(1, std::memory_order_relaxed);
      handoffp(p);
    }
  }
  return taken;
}

// The poller hand-off: if nothing polled the network for the configured
// interval while no M waits in the poller (every P busy), poll here and
// queue what became ready. Tasks that have run longer than the interval are
// then asked to yield, so a ready connection waits about one interval, not
// a full 10 ms time slice. Returns true if that made Tasks runnable.
bool forcePoll(int64_t now) {
  if (sched->poller.waiters() == 0) return false;
  if (sched->lastpoll.load(std::memory_order_acquire) == 0) return false;  // an M waits in it
  const int64_t interval = sched->handoff_interval_ns.load(std::memory_order_relaxed);
  if (sched->last_net_poll.load(std::memory_order_relaxed) + interval > now) return false;
  TaskQueue ready;
  pollNetwork(0, ready);
  sched->forced_polls.fetch_add(1, std::memory_order_relaxed);
  if (ready.empty()) return false;
  injectList(ready);
  const int n = sched->procs();
  for (int i = 0; i < n; i++) {
    Processor* p = sched->proc(i);
    if (p != nullptr && p->status.load(std::memory_order_acquire) == ProcStatus::kRunning &&
        p->sysmon_schedwhen + interval <= now) {
      preemptOne(p);
    }
  }
  return true;
}

void applySysmonAffinity(uint64_t& applied_gen) {
  uint64_t gen = sched->affinity_gen.load(std::memory_order_acquire);
  if (gen == applied_gen) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  {
    std::lock_guard<std::mutex> l(sched->affinity_mu);
    for (int c : sched->cpus) CPU_SET(c, &set);
  }
  sched_setaffinity(0, sizeof set, &set);
  applied_gen = gen;
}

}  // namespace

void wakeSysmon() { sched->sysmon_note.wake(); }

void sysmonMain() {
  pthread_setname_np(pthread_self(), "sy-sysmon");
  uint64_t affinity_gen = 0;
  int idle = 0;
  int64_t delay_us = kSysmonMinDelayUs;
  int64_t last_trace = nanotime();
  while (!sched->shutting_down.load(std::memory_order_acquire)) {
    applySysmonAffinity(affinity_gen);
    if (idle == 0) {
      delay_us = kSysmonMinDelayUs;
    } else if (idle > kIdleRoundsBeforeBackoff) {
      delay_us = std::min(delay_us * 2, kSysmonMaxDelayUs);
    }
    const int64_t trace_ms = sched->schedtrace_ms.load(std::memory_order_relaxed);
    if (trace_ms <= 0 && sched->npidle.load(std::memory_order_seq_cst) == sched->procs() &&
        sched->poller.waiters() == 0) {
      // Deep sleep until a P becomes busy (acquirep/enterBlocking wake us).
      sched->sysmonwait.store(true, std::memory_order_seq_cst);
      if (sched->npidle.load(std::memory_order_seq_cst) == sched->procs()) {
        sched->sysmon_note.sleepFor(1'000'000'000);
      }
      sched->sysmonwait.store(false, std::memory_order_seq_cst);
      sched->sysmon_note.clear();
      idle = 0;
      continue;
    }
    int64_t delay_ns = delay_us * 1000;
    if (sched->poller.waiters() > 0) {
      // Wake at least once per hand-off interval while connections wait.
      delay_ns = std::min(delay_ns, sched->handoff_interval_ns.load(std::memory_order_relaxed));
    }
    sched->sysmon_note.sleepFor(delay_ns);
    sched->sysmon_note.clear();
    if (sched->shutting_down.load(std::memory_order_acquire)) break;
    const int64_t now = nanotime();
    const bool polled = forcePoll(now);
    if (retake(now) > 0 || polled) {
      idle = 0;
    } else {
      idle++;
    }
    if (trace_ms > 0 && now - last_trace >= trace_ms * 1'000'000) {
      last_trace = now;
      emitSchedTrace(sched->scheddetail.load(std::memory_order_relaxed));
    }
  }
}

}  // namespace rt::internal
