// Process: the real switchyard binary as a child of the test, the way an
// operator or a supervisor runs it.
//
// Its stdout and stderr are captured by reader threads so a test can wait
// for a log line (the bound port, "ready", "reloaded"). Extra environment
// variables and inherited fds let a test play systemd (NOTIFY_SOCKET,
// LISTEN_FDS). Only the child this object started is ever signalled, by
// pid; a child still running at destruction is killed and reaped.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/http_wire.h"

namespace switchyard::itest {

// The binary, through the runfiles tree (the test's working directory).
inline constexpr const char* kBinary = "proxy/switchyard";

// A path under TEST_TMPDIR.
std::string tempPath(const std::string& name);
// Writes then renames, as an operator's editor or config management would:
// a SIGHUP never sees half a file.
void writeFile(const std::string& path, const std::string& text);

struct ProcessOptions {
  std::vector<std::string> extra_env;  // "NAME=value", added to the test's environment
  // fds (of the test) to place at 3, 4, ... in the child, as systemd does.
  std::vector<int> inherit_fds;
  // Sets LISTEN_PID to the child's pid (needs inherit_fds); LISTEN_FDS and
  // LISTEN_FDNAMES come from extra_env.
  bool set_listen_pid = false;
};

class Process {
 public:
  explicit Process(std::vector<std::string> args, ProcessOptions options = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  void signal(int sig);

  // Waits for the exit; returns the exit status, or -1 on timeout or when
  // killed by a signal. Then waits for the end of its output, unless
  // `join_output` is false: a process it started (a binary upgrade) may
  // hold stdout and stderr open for longer.
  int wait(Ms timeout, bool join_output = true);

  std::string out();
  std::string err();

  // Waits until stderr matches `re`; returns the match's first group.
  std::optional<std::string> waitForErr(const std::regex& re, Ms timeout);
  // The port of listener `name` (or of the admin server for "admin") from its
  // start-up log line; 0 if the line does not come within `timeout`.
  uint16_t waitForPort(const std::string& name, Ms timeout);
  // Number of times `needle` occurs in stderr so far.
  size_t errCount(const std::string& needle);

 private:
  void drain(int fd, std::string& into);

  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string out_;  // guarded by mu_
  std::string err_;  // guarded by mu_
  std::thread out_reader_;
  std::thread err_reader_;
};

}  // namespace switchyard::itest
