// spawnWithSockets, observed from the child: a shell that records its pid,
// the LISTEN_* variables and which sockets sit at fds 3 and 4. The fds
// must be the very sockets the parent holds (same inode), not copies bound
// anew, or a binary upgrade would refuse connections.
#include "proxy/systemd/handoff.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace switchyard::systemd {
namespace {

int listenLoopback() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string socketLink(int fd) {
  struct stat st {};
  ::fstat(fd, &st);
  return "socket:[" + std::to_string(st.st_ino) + "]";
}

int waitExit(pid_t pid) {
  for (int i = 0; i < 500; i++) {  // 10 s
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);  // our own child only
  ::waitpid(pid, nullptr, 0);
  return -2;
}

TEST(Handoff, ChildGetsTheSameSocketsAndItsOwnPid) {
  const int a = listenLoopback();
  const int b = listenLoopback();
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string out = std::string(tmp != nullptr ? tmp : "/tmp") + "/handoff.out";
  ::setenv("LISTEN_FDS", "7", 1);  // stale values of our own must not reach the child
  const std::string script =
      "{ echo \"$$ $LISTEN_PID $LISTEN_FDS $LISTEN_FDNAMES $SWITCHYARD_UPGRADE_FROM\"; "
      "readlink /proc/$$/fd/3; readlink /proc/$$/fd/4; "
      "test -e /proc/$$/fd/5 && echo fd5-open || echo fd5-closed; } > " + out;
  std::error_code ec;
  const pid_t pid =
      spawnWithSockets("/bin/sh", {"-c", script}, {{"public", a}, {"admin", b}}, ec);
  ::unsetenv("LISTEN_FDS");
  ASSERT_GT(pid, 0) << ec.message();
  EXPECT_EQ(waitExit(pid), 0);

  std::ifstream in(out);
  std::string first, fd3, fd4, fd5;
  std::getline(in, first);
  std::getline(in, fd3);
  std::getline(in, fd4);
  std::getline(in, fd5);
  std::istringstream words(first);
  std::string child_pid, listen_pid, listen_fds, names, from;
  words >> child_pid >> listen_pid >> listen_fds >> names >> from;
  EXPECT_EQ(child_pid, std::to_string(pid));  // exec kept the spawned pid
  EXPECT_EQ(listen_pid, child_pid);
  EXPECT_EQ(listen_fds, "2");
  EXPECT_EQ(names, "public:admin");
  EXPECT_EQ(from, std::to_string(::getpid()));
  EXPECT_EQ(fd3, socketLink(a));
  EXPECT_EQ(fd4, socketLink(b));
  EXPECT_EQ(fd5, "fd5-closed");  // the temporary copies are close-on-exec
  // The parent keeps its own fds.
  EXPECT_EQ(socketLink(a), socketLink(a));
  EXPECT_EQ(::close(a), 0);
  EXPECT_EQ(::close(b), 0);
}

TEST(Handoff, ReportsABadFd) {
  std::error_code ec;
  EXPECT_EQ(spawnWithSockets("/bin/true", {}, {{"x", 999}}, ec), -1);
  EXPECT_EQ(ec, std::errc::bad_file_descriptor);
}

TEST(Handoff, SelfExecutableIsThisTest) {
  const std::string self = selfExecutable();
  ASSERT_FALSE(self.empty());
  EXPECT_NE(self.find("handoff_test"), std::string::npos) << self;
}

}  // namespace
}  // namespace switchyard::systemd
