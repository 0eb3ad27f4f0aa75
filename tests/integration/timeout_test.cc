// Every timeout, with short settings so each fires in a few hundred
// milliseconds: listener header_read (slow-loris), idle keep-alive,
// request (a stalled body); cluster connect and response_header; and a
// stalled upstream body. Elapsed times are checked loosely: not before the
// timeout (minus scheduling slack), and well before "never".
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/integration/origin.h"
#include "tests/integration/proxy_harness.h"

namespace switchyard::itest {
namespace {

constexpr std::string_view kConfig = R"toml(
[log]
access = "off"

[[listener]]
name = "main"
address = "127.0.0.1:0"
timeouts = { header_read = "{HEADER_READ}", idle = "{IDLE}", request = "{REQUEST}" }

[[route]]
cluster = "origin"

[[cluster]]
name = "origin"
endpoints = ["{ORIGIN}"]
timeouts = { connect = "{CONNECT}", response_header = "{RESPONSE_HEADER}" }
)toml";

struct Timeouts {
  std::string header_read = "10s";
  std::string idle = "10s";
  std::string request = "0s";
  std::string connect = "5s";
  std::string response_header = "10s";
};

std::string configFor(const std::string& origin, const Timeouts& t) {
  return fill(std::string(kConfig), {{"ORIGIN", origin},
                                     {"HEADER_READ", t.header_read},
                                     {"IDLE", t.idle},
                                     {"REQUEST", t.request},
                                     {"CONNECT", t.connect},
                                     {"RESPONSE_HEADER", t.response_header}});
}

Ms since(Clock::time_point t) { return std::chrono::duration_cast<Ms>(Clock::now() - t); }

// Lower bound with slack for timer granularity; upper bound for "it fired".
constexpr Ms kSlack = 50ms;
Ms upper(Ms timeout) { return patience(timeout + 1500ms); }

TEST(TimeoutTest, HeaderReadStalledHeadGets408AndClose) {
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(origin.address(), {.header_read = "300ms"}));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  const auto start = Clock::now();
  ASSERT_TRUE(c.send("GET /slow HTTP/1.1\r\nHost: exam"));
  Message m = c.response();
  const Ms elapsed = since(start);
  EXPECT_EQ(m.status, 408) << m.raw_head;
  EXPECT_TRUE(c.waitClosed(patience(1s)));
  EXPECT_GE(elapsed, 300ms - kSlack);
  EXPECT_LT(elapsed, upper(300ms));
  EXPECT_EQ(origin.accepts(), 0);
}

TEST(TimeoutTest, HeaderReadTrickledHeadGets408) {
  // One byte every 30 ms: each read succeeds, but the head's deadline runs
  // from its first byte.
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(origin.address(), {.header_read = "300ms"}));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  const std::string head = makeGet("/slow") + "X-Padding: " + std::string(200, 'p') + "\r\n";
  const auto start = Clock::now();
  std::atomic<bool> stop{false};
  std::thread trickler([&] {
    for (size_t i = 0; i < head.size() && !stop; i++) {
      if (!c.send(head.substr(i, 1))) return;
      std::this_thread::sleep_for(30ms);
    }
  });
  std::string received;
  EXPECT_TRUE(c.waitClosed(upper(300ms), &received));
  const Ms elapsed = since(start);
  stop = true;
  trickler.join();
  EXPECT_EQ(received.rfind("HTTP/1.1 408", 0), 0u) << received;
  EXPECT_GE(elapsed, 300ms - kSlack);
  EXPECT_EQ(origin.accepts(), 0);
}

TEST(TimeoutTest, IdleKeepAliveConnectionIsClosedSilently) {
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(origin.address(), {.idle = "200ms"}));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  // Requests closer together than the idle timeout keep it open.
  for (int i = 0; i < 4; i++) {
    ASSERT_EQ(c.get("/").status, 200) << i;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(c.get("/").status, 200);
  const auto idle_since = Clock::now();
  std::string received;
  EXPECT_TRUE(c.waitClosed(upper(200ms), &received));
  const Ms elapsed = since(idle_since);
  EXPECT_EQ(received, "");  // no 408 for a connection between requests
  EXPECT_GE(elapsed, 200ms - kSlack);
}

TEST(TimeoutTest, FreshConnectionThatSendsNothingIsClosed) {
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(origin.address(), {.header_read = "200ms", .idle = "200ms"}));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  std::string received;
  EXPECT_TRUE(c.waitClosed(upper(200ms), &received));
  EXPECT_EQ(received, "");
}

// A listening socket whose accept queue is full: Linux drops further SYNs
// (tcp_conn_request: sk_acceptq_is_full), so a connect() to it hangs until
// the caller's deadline. Loopback only, and nothing is ever accepted.
class BlackHole {
 public:
  BlackHole() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    ::listen(fd_, 0);
    socklen_t len = sizeof sa;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    // Fill the queue: backlog 0 holds one connection; a few more SYNs sit
    // unanswered.
    for (int i = 0; i < 3; i++) {
      int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      ::connect(c, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
      fillers_.push_back(c);
    }
    std::this_thread::sleep_for(20ms);
  }
  ~BlackHole() {
    for (int c : fillers_) ::close(c);
    ::close(fd_);
  }
  uint16_t port() const { return port_; }

  // Whether a fresh connect() really hangs here (else the test is skipped).
  bool swallowsConnects() const {
    int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(port_);
    ::connect(c, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    pollfd p{c, POLLOUT, 0};
    const bool hung = ::poll(&p, 1, 200) == 0;
    ::close(c);
    return hung;
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::vector<int> fillers_;
};

TEST(TimeoutTest, ClusterConnectTimeoutGets504) {
  BlackHole hole;
  if (!hole.swallowsConnects()) GTEST_SKIP() << "this kernel answers SYNs to a full queue";
  ProxyHarness proxy(configFor(loopback(hole.port()), {.connect = "300ms"}));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  const auto start = Clock::now();
  Message m = c.get("/");
  const Ms elapsed = since(start);
  EXPECT_EQ(m.status, 504) << m.raw_head << m.body;
  EXPECT_GE(elapsed, 300ms - kSlack);
  EXPECT_LT(elapsed, upper(300ms));
}

TEST(TimeoutTest, ResponseHeaderTimeoutGets504) {
  // The origin reads the request and never answers (until the proxy
  // closes the connection on it).
  Origin origin([](OriginConn& conn) {
    Message req;
    if (!conn.readRequest(req)) return;
    std::string rest;
    conn.stream.readToEof(rest);
  });
  ProxyHarness proxy(configFor(origin.address(), {.response_header = "300ms"}));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  const auto start = Clock::now();
  Message m = c.get("/");
  const Ms elapsed = since(start);
  EXPECT_EQ(m.status, 504) << m.raw_head << m.body;
  EXPECT_GE(elapsed, 300ms - kSlack);
  EXPECT_LT(elapsed, upper(300ms));
  EXPECT_TRUE(c.waitClosed(patience(1s)));
  EXPECT_EQ(origin.requests(), 1);
}

TEST(TimeoutTest, StalledRequestBodyGets408WhenTheRequestTimesOut) {
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(origin.address(), {.request = "400ms"}));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  const auto start = Clock::now();
  ASSERT_TRUE(c.send("POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: 100\r\n\r\n"
                     "only ten.."));
  Message m = c.response();
  const Ms elapsed = since(start);
  EXPECT_EQ(m.status, 408) << m.raw_head;
  EXPECT_TRUE(c.waitClosed(patience(1s)));
  EXPECT_GE(elapsed, 400ms - kSlack);
  EXPECT_LT(elapsed, upper(400ms));
  // The origin got a truncated body and a closed connection, never a request.
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(origin.requests(), 0);
}

TEST(TimeoutTest, StalledRequestBodyGets408AfterTheIdleTimeout) {
  // No request timeout: a body that stops arriving is bounded by idle.
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(origin.address(), {.idle = "300ms"}));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  const auto start = Clock::now();
  ASSERT_TRUE(c.send("POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: 100\r\n\r\n"
                     "only ten.."));
  Message m = c.response();
  const Ms elapsed = since(start);
  EXPECT_EQ(m.status, 408) << m.raw_head;
  EXPECT_GE(elapsed, 300ms - kSlack);
  EXPECT_LT(elapsed, upper(300ms));
  EXPECT_EQ(origin.requests(), 0);
}

TEST(TimeoutTest, StalledResponseBodyIsCutAfterTheIdleTimeout) {
  // The origin sends the head and half the body, then stalls with the
  // connection open. Without a request timeout, the listener's idle timeout
  // bounds each wait, as it does for a stalled request body: the client
  // sees a truncated response and a closed connection, not a hang.
  std::atomic<bool> release{false};
  Origin origin([&](OriginConn& conn) {
    Message req;
    if (!conn.readRequest(req)) return;
    conn.send("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + std::string(500, 'x'));
    Origin::eventually([&] { return release.load(); }, 10s);
  });
  ProxyHarness proxy(configFor(origin.address(), {.idle = "300ms"}));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  ASSERT_TRUE(c.send(makeGet("/stall")));
  const auto start = Clock::now();
  std::string received;
  EXPECT_TRUE(c.waitClosed(upper(300ms), &received));
  const Ms elapsed = since(start);
  release = true;
  EXPECT_EQ(received.rfind("HTTP/1.1 200", 0), 0u) << received.substr(0, 100);
  EXPECT_LT(received.size(), 1000u);
  EXPECT_GE(elapsed, 300ms - kSlack);
}

}  // namespace
}  // namespace switchyard::itest
