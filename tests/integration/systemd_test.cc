// The real binary under a fake systemd: the sd_notify messages it sends
// (READY after binding, RELOADING + MONOTONIC_USEC then READY on SIGHUP,
// STOPPING on SIGTERM) to a datagram socket the test binds, and socket
// activation: listening sockets bound by the test and passed as fds 3 and
// 4 with LISTEN_FDS carry the traffic, while the test still holds the same
// addresses (a second bind() there would fail, so only adoption works).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <regex>
#include <string>

#include "tests/integration/http_wire.h"
#include "tests/integration/process.h"
#include "tests/integration/proxy_harness.h"

namespace switchyard::itest {
namespace {

// What systemd listens on: NOTIFY_SOCKET.
class NotifySocket {
 public:
  NotifySocket() {
    path_ = "/tmp/switchyard-itest-" + std::to_string(::getpid()) + ".notify";
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path_.c_str(), path_.size() + 1);
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  bool bound() const { return bound_; }
  std::string env() const { return "NOTIFY_SOCKET=" + path_; }
  // The next message, or "" after `timeout`.
  std::string next(Ms timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return "";
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

int listenLoopback(uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 64) != 0) {
    ::close(fd);
    return -1;
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

constexpr std::string_view kConfig = R"toml([admin]
address = "127.0.0.1:{ADMIN}"

[log]
access = "off"

[runtime]
workers = 1

[[listener]]
name = "main"
address = "127.0.0.1:{PORT}"

[[route]]
direct_response = { status = 200, body = "{BODY}" }
)toml";

TEST(Systemd, NotifiesReadyReloadingAndStopping) {
  NotifySocket systemd;
  ASSERT_TRUE(systemd.bound());
  const std::string path = tempPath("notify.toml");
  writeFile(path, fill(std::string(kConfig), {{"ADMIN", "0"}, {"PORT", "0"}, {"BODY", "one"}}));
  ProcessOptions options;
  options.extra_env = {systemd.env()};
  Process p({"-c", path}, options);
  ASSERT_TRUE(p.started());

  const std::string ready = systemd.next(patience(10s));
  EXPECT_EQ(ready.rfind("READY=1\nSTATUS=serving 1 listeners with 1 workers, config hash ", 0), 0u)
      << ready;
  // READY comes after the listener is bound: it answers right away.
  const uint16_t port = p.waitForPort("main", 1s);
  ASSERT_NE(port, 0) << p.err();
  EXPECT_EQ(Client(port).get("/").body, "one");

  writeFile(path, fill(std::string(kConfig), {{"ADMIN", "0"}, {"PORT", "0"}, {"BODY", "two"}}));
  p.signal(SIGHUP);
  const std::string reloading = systemd.next(patience(10s));
  EXPECT_TRUE(std::regex_match(reloading, std::regex("RELOADING=1\nMONOTONIC_USEC=\\d+\n"
                                                     "STATUS=reloading .*notify\\.toml\n")))
      << reloading;
  const std::string reloaded = systemd.next(patience(10s));
  EXPECT_EQ(reloaded.rfind("READY=1\nSTATUS=serving", 0), 0u) << reloaded;
  EXPECT_EQ(Client(port).get("/").body, "two");

  // A refused reload still ends the RELOADING state, and says so.
  writeFile(path, "[[listener]]\nname = \"main\"\naddress = \"nonsense\"\n");
  p.signal(SIGHUP);
  EXPECT_EQ(systemd.next(patience(10s)).rfind("RELOADING=1\n", 0), 0u);
  const std::string refused = systemd.next(patience(10s));
  EXPECT_NE(refused.find("READY=1\n"), std::string::npos) << refused;
  EXPECT_NE(refused.find("last reload failed"), std::string::npos) << refused;
  EXPECT_EQ(Client(port).get("/").body, "two");

  p.signal(SIGTERM);
  EXPECT_EQ(systemd.next(patience(10s)).rfind("STOPPING=1\nSTATUS=draining", 0), 0u);
  EXPECT_EQ(p.wait(patience(10s)), 0) << p.err();
  EXPECT_EQ(systemd.next(200ms), "");  // nothing after STOPPING
}

TEST(Systemd, AdoptsSocketActivatedListeners) {
  uint16_t port = 0, admin = 0;
  const int listener_fd = listenLoopback(port);
  const int admin_fd = listenLoopback(admin);
  ASSERT_GE(listener_fd, 0);
  ASSERT_GE(admin_fd, 0);
  const std::string path = tempPath("activated.toml");
  writeFile(path, fill(std::string(kConfig), {{"ADMIN", std::to_string(admin)},
                                             {"PORT", std::to_string(port)},
                                             {"BODY", "activated"}}));
  // The order and names are systemd's business: matching is by address.
  ProcessOptions options;
  options.extra_env = {"LISTEN_FDS=2", "LISTEN_FDNAMES=switchyard-admin:web"};
  options.inherit_fds = {admin_fd, listener_fd};
  options.set_listen_pid = true;
  Process p({"-c", path}, options);
  ASSERT_TRUE(p.started());
  ASSERT_TRUE(p.waitForErr(std::regex("switchyard: ready\n"), patience(10s))) << p.err();
  EXPECT_NE(p.err().find("adopted 2 of 2 inherited sockets"), std::string::npos) << p.err();
  EXPECT_EQ(Client(port).get("/").body, "activated");
  EXPECT_EQ(Client(admin).get("/healthz").status, 200);

  // The test's copies stay open: the kernel queue is shared, so closing the
  // proxy's copies (drain) is what stops it serving, not the test.
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(patience(10s)), 0) << p.err();
  ::close(listener_fd);
  ::close(admin_fd);
}

TEST(Systemd, ClosesInheritedSocketsNoListenerUses) {
  uint16_t stray_port = 0;
  const int stray = listenLoopback(stray_port);
  ASSERT_GE(stray, 0);
  const std::string path = tempPath("stray.toml");
  writeFile(path, fill(std::string(kConfig), {{"ADMIN", "0"}, {"PORT", "0"}, {"BODY", "x"}}));
  ProcessOptions options;
  options.extra_env = {"LISTEN_FDS=1"};
  options.inherit_fds = {stray};
  options.set_listen_pid = true;
  Process p({"-c", path}, options);
  ASSERT_TRUE(p.started());
  ASSERT_TRUE(p.waitForErr(std::regex("switchyard: ready\n"), patience(10s))) << p.err();
  EXPECT_NE(p.err().find("closed an inherited socket no listener uses: fd 3 (unnamed) on 127.0.0.1:" +
                         std::to_string(stray_port)),
            std::string::npos)
      << p.err();
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(patience(10s)), 0) << p.err();
  ::close(stray);
}

}  // namespace
}  // namespace switchyard::itest
