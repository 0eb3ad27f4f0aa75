#include "runtime/sync/sync.h"

#include <cstdio>
#include <cstdlib>

#include "runtime/scheduler.h"

namespace rt {

using internal::SpinLock;
using internal::Task;
using internal::Waiter;
using internal::WaitReason;

namespace {

// Go's starvationThresholdNs.
constexpr int64_t kStarvationNs = 1'000'000;

bool unlockSpin(Task*, void* lock) {
  static_cast<SpinLock*>(lock)->unlock();
  return true;
}

[[noreturn]] void fatal(const char* msg) {
  std::fprintf(stderr, "switchyard runtime: fatal: %s\n", msg);
  std::abort();
}

}  // namespace

void Mutex::lockSlow() {
  internal::checkPreempt();
  Task* self = internal::currentTask();
  if (self == nullptr) fatal("rt::Mutex used outside a task");
  Waiter me;
  me.task = self;
  me.since_ns = internal::nanotime();
  bool requeue_front = false;
  for (;;) {
    // Brief optimistic spin: the holder is likely running on another P.
    for (int i = 0; i < 30; i++) {
      if (try_lock()) return;
#if defined(__x86_64__)
      __builtin_ia32_pause();
#endif
    }
    qlock_.lock();
    uint32_t s = state_.load(std::memory_order_relaxed);
    bool queued = false;
    while (!queued) {
      if ((s & kLocked) == 0) {
        if (state_.compare_exchange_weak(s, s | kLocked, std::memory_order_acquire)) {
          qlock_.unlock();
          return;
        }
      } else if (state_.compare_exchange_weak(s, s | kHasWaiters, std::memory_order_relaxed)) {
        queued = true;
      }
    }
    me.granted = false;
    if (requeue_front) {
      waiters_.pushFront(&me);  // a woken waiter that lost a race keeps its place
    } else {
      waiters_.pushBack(&me);
    }
    internal::park(unlockSpin, &qlock_, WaitReason::kMutex);
    if (me.granted) return;  // handed over directly: we own it
    requeue_front = true;
  }
}

void Mutex::unlockSlow() {
  qlock_.lock();
  Waiter* w = waiters_.popFront();
  const uint32_t rest = waiters_.empty() ? 0 : kHasWaiters;
  bool handoff = w != nullptr && internal::nanotime() - w->since_ns > kStarvationNs;
  uint32_t s = state_.load(std::memory_order_relaxed);
  if ((s & kLocked) == 0) fatal("rt::Mutex unlock of an unlocked mutex");
  // Store (not CAS): with kHasWaiters set no fast path can change state.
  state_.store(handoff ? (kLocked | rest) : rest, std::memory_order_release);
  if (w != nullptr) w->granted = handoff;
  Task* t = w != nullptr ? w->task : nullptr;
  qlock_.unlock();
  if (t != nullptr) internal::ready(t);
}

namespace {
struct CondWaitArgs {
  SpinLock* qlock;
  Mutex* mu;
};
bool condCommit(Task*, void* raw) {
  auto* a = static_cast<CondWaitArgs*>(raw);
  a->qlock->unlock();
  a->mu->unlock();
  return true;
}
}  // namespace

void CondVar::wait(Mutex& mu) {
  Task* self = internal::currentTask();
  Waiter me;
  me.task = self;
  me.ticket = internal::armWake(self);
  qlock_.lock();
  waiters_.pushBack(&me);
  CondWaitArgs args{&qlock_, &mu};
  internal::park(condCommit, &args, WaitReason::kCondVar);
  mu.lock();
}

bool CondVar::wait_for(Mutex& mu, std::chrono::nanoseconds timeout) {
  Task* self = internal::currentTask();
  Waiter me;
  me.task = self;
  me.ticket = internal::armWake(self);
  qlock_.lock();
  waiters_.pushBack(&me);
  CondWaitArgs args{&qlock_, &mu};
  const bool notified = internal::parkUntil(internal::nanotime() + timeout.count(), me.ticket,
                                            condCommit, &args, WaitReason::kCondVar);
  if (!notified) {
    qlock_.lock();
    if (waiters_.contains(&me)) waiters_.remove(&me);
    qlock_.unlock();
  }
  mu.lock();
  return notified;
}

void CondVar::notify_one() {
  for (;;) {
    qlock_.lock();
    Waiter* w = waiters_.popFront();
    if (w == nullptr) {
      qlock_.unlock();
      return;
    }
    Task* t = w->task;
    uint64_t ticket = w->ticket;
    qlock_.unlock();
    // A waiter whose timeout already fired does not consume the notify.
    if (internal::tryWake(t, ticket)) return;
  }
}

void CondVar::notify_all() {
  // Wake the waiters present now, one at a time: a Waiter lives on its
  // Task's stack and a timed-out Task may unlink itself and return, so
  // (task, ticket) must be copied while qlock_ is held.
  qlock_.lock();
  size_t present = waiters_.size();
  qlock_.unlock();
  for (size_t i = 0; i < present; i++) {
    qlock_.lock();
    Waiter* w = waiters_.popFront();
    if (w == nullptr) {
      qlock_.unlock();
      return;
    }
    Task* t = w->task;
    uint64_t ticket = w->ticket;
    qlock_.unlock();
    internal::tryWake(t, ticket);
  }
}

void WaitGroup::add(int64_t n) {
  const uint64_t delta = static_cast<uint64_t>(n) << 32;
  const uint64_t s = state_.fetch_add(delta, std::memory_order_acq_rel) + delta;
  const auto counter = static_cast<int32_t>(s >> 32);
  const auto waiters = static_cast<uint32_t>(s);
  if (counter < 0) fatal("rt::WaitGroup counter went negative");
  // Not the last done(), or nobody waits: do not touch *this again (a
  // waiter that saw the counter at zero may already have destroyed it).
  if (counter > 0 || waiters == 0) return;
  // The last done() with registered waiters: they cannot return before we
  // release them, so *this stays valid until qlock_ is released below.
  state_.store(0, std::memory_order_release);
  internal::WaitQueue woken;
  qlock_.lock();
  released_ += waiters;
  while (released_ > 0) {
    Waiter* w = waiters_.popFront();
    if (w == nullptr) break;  // registered but not queued yet: takes a release
    released_--;
    woken.pushBack(w);
  }
  qlock_.unlock();
  // The woken Waiters stay valid: their Tasks cannot run until ready().
  while (Waiter* w = woken.popFront()) internal::ready(w->task);
}

void WaitGroup::wait() {
  internal::checkPreempt();
  for (;;) {
    uint64_t s = state_.load(std::memory_order_acquire);
    if ((s >> 32) == 0) return;
    if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) break;
  }
  qlock_.lock();
  if (released_ > 0) {  // released between registering and queueing
    released_--;
    qlock_.unlock();
    return;
  }
  Waiter me;
  me.task = internal::currentTask();
  waiters_.pushBack(&me);
  internal::park(unlockSpin, &qlock_, WaitReason::kWaitGroup);
}

}  // namespace rt
