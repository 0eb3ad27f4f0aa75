// BSD/macOS backend of Poller: kqueue with EV_CLEAR (edge-triggered), and a
// non-blocking pipe to break a blocking wait. It mirrors poller_epoll.cc
// one to one; it is compiled only on those systems and cannot be built or
// run on the Linux machines this project is developed and tested on.
#include <fcntl.h>
#include <sys/event.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "runtime/netpoll/poller.h"

namespace rt::internal {
namespace {
constexpr uintptr_t kWakeIdent = ~uintptr_t{0};

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "switchyard runtime: %s: %s\n", what, std::strerror(errno));
  std::abort();
}
}  // namespace

Poller::Poller() {
  kernel_fd_ = kqueue();
  if (kernel_fd_ < 0) die("kqueue");
  fcntl(kernel_fd_, F_SETFD, FD_CLOEXEC);
  int p[2];
  if (pipe(p) < 0) die("pipe");
  for (int fd : p) {
    fcntl(fd, F_SETFL, O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  wake_fd_ = p[0];
  wake_wr_fd_ = p[1];
  struct kevent ev;
  EV_SET(&ev, wake_fd_, EVFILT_READ, EV_ADD, 0, 0, reinterpret_cast<void*>(kWakeIdent));
  if (kevent(kernel_fd_, &ev, 1, nullptr, 0, nullptr) < 0) die("kevent(pipe)");
}

Poller::~Poller() {
  close(wake_fd_);
  close(wake_wr_fd_);
  close(kernel_fd_);
}

std::error_code Poller::add(PollDesc* pd) {
  struct kevent ev[2];
  void* cookie = reinterpret_cast<void*>(static_cast<uintptr_t>(pollCookie(pd)));
  EV_SET(&ev[0], pd->fd, EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, cookie);
  EV_SET(&ev[1], pd->fd, EVFILT_WRITE, EV_ADD | EV_CLEAR, 0, 0, cookie);
  if (kevent(kernel_fd_, ev, 2, nullptr, 0, nullptr) < 0) {
    return std::error_code(errno, std::system_category());
  }
  return {};
}

void Poller::remove(PollDesc* pd) {
  // Closing the fd removes its kevents; nothing to do (as Go's netpollclose).
  (void)pd;
}

int Poller::poll(int64_t timeout_ns, int batch, TaskQueue& ready) {
  thread_local std::vector<struct kevent> events;
  if (events.size() < static_cast<size_t>(batch)) events.resize(static_cast<size_t>(batch));
  struct timespec ts;
  struct timespec* tp = nullptr;
  if (timeout_ns >= 0) {
    ts.tv_sec = static_cast<time_t>(timeout_ns / 1000000000);
    ts.tv_nsec = static_cast<long>(timeout_ns % 1000000000);
    tp = &ts;
  }
  int n = kevent(kernel_fd_, nullptr, 0, events.data(), batch, tp);
  if (n < 0) {
    if (errno == EINTR) return 0;
    die("kevent");
  }
  int fd_events = 0;
  for (int i = 0; i < n; i++) {
    const struct kevent& ev = events[static_cast<size_t>(i)];
    const uintptr_t cookie = reinterpret_cast<uintptr_t>(ev.udata);
    if (cookie == kWakeIdent) {
      if (timeout_ns != 0) {
        char buf[16];
        while (read(wake_fd_, buf, sizeof buf) > 0) {
        }
        wake_pending_.store(0, std::memory_order_release);
      }
      continue;
    }
    PollDesc* pd = pollFromCookie(cookie);
    if (pd == nullptr) continue;
    fd_events++;
    const bool eof_or_err = (ev.flags & (EV_EOF | EV_ERROR)) != 0;
    if (eof_or_err) pd->read_hangup.store(true, std::memory_order_release);
    const bool readable = ev.filter == EVFILT_READ || eof_or_err;
    const bool writable = ev.filter == EVFILT_WRITE || eof_or_err;
    pollReady(pd, readable, writable, ready);
  }
  return fd_events;
}

void Poller::wake() {
  uint32_t expected = 0;
  if (!wake_pending_.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) return;
  char one = 1;
  ssize_t r;
  do {
    r = write(wake_wr_fd_, &one, 1);
  } while (r < 0 && errno == EINTR);
}

}  // namespace rt::internal
