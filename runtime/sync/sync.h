// Sync primitives that park Tasks, not threads: Mutex, CondVar, WaitGroup.
// (Chan<T> is in chan.h.) Only for use from Tasks.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "runtime/internal/spin_lock.h"
#include "runtime/sync/wait_queue.h"

namespace rt {

// A mutual-exclusion lock, after Go's sync.Mutex: uncontended lock/unlock
// are one CAS each. Contended, a newly arriving Task may barge ahead of a
// woken waiter (throughput), but a waiter that has waited over 1 ms is
// handed the lock directly (no starvation).
class Mutex {
 public:
  void lock() {
    uint32_t expected = 0;
    if (!state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire)) lockSlow();
  }
  bool try_lock() {
    uint32_t s = state_.load(std::memory_order_relaxed);
    while ((s & kLocked) == 0) {
      if (state_.compare_exchange_weak(s, s | kLocked, std::memory_order_acquire)) return true;
    }
    return false;
  }
  void unlock() {
    uint32_t expected = kLocked;
    if (!state_.compare_exchange_strong(expected, 0, std::memory_order_release)) unlockSlow();
  }

 private:
  static constexpr uint32_t kLocked = 1;
  static constexpr uint32_t kHasWaiters = 2;
  void lockSlow();
  void unlockSlow();

  std::atomic<uint32_t> state_{0};
  internal::SpinLock qlock_;
  internal::WaitQueue waiters_;
};

// A condition variable for rt::Mutex. Waits may wake spuriously only in
// the sense std::condition_variable allows: re-check the predicate.
class CondVar {
 public:
  void wait(Mutex& mu);
  template <class Pred>
  void wait(Mutex& mu, Pred pred) {
    while (!pred()) wait(mu);
  }
  // False if the timeout passed without a notification.
  bool wait_for(Mutex& mu, std::chrono::nanoseconds timeout);
  void notify_one();
  void notify_all();

 private:
  internal::SpinLock qlock_;
  internal::WaitQueue waiters_;
};

// Waits for a collection of Tasks to finish, as Go's sync.WaitGroup.
//
// A WaitGroup may be destroyed as soon as wait() returns, even while the
// Task whose done() released it is still inside done(): so done() touches
// nothing after its atomic update unless Tasks are registered as waiters,
// and those cannot return before done() has released them. As in Go, the
// counter and the number of waiters share one atomic word.
class WaitGroup {
 public:
  void add(int64_t n);
  void done() { add(-1); }
  void wait();

 private:
  // counter << 32 | registered waiters
  std::atomic<uint64_t> state_{0};
  internal::SpinLock qlock_;
  internal::WaitQueue waiters_;  // guarded by qlock_
  uint32_t released_ = 0;        // releases not yet taken by a waiter; guarded by qlock_
};

}  // namespace rt
