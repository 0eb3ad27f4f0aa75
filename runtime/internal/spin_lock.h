// SpinLock: guards a wait queue for a few dozen instructions.
//
// Held only across queue manipulation, never across a park (park's commit
// releases it on the scheduler stack). Spins with a pause, then yields the
// thread so a preempted holder can finish.
#pragma once

#include <sched.h>

#include <atomic>

namespace rt::internal {

class SpinLock {
 public:
  void lock() {
    for (int spins = 0; flag_.exchange(true, std::memory_order_acquire); spins++) {
      while (flag_.load(std::memory_order_relaxed)) {
        if (spins++ < 64) {
#if defined(__x86_64__)
          __builtin_ia32_pause();
#elif defined(__aarch64__)
          asm volatile("yield");
#endif
        } else {
          sched_yield();
        }
      }
    }
  }
  bool try_lock() { return !flag_.exchange(true, std::memory_order_acquire); }
  void unlock() { flag_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> flag_{false};
};

}  // namespace rt::internal
