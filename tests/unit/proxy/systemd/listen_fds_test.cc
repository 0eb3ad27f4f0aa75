// InheritedSockets on real listening sockets placed at fds 3 and 4, as
// systemd or a binary upgrade leaves them: the protocol's checks, matching
// by address and by name, close-on-exec, and closing what nobody claims.
#include "proxy/systemd/listen_fds.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace switchyard::systemd {
namespace {

// A listening socket on 127.0.0.1, any port.
int listenLoopback(uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0) {
    ::close(fd);
    return -1;
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

bool isOpen(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

// Puts two listening sockets at fds 3 and 4 for one test, keeping whatever
// the test runner had there, and restores it afterwards.
class InheritedFds : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int target : {3, 4}) {
      saved_.push_back(isOpen(target) ? ::fcntl(target, F_DUPFD_CLOEXEC, 100) : -1);
    }
    for (int i = 0; i < 2; i++) {
      const int fd = listenLoopback(ports_[i]);
      ASSERT_GE(fd, 0);
      // The socket itself may have got fd 3 or 4: move it out of the way first.
      const int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 200);
      ::close(fd);
      ASSERT_EQ(::dup2(high, 3 + i), 3 + i);  // dup2 leaves FD_CLOEXEC clear, as exec does
      ::close(high);
    }
  }
  void TearDown() override {
    for (int i = 0; i < 2; i++) {
      if (saved_[i] >= 0) {
        ::dup2(saved_[i], 3 + i);
        ::close(saved_[i]);
      } else {
        ::close(3 + i);
      }
    }
  }
  std::string address(int i) const { return "127.0.0.1:" + std::to_string(ports_[i]); }
  std::string pid() const { return std::to_string(::getpid()); }

  uint16_t ports_[2] = {0, 0};
  std::vector<int> saved_;
};

TEST_F(InheritedFds, MatchesByAddressAndByNameForPortZero) {
  std::string error;
  InheritedSockets s =
      InheritedSockets::fromValues(pid().c_str(), "2", "public:admin", ::getpid(), error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s.sockets()[0].name, "public");
  EXPECT_EQ(s.sockets()[0].address, address(0));
  EXPECT_EQ(s.sockets()[1].address, address(1));
  // Inherited fds must not leak into processes we start.
  EXPECT_TRUE(::fcntl(3, F_GETFD) & FD_CLOEXEC);
  EXPECT_TRUE(::fcntl(4, F_GETFD) & FD_CLOEXEC);

  EXPECT_EQ(s.take("other", "127.0.0.2:" + std::to_string(ports_[0])), -1);  // wrong host
  EXPECT_EQ(s.take("anything", address(0)), 3);  // exact address, whatever the name
  EXPECT_EQ(s.take("anything", address(0)), -1);  // taken once only
  EXPECT_EQ(s.take("public", "127.0.0.1:0"), -1);  // port 0: the name must match too
  EXPECT_EQ(s.take("admin", "10.0.0.1:0"), -1);    // ...and the host
  EXPECT_EQ(s.take("admin", "127.0.0.1:0"), 4);
  EXPECT_TRUE(s.closeUnclaimed().empty());
  EXPECT_TRUE(isOpen(3));
  EXPECT_TRUE(isOpen(4));
}

TEST_F(InheritedFds, ClosesWhatNoListenerClaims) {
  std::string error;
  InheritedSockets s = InheritedSockets::fromValues(pid().c_str(), "2", nullptr, ::getpid(), error);
  ASSERT_TRUE(error.empty()) << error;
  EXPECT_EQ(s.take("x", address(1)), 4);
  const std::vector<std::string> closed = s.closeUnclaimed();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0], "fd 3 (unnamed) on " + address(0));
  EXPECT_FALSE(isOpen(3));
  EXPECT_TRUE(isOpen(4));
}

TEST_F(InheritedFds, IgnoresSocketsMeantForAnotherProcess) {
  std::string error;
  InheritedSockets s = InheritedSockets::fromValues("1", "2", nullptr, ::getpid(), error);
  EXPECT_TRUE(error.empty()) << error;
  EXPECT_EQ(s.size(), 0u);
  EXPECT_FALSE(::fcntl(3, F_GETFD) & FD_CLOEXEC);  // not ours: untouched
}

TEST_F(InheritedFds, RefusesMalformedVariables) {
  const std::string self = pid();
  struct Case {
    const char* pid;
    const char* fds;
    const char* names;
    const char* error;
  };
  const Case cases[] = {
      {nullptr, "2", nullptr, "LISTEN_PID is missing"},
      {"12x", "2", nullptr, "LISTEN_PID is missing or not a number"},
      {self.c_str(), "two", nullptr, "LISTEN_FDS is not a number"},
      {self.c_str(), "-1", nullptr, "LISTEN_FDS is not a number"},
      {self.c_str(), "99999", nullptr, "LISTEN_FDS is not a number"},
      {self.c_str(), "2", "only-one", "LISTEN_FDNAMES has 1 names for 2 fds"},
      {self.c_str(), "90", nullptr, "fd 5 is inherited, but it is not open"},
  };
  for (const Case& c : cases) {
    std::string error;
    InheritedSockets s = InheritedSockets::fromValues(c.pid, c.fds, c.names, ::getpid(), error);
    EXPECT_EQ(s.size(), 0u) << c.error;
    EXPECT_NE(error.find(c.error), std::string::npos) << "want \"" << c.error << "\", got \"" << error << "\"";
  }
}

TEST_F(InheritedFds, FromEnvironmentConsumesTheVariables) {
  ASSERT_EQ(::setenv("LISTEN_PID", pid().c_str(), 1), 0);
  ASSERT_EQ(::setenv("LISTEN_FDS", "2", 1), 0);
  ASSERT_EQ(::setenv("LISTEN_FDNAMES", "a:b", 1), 0);
  std::string error;
  InheritedSockets s = InheritedSockets::fromEnvironment(error);
  EXPECT_TRUE(error.empty()) << error;
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(std::getenv("LISTEN_PID"), nullptr);
  EXPECT_EQ(std::getenv("LISTEN_FDS"), nullptr);
  EXPECT_EQ(std::getenv("LISTEN_FDNAMES"), nullptr);
  // Nothing set: nothing inherited, no error.
  InheritedSockets none = InheritedSockets::fromEnvironment(error);
  EXPECT_TRUE(error.empty()) << error;
  EXPECT_EQ(none.size(), 0u);
}

}  // namespace
}  // namespace switchyard::systemd
