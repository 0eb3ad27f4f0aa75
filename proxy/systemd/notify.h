// Notifier: the sd_notify protocol, spoken directly (no libsystemd).
//
// Owns one thing: turning a service state change into a datagram on the
// AF_UNIX socket named by $NOTIFY_SOCKET, which systemd sets for
// Type=notify services. The path is a filesystem path ("/run/...") or, with
// a leading '@', a name in the abstract namespace. Each message is a few
// "KEY=VALUE" lines: READY=1 once the listeners are bound, RELOADING=1 with
// MONOTONIC_USEC on SIGHUP (then READY=1 again), STOPPING=1 on drain,
// STATUS= free text for `systemctl status`, MAINPID= when a binary upgrade
// hands the service to a new process.
//
// Without $NOTIFY_SOCKET (a terminal, Docker, Kubernetes) every call is a
// no-op that succeeds. Sends never block: a datagram socket, MSG_DONTWAIT.
// The variable is left in the environment so that a process started by a
// binary upgrade (proxy/systemd/handoff.h) can report to systemd too.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace switchyard::systemd {

// CLOCK_MONOTONIC in microseconds: what systemd wants in MONOTONIC_USEC.
uint64_t monotonicUsec();

class Notifier {
 public:
  // Reads $NOTIFY_SOCKET; unset or empty gives a disabled notifier.
  static Notifier fromEnvironment();
  // `socket_path` as in $NOTIFY_SOCKET; empty = disabled.
  explicit Notifier(std::string socket_path = {}) : path_(std::move(socket_path)) {}

  bool enabled() const { return !path_.empty(); }
  const std::string& socketPath() const { return path_; }

  // Sends `state` ("READY=1\nSTATUS=...") as one datagram. A disabled
  // notifier returns success without sending.
  std::error_code send(std::string_view state) const;

  // The messages the proxy sends; `status` becomes a STATUS= line when
  // non-empty (newlines in it are replaced: one line per key).
  std::error_code ready(std::string_view status) const;
  std::error_code reloading(std::string_view status) const;  // RELOADING=1 + MONOTONIC_USEC
  std::error_code stopping(std::string_view status) const;
  std::error_code status(std::string_view status) const;
  // READY=1 + MAINPID=pid: the new process of a binary upgrade takes over.
  std::error_code readyAsMainPid(pid_t pid, std::string_view status) const;

 private:
  std::string path_;
};

}  // namespace switchyard::systemd
