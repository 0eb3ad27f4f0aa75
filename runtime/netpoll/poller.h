// Poller: the netpoller backend contract (one file per OS backend).
//
// Owns the kernel readiness object (epoll or kqueue) and the wake-up
// channel that breaks a blocking wait. The scheduler calls poll() without
// blocking from findRunnable (before stealing) and from sysmon (the poller
// hand-off interval), and with a timeout (until the earliest timer) from
// the one M that waits when every P is idle; wake() breaks that wait when
// work or an earlier timer appears. Wake-ups are coalesced: many wake()
// calls during one wait cost one write.
//
// Backends implement registration (add/remove) and the kernel wait; the
// per-fd state machine (poll_desc.cc) is shared.
#pragma once

#include <atomic>
#include <cstdint>
#include <system_error>

#include "runtime/netpoll/poll_desc.h"
#include "runtime/task.h"

namespace rt::internal {

class Poller {
 public:
  Poller();
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // Waits for readiness for up to timeout_ns (< 0: forever, 0: just look),
  // taking at most `batch` events. Tasks made runnable (parked readers and
  // writers, readable hooks) are appended to `ready`. Returns the number of
  // fd events taken (the wake-up channel is not counted).
  int poll(int64_t timeout_ns, int batch, TaskQueue& ready);

  // Breaks a blocking poll() (or makes the next one return at once).
  void wake();

  std::error_code add(PollDesc* pd);
  void remove(PollDesc* pd);

  // Tasks parked on descriptors plus armed hooks: whether polling can find
  // anything at all.
  int64_t waiters() const { return waiters_.load(std::memory_order_relaxed); }
  void addWaiters(int64_t d) { waiters_.fetch_add(d, std::memory_order_relaxed); }

 private:
  int kernel_fd_ = -1;
  int wake_fd_ = -1;     // eventfd (Linux) / pipe read end (BSD)
  int wake_wr_fd_ = -1;  // pipe write end (BSD)
  std::atomic<uint32_t> wake_pending_{0};
  std::atomic<int64_t> waiters_{0};
};

// Shared by the backends: an edge for `pd` in `mode`; appends a Task to
// `ready` if that edge wakes or starts one.
void pollReady(PollDesc* pd, bool readable, bool writable, TaskQueue& ready);
// Encodes/decodes the kernel's per-registration cookie: the descriptor's
// slot index and its generation, so an event for a recycled slot is dropped.
uint64_t pollCookie(const PollDesc* pd);
PollDesc* pollFromCookie(uint64_t cookie);

}  // namespace rt::internal
