// InheritedSockets: listening sockets handed to this process at exec.
//
// Owns the receiving side of the socket-passing protocol systemd defined
// for socket activation (sd_listen_fds(3)): LISTEN_PID names the process
// the sockets are for, LISTEN_FDS counts them, they are fds 3, 4, ... and
// LISTEN_FDNAMES (optional) names them, colon-separated. A binary upgrade
// (handoff.h) uses the same protocol, so one code path adopts both.
//
// The variables are read once and removed from the environment, so a
// process we start later does not believe the sockets are its own; the
// fds are made close-on-exec for the same reason. The proxy then asks,
// listener by listener, for a socket before binding one: a socket matches
// a listener when it is bound to exactly the configured address, or, for a
// configured port 0 ("any port"), when it carries the listener's name and
// is bound to the configured host. Sockets no listener claims are closed
// (and logged) after start-up, so a stale unit file cannot hold a port.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::systemd {

// The first inherited fd (SD_LISTEN_FDS_START).
inline constexpr int kListenFdsStart = 3;

struct InheritedSocket {
  int fd = -1;           // -1 once taken or closed
  std::string name;      // from LISTEN_FDNAMES; "" when absent
  std::string address;   // getsockname() as "ip:port" / "[v6]:port"; "" if not TCP/IP
};

class InheritedSockets {
 public:
  InheritedSockets() = default;
  InheritedSockets(InheritedSockets&& o) noexcept : sockets_(std::move(o.sockets_)) {}
  InheritedSockets& operator=(InheritedSockets&& o) noexcept {
    sockets_ = std::move(o.sockets_);
    return *this;
  }

  // Reads and unsets LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES. None set:
  // empty, no error. Set for another pid: empty, no error (they were meant
  // for a parent). Malformed: empty, `error` says why, fds untouched.
  static InheritedSockets fromEnvironment(std::string& error);
  // The same on explicit values (nullptr = unset), for `self` as our pid.
  // Does not touch the environment; does set FD_CLOEXEC on the fds.
  static InheritedSockets fromValues(const char* listen_pid, const char* listen_fds,
                                     const char* listen_fdnames, pid_t self,
                                     std::string& error);

  size_t size() const;
  std::vector<InheritedSocket> sockets() const;

  // Takes the socket for a listener called `name` configured on `address`
  // ("ip:port" or "[v6]:port", port 0 = any): exact address first, then
  // for port 0 the same host with a matching name. Returns the fd (now the
  // caller's) or -1.
  int take(std::string_view name, std::string_view address);

  // Closes every socket not taken; returns one "fd N (name) on address"
  // line per socket closed.
  std::vector<std::string> closeUnclaimed();

 private:
  mutable std::mutex mu_;
  std::vector<InheritedSocket> sockets_;  // guarded by mu_
};

}  // namespace switchyard::systemd
