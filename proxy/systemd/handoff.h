// Handoff: starting the next binary with our listening sockets, for a
// binary upgrade without refusing a connection (nginx's USR2, HAProxy's
// seamless reload, done with the socket-activation protocol).
//
// Owns the sending side of listen_fds.h: the new process gets each socket
// as fd 3, 4, ... with LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID (its own
// pid: set by `/bin/sh -c 'export LISTEN_PID=$$; exec ...'`, since the pid
// is unknown before the spawn), plus SWITCHYARD_UPGRADE_FROM=<our pid> so it
// can tell systemd it is the new main process. Both processes then accept
// from the same kernel sockets: a connection waiting in the backlog is
// accepted by whichever asks first, and stays queued when the old process
// closes its copy of the fd. The old process keeps serving until the
// operator drains it (SIGTERM); see README "Binary upgrade".
#pragma once

#include <sys/types.h>

#include <string>
#include <system_error>
#include <vector>

namespace switchyard::systemd {

struct HandoffSocket {
  std::string name;  // the listener's name, or "admin"
  int fd = -1;       // stays ours: duplicated into the child, not moved
};

// The path of the running executable (/proc/self/exe), read at start-up so
// that an upgrade starts whatever file is at that path by then.
std::string selfExecutable();

// Starts `executable` with `args` as argv[1..] and `sockets`. stdin, stdout
// and stderr are shared; the signal mask is reset. Returns the pid, or -1
// with `ec` set.
pid_t spawnWithSockets(const std::string& executable, const std::vector<std::string>& args,
                       const std::vector<HandoffSocket>& sockets, std::error_code& ec);

}  // namespace switchyard::systemd
