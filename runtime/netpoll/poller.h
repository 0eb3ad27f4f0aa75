// Poller: the netpoller backend contract (one file per OS backend).
//
// Owns the kernel readiness object (epoll or kqueue) and the wake-up
// channel that breaks a blocking wait. The scheduler calls poll() without
// blocking from findRunnable and with a timeout (until the earliest timer)
// from the one M that waits when every P is idle; wake() breaks that wait
// when work or an earlier timer appears. Wake-ups are coalesced: many
// wake() calls during one wait cost one write.
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime/task.h"

namespace rt::internal {

class Poller {
 public:
  Poller();
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // Waits for readiness for up to timeout_ns (< 0: forever, 0: just look).
  // Tasks made runnable by I/O readiness are appended to `ready`.
  // Returns the number of kernel events taken.
  int poll(int64_t timeout_ns, TaskQueue& ready);

  // Breaks a blocking poll() (or makes the next one return at once).
  void wake();

  // Number of Tasks parked on file descriptors (0 until I/O is wired in).
  int64_t waiters() const { return waiters_.load(std::memory_order_relaxed); }

 private:
  int kq_or_epfd_ = -1;
  int wake_fd_ = -1;
  std::atomic<uint32_t> wake_pending_{0};
  std::atomic<int64_t> waiters_{0};
};

}  // namespace rt::internal
