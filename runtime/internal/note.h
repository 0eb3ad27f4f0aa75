// Note: a one-shot sleep/wake-up for one thread (Go's note), on a futex.
//
// sleep() returns after wake() was called (before or during the sleep);
// clear() re-arms it. Used to park idle Ms and sysmon.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

namespace rt::internal {

class Note {
 public:
  void wake() {
    if (key_.exchange(1, std::memory_order_release) == 0) {
      syscall(SYS_futex, reinterpret_cast<uint32_t*>(&key_), FUTEX_WAKE_PRIVATE, 1, nullptr,
              nullptr, 0);
    }
  }
  void sleep() {
    while (key_.load(std::memory_order_acquire) == 0) {
      syscall(SYS_futex, reinterpret_cast<uint32_t*>(&key_), FUTEX_WAIT_PRIVATE, 0, nullptr,
              nullptr, 0);
    }
  }
  // Returns true if woken, false on timeout.
  bool sleepFor(int64_t ns) {
    if (ns <= 0) return key_.load(std::memory_order_acquire) != 0;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int64_t deadline = start.tv_sec * 1000000000LL + start.tv_nsec + ns;
    while (key_.load(std::memory_order_acquire) == 0) {
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      int64_t left = deadline - (now.tv_sec * 1000000000LL + now.tv_nsec);
      if (left <= 0) return false;
      struct timespec ts{static_cast<time_t>(left / 1000000000LL),
                         static_cast<long>(left % 1000000000LL)};
      syscall(SYS_futex, reinterpret_cast<uint32_t*>(&key_), FUTEX_WAIT_PRIVATE, 0, &ts,
              nullptr, 0);
    }
    return true;
  }
  void clear() { key_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<uint32_t> key_{0};
};

}  // namespace rt::internal
