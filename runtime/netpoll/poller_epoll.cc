// Linux backend of Poller: edge-triggered epoll plus an eventfd to break a
// blocking wait.
//
// Each fd is registered once for its life with EPOLLIN|EPOLLOUT|EPOLLRDHUP|
// EPOLLET: no re-arming syscalls per operation. epoll_pwait2 takes a
// nanosecond timeout, so an idle runtime wakes for a timer with
// sub-millisecond precision (Go's epoll_wait rounds sub-ms waits up to 1 ms;
// go-scheduler-mechanisms.md, f'). Kernels before 5.11, and sandboxes whose
// seccomp policy predates the call (older Docker profiles answer EPERM,
// gVisor and valgrind ENOSYS), lack it: the first such answer switches the
// process to epoll_wait with the timeout rounded up to whole milliseconds.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "runtime/netpoll/poller.h"

namespace rt::internal {
namespace {
// No descriptor cookie can be all ones (the index is < 4M).
constexpr uint64_t kWakeCookie = ~uint64_t{0};

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "switchyard runtime: %s: %s\n", what, std::strerror(errno));
  std::abort();
}

// Cleared for good by the first ENOSYS/EPERM from epoll_pwait2.
std::atomic<bool> have_epoll_pwait2{true};

int waitMs(int64_t timeout_ns) {
  if (timeout_ns < 0) return -1;
  const int64_t ms = (timeout_ns + 999'999) / 1'000'000;  // never wake before the timer
  return static_cast<int>(std::min<int64_t>(ms, INT32_MAX));
}

int epollWait(int epfd, epoll_event* events, int batch, int64_t timeout_ns) {
  if (have_epoll_pwait2.load(std::memory_order_relaxed)) {
    struct timespec ts{static_cast<time_t>(timeout_ns / 1000000000),
                       static_cast<long>(timeout_ns % 1000000000)};
    const int n = epoll_pwait2(epfd, events, batch, timeout_ns < 0 ? nullptr : &ts, nullptr);
    if (n >= 0 || (errno != ENOSYS && errno != EPERM)) return n;
    have_epoll_pwait2.store(false, std::memory_order_relaxed);
  }
  return epoll_wait(epfd, events, batch, waitMs(timeout_ns));
}
}  // namespace


Poller::Poller() {
  kernel_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (kernel_fd_ < 0) die("epoll_create1");
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) die("eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeCookie;
  if (epoll_ctl(kernel_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) < 0) die("epoll_ctl(eventfd)");
}

Poller::~Poller() {
  close(wake_fd_);
  close(kernel_fd_);
}

std::error_code Poller::add(PollDesc* pd) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = pollCookie(pd);
  if (epoll_ctl(kernel_fd_, EPOLL_CTL_ADD, pd->fd, &ev) < 0) {
    return std::error_code(errno, std::system_category());
  }
  return {};
}

void Poller::remove(PollDesc* pd) {
  epoll_event ev{};
  epoll_ctl(kernel_fd_, EPOLL_CTL_DEL, pd->fd, &ev);
}

int Poller::poll(int64_t timeout_ns, int batch, TaskQueue& ready) {
  // One buffer per thread, grown to the batch size once: no allocation per
  // poll, and Ms never share it.
  thread_local std::vector<epoll_event> events;
  if (events.size() < static_cast<size_t>(batch)) events.resize(static_cast<size_t>(batch));
  const int n = epollWait(kernel_fd_, events.data(), batch, timeout_ns);
  if (n < 0) {
    if (errno == EINTR) return 0;
    die("epoll wait");
  }
  int fd_events = 0;
  for (int i = 0; i < n; i++) {
    const uint64_t cookie = events[static_cast<size_t>(i)].data.u64;
    const uint32_t ev = events[static_cast<size_t>(i)].events;
    if (cookie == kWakeCookie) {
      if (timeout_ns != 0) {
        // Only a blocking poll consumes the wake-up, so a non-blocking
        // look cannot swallow one meant for the M about to block.
        uint64_t v;
        ssize_t r = read(wake_fd_, &v, sizeof v);
        (void)r;
        wake_pending_.store(0, std::memory_order_release);
      }
      continue;
    }
    PollDesc* pd = pollFromCookie(cookie);
    if (pd == nullptr) continue;  // closed since the kernel queued it
    fd_events++;
    // Errors and hang-ups wake both sides: the next read/write reports it.
    const bool readable = (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    if ((ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
      pd->read_hangup.store(true, std::memory_order_release);
    }
    const bool writable = (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0;
    pollReady(pd, readable, writable, ready);
  }
  return fd_events;
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
