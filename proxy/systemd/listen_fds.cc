#include "proxy/systemd/listen_fds.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <optional>

namespace switchyard::systemd {
namespace {

// More would be a bug in whoever started us; systemd itself caps far lower.
constexpr long kMaxInheritedFds = 4096;

std::optional<long> parseNumber(const char* text) {
  if (text == nullptr || *text == '\0') return std::nullopt;
  long value = 0;
  const char* end = text + std::strlen(text);
  auto [ptr, ec] = std::from_chars(text, end, value);
  if (ec != std::errc() || ptr != end || value < 0) return std::nullopt;
  return value;
}

std::string formatAddress(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(ss);
    ::inet_ntop(AF_INET, &in.sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(in.sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(ss);
    ::inet_ntop(AF_INET6, &in6.sin6_addr, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6.sin6_port));
  }
  return {};
}

// "ip:port" / "[v6]:port" -> canonical host text and port; nullopt if not numeric.
struct HostAndPort {
  std::string host;  // canonical, brackets kept for IPv6
  std::string port;
};
std::optional<HostAndPort> splitAddress(std::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string host(address.substr(0, colon));
  HostAndPort out;
  out.port = std::string(address.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    in6_addr a6{};
    const std::string inner = host.substr(1, host.size() - 2);
    if (::inet_pton(AF_INET6, inner.c_str(), &a6) != 1) return std::nullopt;
    char text[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET6, &a6, text, sizeof text);
    out.host = "[" + std::string(text) + "]";
    return out;
  }
  in_addr a4{};
  if (::inet_pton(AF_INET, host.c_str(), &a4) != 1) return std::nullopt;
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &a4, text, sizeof text);
  out.host = text;
  return out;
}

}  // namespace

InheritedSockets InheritedSockets::fromEnvironment(std::string& error) {
  InheritedSockets sockets = fromValues(std::getenv("LISTEN_PID"), std::getenv("LISTEN_FDS"),
                                        std::getenv("LISTEN_FDNAMES"), ::getpid(), error);
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  return sockets;
}

InheritedSockets InheritedSockets::fromValues(const char* listen_pid, const char* listen_fds,
                                              const char* listen_fdnames, pid_t self,
                                              std::string& error) {
  error.clear();
  InheritedSockets out;
  if (listen_fds == nullptr) return out;
  const std::optional<long> pid = parseNumber(listen_pid);
  if (!pid) {
    error = "LISTEN_PID is missing or not a number: \"" +
            std::string(listen_pid != nullptr ? listen_pid : "") + "\"";
    return out;
  }
  if (*pid != self) return out;  // meant for the process that started us
  const std::optional<long> count = parseNumber(listen_fds);
  if (!count || *count > kMaxInheritedFds) {
    error = "LISTEN_FDS is not a number in 0.." + std::to_string(kMaxInheritedFds) + ": \"" +
            listen_fds + "\"";
    return out;
  }
  std::vector<std::string> names;
  if (listen_fdnames != nullptr) {
    std::string_view all(listen_fdnames);
    for (size_t start = 0;;) {
      const size_t colon = all.find(':', start);
      names.emplace_back(all.substr(start, colon == std::string_view::npos ? colon : colon - start));
      if (colon == std::string_view::npos) break;
      start = colon + 1;
    }
    if (names.size() != static_cast<size_t>(*count)) {
      error = "LISTEN_FDNAMES has " + std::to_string(names.size()) + " names for " +
              std::to_string(*count) + " fds";
      return out;
    }
  }
  for (long i = 0; i < *count; i++) {
    InheritedSocket s;
    s.fd = kListenFdsStart + static_cast<int>(i);
    const int flags = ::fcntl(s.fd, F_GETFD);
    if (flags < 0) {
      error = "LISTEN_FDS says fd " + std::to_string(s.fd) + " is inherited, but it is not open";
      out.sockets_.clear();
      return out;
    }
    ::fcntl(s.fd, F_SETFD, flags | FD_CLOEXEC);
    if (!names.empty()) s.name = names[static_cast<size_t>(i)];
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(s.fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
      s.address = formatAddress(ss);
    }
    out.sockets_.push_back(std::move(s));
  }
  return out;
}

size_t InheritedSockets::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sockets_.size();
}

std::vector<InheritedSocket> InheritedSockets::sockets() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sockets_;
}

int InheritedSockets::take(std::string_view name, std::string_view address) {
  const std::optional<HostAndPort> want = splitAddress(address);
  if (!want) return -1;
  std::lock_guard<std::mutex> lock(mu_);
  auto claim = [](InheritedSocket& s) {
    const int fd = s.fd;
    s.fd = -1;
    return fd;
  };
  for (InheritedSocket& s : sockets_) {
    if (s.fd >= 0 && s.address == want->host + ":" + want->port) return claim(s);
  }
  if (want->port != "0") return -1;
  for (InheritedSocket& s : sockets_) {
    if (s.fd < 0 || s.name != name) continue;
    const std::optional<HostAndPort> have = splitAddress(s.address);
    if (have && have->host == want->host) return claim(s);
  }
  return -1;
}

std::vector<std::string> InheritedSockets::closeUnclaimed() {
  std::vector<std::string> closed;
  std::lock_guard<std::mutex> lock(mu_);
  for (InheritedSocket& s : sockets_) {
    if (s.fd < 0) continue;
    closed.push_back("fd " + std::to_string(s.fd) + " (" + (s.name.empty() ? "unnamed" : s.name) +
                     ") on " + (s.address.empty() ? "a non-IP socket" : s.address));
    ::close(s.fd);
    s.fd = -1;
  }
  return closed;
}

}  // namespace switchyard::systemd
