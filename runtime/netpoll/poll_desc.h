// PollDesc: the netpoller's per-file-descriptor state (Go's pollDesc).
//
// Owns, for one registered fd: who waits for it to become readable and
// writable, and the "start a Task when readable" hook. Each direction is
// one atomic word:
//   0         nothing pending;
//   kReady    an edge arrived that nobody consumed yet (edge-triggered
//             epoll reports each edge once, so it must be remembered);
//   kHook     (read side only) start hook_fn(hook_arg) in a new Task on the
//             next readable edge: an idle connection then holds no Task and
//             no stack, only this descriptor;
//   a Task*   that Task is parked waiting; its wake ticket is in *_ticket.
// The Task parked on a direction owns the word's transition away from its
// pointer only together with the poller (CAS), and wakes go through the
// Task's wake ticket so a deadline timer and an I/O edge cannot both wake
// it. Descriptors are recycled, never freed while the runtime runs, and
// carry a generation so an event for a closed fd is dropped.
//
// Lifetime rule: pollClose() only after every Task that used the
// descriptor has returned from pollWait (one owner Task per connection, as
// the proxy does; other Tasks may pollEvict()).
#pragma once

#include <atomic>
#include <cstdint>
#include <system_error>

#include "runtime/task.h"

namespace rt::internal {

struct PollDesc {
  static constexpr uintptr_t kReady = 1;
  static constexpr uintptr_t kHook = 2;

  int fd = -1;
  uint32_t index = 0;                      // slot in the descriptor table
  std::atomic<uint32_t> generation{0};     // bumped on every close
  std::atomic<bool> closing{false};
  // The poller saw the read side end (EPOLLRDHUP/HUP/ERR, EV_EOF): a FIN or an
  // error is queued behind whatever data is left. Stored before the edge is
  // published, so whoever consumes that edge sees it. Cleared by pollOpen.
  std::atomic<bool> read_hangup{false};
  std::atomic<uintptr_t> rg{0};
  std::atomic<uintptr_t> wg{0};
  std::atomic<uint64_t> r_ticket{0};
  std::atomic<uint64_t> w_ticket{0};
  void (*hook_fn)(void* arg) = nullptr;
  void* hook_arg = nullptr;
  PollDesc* free_link = nullptr;
};

enum class IoMode { kRead, kWrite };

// Registers fd (already non-blocking) with the poller for its whole life.
PollDesc* pollOpen(int fd, std::error_code& ec);
// Deregisters and recycles. No Task may be waiting on it (evict first) and
// the caller closes the fd afterwards.
void pollClose(PollDesc* pd);
// Whether the peer's FIN (or an error) has reached the poller for pd: a
// short read then no longer proves the queue is empty, since recv returns
// the last data and reports the end only on the next call.
inline bool pollReadHangup(const PollDesc* pd) {
  return pd->read_hangup.load(std::memory_order_acquire);
}
// Parks the current Task until `mode` is ready, the deadline passes
// (CLOCK_MONOTONIC ns; INT64_MAX = none) or the descriptor is evicted.
// Returns {} when ready, errc::timed_out, or errc::operation_canceled.
std::error_code pollWait(PollDesc* pd, IoMode mode, int64_t deadline_ns);
// Arms the hook: fn(arg) runs in a new Task at the next readable edge (or
// at once, if an edge is pending). One-shot; re-arm after each use.
void pollArmOnReadable(PollDesc* pd, void (*fn)(void* arg), void* arg);
// Disarms the hook; true if it was armed (and will not fire).
bool pollDisarmOnReadable(PollDesc* pd);
// Marks closing and wakes every waiter with operation_canceled. Safe from
// any Task; used to interrupt a blocked read or accept.
void pollEvict(PollDesc* pd);

// Number of fd events the poller takes per epoll_wait (netpoll_batch).
void setNetpollBatch(int n);
int netpollBatch();

}  // namespace rt::internal
