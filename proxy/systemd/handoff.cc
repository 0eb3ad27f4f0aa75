#include "proxy/systemd/handoff.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "proxy/systemd/listen_fds.h"

extern char** environ;

namespace switchyard::systemd {
namespace {

// Temporary copies live above every target fd (3 .. 3+N-1), so no dup2
// below overwrites a source it still needs.
constexpr int kTemporaryFdFloor = 64;

bool startsWith(const char* s, const char* prefix) {
  return std::strncmp(s, prefix, std::strlen(prefix)) == 0;
}

}  // namespace

std::string selfExecutable() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  std::string path(buf, static_cast<size_t>(n));
  // Replaced on disk since start-up: the kernel appends " (deleted)".
  const std::string deleted = " (deleted)";
  if (path.size() > deleted.size() &&
      path.compare(path.size() - deleted.size(), deleted.size(), deleted) == 0) {
    path.resize(path.size() - deleted.size());
  }
  return path;
}

pid_t spawnWithSockets(const std::string& executable, const std::vector<std::string>& args,
                       const std::vector<HandoffSocket>& sockets, std::error_code& ec) {
  ec.clear();
  const int floor = std::max(kTemporaryFdFloor, kListenFdsStart + static_cast<int>(sockets.size()));
  std::vector<int> copies;
  auto closeCopies = [&copies] {
    for (int fd : copies) ::close(fd);
  };
  for (const HandoffSocket& s : sockets) {
    const int copy = ::fcntl(s.fd, F_DUPFD_CLOEXEC, floor);
    if (copy < 0) {
      ec = {errno, std::system_category()};
      closeCopies();
      return -1;
    }
    copies.push_back(copy);
  }

  std::vector<std::string> env_text;
  for (char** e = environ; e != nullptr && *e != nullptr; e++) {
    if (startsWith(*e, "LISTEN_") || startsWith(*e, "SWITCHYARD_UPGRADE_FROM=")) continue;
    env_text.emplace_back(*e);
  }
  std::string names;
  for (size_t i = 0; i < sockets.size(); i++) names += (i ? ":" : "") + sockets[i].name;
  env_text.push_back("LISTEN_FDS=" + std::to_string(sockets.size()));
  env_text.push_back("LISTEN_FDNAMES=" + names);
  env_text.push_back("SWITCHYARD_UPGRADE_FROM=" + std::to_string(::getpid()));
  std::vector<char*> envp;
  for (std::string& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);

  // sh's $$ is its own pid, and exec keeps it: the new binary's pid.
  std::vector<std::string> argv_text = {"/bin/sh", "-c", "export LISTEN_PID=$$; exec \"$0\" \"$@\"",
                                        executable};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (size_t i = 0; i < copies.size(); i++) {
    // dup2 onto another number clears FD_CLOEXEC on the target only.
    posix_spawn_file_actions_adddup2(&actions, copies[i], kListenFdsStart + static_cast<int>(i));
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, "/bin/sh", &actions, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  closeCopies();
  if (rc != 0) {
    ec = {rc, std::system_category()};
    return -1;
  }
  return pid;
}

}  // namespace switchyard::systemd
