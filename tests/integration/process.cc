#include "tests/integration/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string_view>

extern char** environ;

namespace switchyard::itest {

std::string tempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

void writeFile(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) std::perror(path.c_str());
}

Process::Process(std::vector<std::string> args, ProcessOptions options) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  // Inherited sockets: first copied above every target, then placed at 3...
  std::vector<int> copies;
  for (int fd : options.inherit_fds) copies.push_back(::fcntl(fd, F_DUPFD_CLOEXEC, 64));
  for (size_t i = 0; i < copies.size(); i++) {
    posix_spawn_file_actions_adddup2(&fa, copies[i], 3 + static_cast<int>(i));
  }
  // extra_env replaces a variable of the same name (getenv finds the first).
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; e++) {
    const std::string_view var(*e);
    bool replaced = false;
    for (const std::string& extra : options.extra_env) {
      replaced = replaced || var.substr(0, var.find('=') + 1) == extra.substr(0, extra.find('=') + 1);
    }
    if (!replaced) env.emplace_back(*e);
  }
  for (const std::string& e : options.extra_env) env.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  args.insert(args.begin(), kBinary);
  std::string path = kBinary;
  if (options.set_listen_pid) {
    // LISTEN_PID must be the binary's own pid: a shell exports its $$ and
    // execs the binary in place (what systemd does between fork and exec).
    args.insert(args.begin(), {"/bin/sh", "-c", "export LISTEN_PID=$$; exec \"$0\" \"$@\""});
    path = "/bin/sh";
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (posix_spawn(&pid_, path.c_str(), &fa, nullptr, argv.data(), envp.data()) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&fa);
  for (int fd : copies) ::close(fd);
  ::close(out[1]);
  ::close(err[1]);
  out_reader_ = std::thread([this, fd = out[0]] { drain(fd, out_); });
  err_reader_ = std::thread([this, fd = err[0]] { drain(fd, err_); });
}

Process::~Process() {
  if (pid_ > 0 && !exited_) {
    ::kill(pid_, SIGKILL);  // only the child this object started
    wait(patience(5s));
  }
  if (out_reader_.joinable()) out_reader_.join();
  if (err_reader_.joinable()) err_reader_.join();
}

void Process::signal(int sig) {
  if (pid_ > 0 && !exited_) ::kill(pid_, sig);
}

int Process::wait(Ms timeout, bool join_output) {
  if (exited_) return status_;
  const auto end = Clock::now() + timeout;
  for (;;) {
    int raw = 0;
    pid_t r = ::waitpid(pid_, &raw, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
      // Everything it wrote is in the pipes: read it all before anyone
      // looks at out() or err().
      if (join_output && out_reader_.joinable()) out_reader_.join();
      if (join_output && err_reader_.joinable()) err_reader_.join();
      return status_;
    }
    if (Clock::now() >= end) return -1;
    std::this_thread::sleep_for(10ms);
  }
}

std::string Process::out() {
  std::lock_guard<std::mutex> l(mu_);
  return out_;
}

std::string Process::err() {
  std::lock_guard<std::mutex> l(mu_);
  return err_;
}

uint16_t Process::waitForPort(const std::string& name, Ms timeout) {
  const std::regex re(name == "admin" ? R"(admin on 127\.0\.0\.1:(\d+))"
                                      : "listener \"" + name + R"(" on 127\.0\.0\.1:(\d+))");
  std::optional<std::string> port = waitForErr(re, timeout);
  return port ? static_cast<uint16_t>(std::stoi(*port)) : 0;
}

std::optional<std::string> Process::waitForErr(const std::regex& re, Ms timeout) {
  std::unique_lock<std::mutex> l(mu_);
  std::smatch m;
  if (cv_.wait_for(l, timeout, [&] { return std::regex_search(err_, m, re); })) {
    return m.size() > 1 ? m[1].str() : m[0].str();
  }
  return std::nullopt;
}

size_t Process::errCount(const std::string& needle) {
  std::lock_guard<std::mutex> l(mu_);
  size_t n = 0;
  for (size_t at = err_.find(needle); at != std::string::npos; at = err_.find(needle, at + 1)) n++;
  return n;
}

void Process::drain(int fd, std::string& into) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    std::lock_guard<std::mutex> l(mu_);
    into.append(buf, static_cast<size_t>(n));
    cv_.notify_all();
  }
  ::close(fd);
}

}  // namespace switchyard::itest
