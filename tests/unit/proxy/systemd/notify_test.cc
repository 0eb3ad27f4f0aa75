// Notifier against a real AF_UNIX datagram socket standing in for systemd:
// a filesystem path and an abstract name, the exact bytes of each message,
// and the no-op when $NOTIFY_SOCKET is unset.
#include "proxy/systemd/notify.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace switchyard::systemd {
namespace {

// A bound datagram socket: what systemd listens on.
class FakeSystemd {
 public:
  // `name` starting with '@' is abstract; otherwise a path under TEST_TMPDIR.
  explicit FakeSystemd(const std::string& name) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (name[0] == '@') {
      path_ = name + "-" + std::to_string(::getpid());
    } else {
      // Not under TEST_TMPDIR: sun_path holds only 108 bytes.
      path_ = "/tmp/switchyard-" + std::to_string(::getpid()) + "-" + name;
      ::unlink(path_.c_str());
    }
    if (path_.size() >= sizeof addr.sun_path) return;
    std::memcpy(addr.sun_path, path_.data(), path_.size());
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size());
    if (path_[0] == '@') {
      addr.sun_path[0] = '\0';
    } else {
      len += 1;
    }
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0;
  }
  ~FakeSystemd() {
    ::close(fd_);
    if (path_[0] == '/') ::unlink(path_.c_str());
  }
  bool bound() const { return bound_; }
  const std::string& path() const { return path_; }

  // The next datagram, or "<none>" after 2 s.
  std::string receive() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 2000) != 1) return "<none>";
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n < 0 ? "<error>" : std::string(buf, static_cast<size_t>(n));
  }
  bool empty() {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }

 private:
  int fd_ = -1;
  bool bound_ = false;
  std::string path_;
};

TEST(Notifier, SendsEachMessageToAPathSocket) {
  FakeSystemd systemd("notify.sock");
  ASSERT_TRUE(systemd.bound());
  Notifier n(systemd.path());
  ASSERT_TRUE(n.enabled());

  EXPECT_FALSE(n.ready("serving 2 listeners"));
  EXPECT_EQ(systemd.receive(), "READY=1\nSTATUS=serving 2 listeners\n");

  const uint64_t before = monotonicUsec();
  EXPECT_FALSE(n.reloading("reloading /etc/switchyard/switchyard.toml"));
  const uint64_t after = monotonicUsec();
  const std::string reloading = systemd.receive();
  ASSERT_EQ(reloading.rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << reloading;
  const size_t at = std::strlen("RELOADING=1\nMONOTONIC_USEC=");
  const size_t end = reloading.find('\n', at);
  const uint64_t usec = std::stoull(reloading.substr(at, end - at));
  EXPECT_GE(usec, before);
  EXPECT_LE(usec, after);
  EXPECT_EQ(reloading.substr(end + 1), "STATUS=reloading /etc/switchyard/switchyard.toml\n");

  EXPECT_FALSE(n.stopping(""));
  EXPECT_EQ(systemd.receive(), "STOPPING=1\n");
  EXPECT_FALSE(n.status("two\nlines"));
  EXPECT_EQ(systemd.receive(), "STATUS=two lines\n");
  EXPECT_FALSE(n.readyAsMainPid(4242, "upgraded"));
  EXPECT_EQ(systemd.receive(), "MAINPID=4242\nREADY=1\nSTATUS=upgraded\n");
  EXPECT_TRUE(systemd.empty());
}

TEST(Notifier, SendsToAnAbstractSocket) {
  FakeSystemd systemd("@switchyard-notify-test");
  ASSERT_TRUE(systemd.bound());
  Notifier n(systemd.path());
  EXPECT_FALSE(n.ready(""));
  EXPECT_EQ(systemd.receive(), "READY=1\n");
}

TEST(Notifier, ReadsNotifySocketFromTheEnvironment) {
  FakeSystemd systemd("env.sock");
  ASSERT_TRUE(systemd.bound());
  ASSERT_EQ(::setenv("NOTIFY_SOCKET", systemd.path().c_str(), 1), 0);
  Notifier n = Notifier::fromEnvironment();
  EXPECT_EQ(n.socketPath(), systemd.path());
  EXPECT_FALSE(n.stopping("bye"));
  EXPECT_EQ(systemd.receive(), "STOPPING=1\nSTATUS=bye\n");
  ASSERT_EQ(::unsetenv("NOTIFY_SOCKET"), 0);
}

TEST(Notifier, DisabledWithoutNotifySocket) {
  ASSERT_EQ(::unsetenv("NOTIFY_SOCKET"), 0);
  Notifier n = Notifier::fromEnvironment();
  EXPECT_FALSE(n.enabled());
  EXPECT_FALSE(n.ready("ignored"));
  EXPECT_FALSE(n.reloading("ignored"));
}

TEST(Notifier, ReportsErrors) {
  // Nobody listens there: the error is returned, not thrown or ignored.
  Notifier gone("/tmp/switchyard-" + std::to_string(::getpid()) + "-nobody.sock");
  EXPECT_TRUE(gone.ready(""));
  // Neither a path nor an abstract name.
  EXPECT_EQ(Notifier("relative.sock").ready(""), std::errc::invalid_argument);
  EXPECT_EQ(Notifier("/" + std::string(200, 'x')).ready(""), std::errc::invalid_argument);
}

}  // namespace
}  // namespace switchyard::systemd
