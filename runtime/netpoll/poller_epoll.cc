// Linux backend of Poller: epoll + an eventfd to break the wait.
// epoll_pwait2 takes a nanosecond timeout, so an idle runtime can sleep
// until a timer with sub-millisecond precision (Go's epoll_wait rounds
// sub-ms waits up to 1 ms; see go-scheduler-mechanisms.md, f').
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "runtime/netpoll/poller.h"

namespace rt::internal {
namespace {
constexpr uint64_t kWakeTag = 0;  // epoll_data of the eventfd

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "switchyard runtime: %s: %s\n", what, std::strerror(errno));
  std::abort();
}
}  // namespace

Poller::Poller() {
  kq_or_epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (kq_or_epfd_ < 0) die("epoll_create1");
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) die("eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeTag;
  if (epoll_ctl(kq_or_epfd_, EPOLL_CTL_ADD, wake_fd_, &ev) < 0) die("epoll_ctl(eventfd)");
}

Poller::~Poller() {
  close(wake_fd_);
  close(kq_or_epfd_);
}

int Poller::poll(int64_t timeout_ns, TaskQueue& ready) {
  (void)ready;
  constexpr int kBatch = 128;
  epoll_event events[kBatch];
  int n;
  if (timeout_ns < 0) {
    n = epoll_pwait2(kq_or_epfd_, events, kBatch, nullptr, nullptr);
  } else {
    struct timespec ts{static_cast<time_t>(timeout_ns / 1000000000),
                       static_cast<long>(timeout_ns % 1000000000)};
    n = epoll_pwait2(kq_or_epfd_, events, kBatch, &ts, nullptr);
  }
  if (n < 0) {
    if (errno == EINTR) return 0;
    die("epoll_pwait2");
  }
  for (int i = 0; i < n; i++) {
    if (events[i].data.u64 == kWakeTag) {
      if (timeout_ns != 0) {
        // Only a blocking poll consumes the wake-up, so a non-blocking look
        // cannot swallow one meant for the M about to block.
        uint64_t v;
        ssize_t r = read(wake_fd_, &v, sizeof v);
        (void)r;
        wake_pending_.store(0, std::memory_order_release);
      }
    }
  }
  return n;
}

void Poller::wake() {
  uint32_t expected = 0;
  if (!wake_pending_.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) return;
  uint64_t one = 1;
  ssize_t r;
  do {
    r = write(wake_fd_, &one, sizeof one);
  } while (r < 0 && errno == EINTR);
}

}  // namespace rt::internal
