// SignalReader for Linux: a signalfd read through the netpoller.
//
// The signals are blocked in every runtime thread from the start
// (Options::notify_signals, set by rt::run before the first thread), so the
// kernel keeps them pending instead of running a default action, and the
// signalfd turns "pending" into a readable fd. A process-directed signal
// is pending for the whole thread group, so whichever M runs the reading
// Task sees it. A handler never runs: SIGHUP/SIGTERM handling is ordinary
// Task code with no async-signal-safety rules.
//
// The BSDs need a self-pipe written by a sigaction handler instead; that
// file (signal_bsd.cc) is not written yet (see runtime/BUILD).
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "runtime/net/fd_wait.h"
#include "runtime/net/net.h"

namespace rt::net {

SignalReader::SignalReader(const std::vector<int>& signals, std::error_code& ec) {
  ec.clear();
  sigset_t set;
  sigset_t blocked;
  sigemptyset(&set);
  pthread_sigmask(SIG_BLOCK, nullptr, &blocked);
  for (int sig : signals) {
    // Not blocked here means not in Options::notify_signals: the signal
    // would take its default action on some thread before we could read it.
    if (sigaddset(&set, sig) != 0 || sigismember(&blocked, sig) != 1) {
      ec = std::make_error_code(std::errc::invalid_argument);
      return;
    }
  }
  if (signals.empty()) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return;
  }
  fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd_ < 0) {
    ec = detail::errnoCode(errno);
    return;
  }
  pd_ = internal::pollOpen(fd_, ec);
  if (pd_ == nullptr) {
    ::close(fd_);
    fd_ = -1;
  }
}

SignalReader::~SignalReader() {
  if (fd_ < 0) return;
  internal::pollClose(pd_);
  ::close(fd_);
}

std::optional<int> SignalReader::wait(Deadline deadline, std::error_code& ec) {
  ec.clear();
  if (fd_ < 0) {
    ec = std::make_error_code(std::errc::bad_file_descriptor);
    return std::nullopt;
  }
  if (detail::interrupted(pd_)) {
    ec = std::make_error_code(std::errc::operation_canceled);
    return std::nullopt;
  }
  for (;;) {
    signalfd_siginfo si;
    const ssize_t r = ::read(fd_, &si, sizeof si);
    if (r == static_cast<ssize_t>(sizeof si)) return static_cast<int>(si.ssi_signo);
    if (r < 0 && errno == EINTR) continue;
    if (r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
      ec = r >= 0 ? std::make_error_code(std::errc::io_error) : detail::errnoCode(errno);
      return std::nullopt;
    }
    if ((ec = detail::waitFd(pd_, internal::IoMode::kRead, deadline))) return std::nullopt;
  }
}

void SignalReader::interrupt() {
  if (pd_ != nullptr) internal::pollEvict(pd_);
}

}  // namespace rt::net
