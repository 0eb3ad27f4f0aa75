// Private to runtime/net: the one place a socket operation parks its Task.
//
// Every operation is "try the syscall; on EAGAIN wait on the netpoller and
// try again" (Go's fd.Read/pd.waitRead loop). The loop is bounded only by
// the deadline: each wake-up is a readiness edge, a timeout or an evict.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <system_error>

#include "runtime/net/net.h"
#include "runtime/netpoll/poll_desc.h"
#include "runtime/runtime.h"

namespace rt::net::detail {

// steady_clock is CLOCK_MONOTONIC on Linux (libstdc++ and libc++), the
// clock the runtime's timers use, so a deadline converts by its count.
inline int64_t deadlineNs(Deadline d) {
  if (d == kNoDeadline) return INT64_MAX;
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(d.time_since_epoch()).count();
  return ns < 0 ? 0 : ns;
}

// Parks until `mode` is ready on pd, the deadline passes or pd is evicted.
inline std::error_code waitFd(internal::PollDesc* pd, internal::IoMode mode, Deadline d) {
  if (!rt::inTask()) return std::make_error_code(std::errc::operation_not_permitted);
  return internal::pollWait(pd, mode, deadlineNs(d));
}

// interrupt() is final: checked before each operation, as Go's prepareRead.
inline bool interrupted(const internal::PollDesc* pd) {
  return pd->closing.load(std::memory_order_acquire);
}

// errno to error_code: EPIPE is a reset seen by a writer.
inline std::error_code errnoCode(int e) {
  if (e == EPIPE) e = ECONNRESET;
  return {e, std::generic_category()};
}

}  // namespace rt::net::detail
