#include "proxy/systemd/notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace switchyard::systemd {
namespace {

std::string statusLine(std::string_view status) {
  if (status.empty()) return {};
  std::string line = "STATUS=";
  for (char c : status) line += (c == '\n' || c == '\r') ? ' ' : c;
  return line + "\n";
}

}  // namespace

uint64_t monotonicUsec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

Notifier Notifier::fromEnvironment() {
  const char* path = std::getenv("NOTIFY_SOCKET");
  return Notifier(path != nullptr ? path : "");
}

std::error_code Notifier::send(std::string_view state) const {
  if (path_.empty()) return {};
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // Abstract names start with a NUL byte and are not NUL-terminated: the
  // length passed to sendto() delimits them.
  if (path_.size() >= sizeof addr.sun_path || (path_[0] != '/' && path_[0] != '@')) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  if (path_[0] == '@') addr.sun_path[0] = '\0';
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size() +
                                          (path_[0] == '@' ? 0 : 1));
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {errno, std::system_category()};
  std::error_code ec;
  ssize_t n;
  do {
    n = ::sendto(fd, state.data(), state.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                 reinterpret_cast<const sockaddr*>(&addr), len);
  } while (n < 0 && errno == EINTR);
  if (n < 0) ec = {errno, std::system_category()};
  ::close(fd);
  return ec;
}

std::error_code Notifier::ready(std::string_view status) const {
  return send("READY=1\n" + statusLine(status));
}

std::error_code Notifier::reloading(std::string_view status) const {
  return send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonicUsec()) + "\n" +
              statusLine(status));
}

std::error_code Notifier::stopping(std::string_view status) const {
  return send("STOPPING=1\n" + statusLine(status));
}

std::error_code Notifier::status(std::string_view status) const {
  if (status.empty()) return {};
  return send(statusLine(status));
}

std::error_code Notifier::readyAsMainPid(pid_t pid, std::string_view status) const {
  return send("MAINPID=" + std::to_string(pid) + "\nREADY=1\n" + statusLine(status));
}

}  // namespace switchyard::systemd
