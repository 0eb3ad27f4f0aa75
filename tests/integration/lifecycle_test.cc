// Server lifecycle: drain (SIGTERM's path) and apply (SIGHUP's path).
#include <gtest/gtest.h>

#include <atomic>

#include "tests/integration/origin.h"
#include "tests/integration/proxy_harness.h"

namespace switchyard::itest {
namespace {

Ms since(Clock::time_point t) { return std::chrono::duration_cast<Ms>(Clock::now() - t); }

// Whether the proxy has accepted (and counts) `n` client connections within 2 s.
bool acceptedConnections(ProxyHarness& proxy, int64_t n) {
  return Origin::eventually(
      [&] {
        int64_t open = 0;
        proxy.inTask([&] { open = proxy.server().activeConnections(); });
        return open == n;
      },
      2s);
}

constexpr std::string_view kDrainConfig = R"toml(
[log]
access = "off"

[[listener]]
name = "main"
address = "127.0.0.1:0"

[[route]]
path_prefix = "/direct"
direct_response = { status = 200, body = "direct\n" }

[[route]]
cluster = "origin"

[[cluster]]
name = "origin"
endpoints = ["{ORIGIN}"]
)toml";

TEST(DrainTest, ClosesIdleConnectionsAndLetsInFlightResponsesFinish) {
  // /slow answers after 500 ms, in two parts.
  Origin origin(httpHandler([](const Message& r, OriginConn& conn) {
    if (r.target != "/slow") return echoResponse(r, conn);
    std::this_thread::sleep_for(300ms);
    conn.send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nslow-");
    std::this_thread::sleep_for(200ms);
    return std::string("done!");
  }));
  ProxyHarness proxy(fill(std::string(kDrainConfig), {{"ORIGIN", origin.address()}}));
  ASSERT_TRUE(proxy.ok());
  const uint16_t port = proxy.port();

  Client idle(port);
  ASSERT_EQ(idle.get("/").status, 200);
  Client busy(port);
  ASSERT_TRUE(busy.send(makeGet("/slow")));
  ASSERT_TRUE(Origin::eventually([&] { return origin.requests() == 2; }, 2s));

  const auto start = Clock::now();
  ProxyHarness::Pending drain = proxy.startTask([&] { proxy.server().drain(patience(5s)); });
  // The idle connection closes at once, without a response.
  std::string received;
  EXPECT_TRUE(idle.waitClosed(patience(300ms), &received));
  EXPECT_EQ(received, "");
  // No new connection is accepted.
  EXPECT_TRUE(Origin::eventually(
      [&] {
        Client late(port, 1s);
        return !late.connected() || late.waitClosed(200ms);
      },
      1s));
  // The in-flight response completes, marked as the connection's last.
  Message m = busy.response();
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.body, "slow-done!");
  EXPECT_TRUE(containsIgnoreCase(m.header("Connection"), "close")) << m.raw_head;
  EXPECT_TRUE(busy.waitClosed(patience(1s)));
  // drain() returns once nothing is left, well before its timeout.
  EXPECT_TRUE(drain.waitFor(patience(2s)));
  EXPECT_LT(since(start), patience(2s));
  int64_t open = -1;
  proxy.inTask([&] { open = proxy.server().activeConnections(); });
  EXPECT_EQ(open, 0);
}

// A connection that has not sent a byte yet is idle, not in flight: a drain closes it
// after its short grace for a first request (ClientConnection::kFreshDrainGrace, 1 s)
// instead of waiting out header_read (here 30 s, beyond the drain's timeout).
TEST(DrainTest, ClosesSilentFreshConnectionsAfterAShortGrace) {
  Origin origin(echoHandler());
  std::string config = fill(std::string(kDrainConfig), {{"ORIGIN", origin.address()}});
  config.replace(config.find("address = \"127.0.0.1:0\""), 0,
                 "timeouts = { header_read = \"30s\" }\n");
  ProxyHarness proxy(config);
  ASSERT_TRUE(proxy.ok());
  Client silent(proxy.port());
  ASSERT_TRUE(silent.connected());
  ASSERT_TRUE(acceptedConnections(proxy, 1));
  const auto start = Clock::now();
  ProxyHarness::Pending drain = proxy.startTask([&] { proxy.server().drain(patience(10s)); });
  std::string received;
  EXPECT_TRUE(silent.waitClosed(patience(3s), &received));
  EXPECT_EQ(received, "");
  EXPECT_TRUE(drain.waitFor(patience(3s)));
  EXPECT_LT(since(start), patience(4s));
}

// A client that connected just before the drain and sends its first request during
// it gets an answer (Connection: close), not a closed connection: it has no reason to
// retry elsewhere, unlike a kept-alive client.
TEST(DrainTest, ServesTheFirstRequestOfAConnectionAcceptedBeforeIt) {
  Origin origin(echoHandler());
  ProxyHarness proxy(fill(std::string(kDrainConfig), {{"ORIGIN", origin.address()}}));
  ASSERT_TRUE(proxy.ok());
  Client fresh(proxy.port());
  ASSERT_TRUE(fresh.connected());
  ASSERT_TRUE(acceptedConnections(proxy, 1));
  ProxyHarness::Pending drain = proxy.startTask([&] { proxy.server().drain(patience(5s)); });
  std::this_thread::sleep_for(100ms);  // the drain is under way
  Message m = fresh.get("/direct");
  EXPECT_EQ(m.status, 200) << m.raw_head;
  EXPECT_TRUE(containsIgnoreCase(m.header("Connection"), "close")) << m.raw_head;
  EXPECT_TRUE(drain.waitFor(patience(3s)));
}

TEST(DrainTest, ConnectionsClosingDuringDrainLeaveNothingBehind) {
  // Clients close while drain() runs: each connection's hook Task and the
  // drain race for it. Whoever wins, the connection must be gone at once,
  // not when its idle timer (60 s here) would have fired.
  Origin origin(echoHandler());
  ProxyHarness proxy(fill(std::string(kDrainConfig), {{"ORIGIN", origin.address()}}));
  ASSERT_TRUE(proxy.ok());
  for (int round = 0; round < 3; round++) {
    std::vector<Client> conns;
    for (int i = 0; i < 200; i++) {
      conns.emplace_back(proxy.port());
      ASSERT_EQ(conns.back().get("/direct").status, 200);
    }
    if (round < 2) {
      // Warm-up rounds: closed by the clients only.
      conns.clear();
      int64_t open = -1;
      EXPECT_TRUE(Origin::eventually(
          [&] {
            proxy.inTask([&] { open = proxy.server().activeConnections(); });
            return open == 0;
          },
          2s))
          << open;
      continue;
    }
    const auto start = Clock::now();
    ProxyHarness::Pending drain = proxy.startTask([&] { proxy.server().drain(patience(10s)); });
    conns.clear();
    EXPECT_TRUE(drain.waitFor(patience(3s)));
    EXPECT_LT(since(start), patience(3s));
    int64_t open = -1;
    proxy.inTask([&] { open = proxy.server().activeConnections(); });
    EXPECT_EQ(open, 0);
  }
}

constexpr std::string_view kReloadConfig = R"toml(
[log]
access = "off"

{LISTENERS}

[[route]]
path_prefix = "/direct"
direct_response = { status = 200, body = "{BODY}" }

[[route]]
cluster = "origin"

[[cluster]]
name = "origin"
endpoints = ["{ORIGIN}"]
)toml";

std::string listener(std::string_view name, std::string_view address) {
  return "[[listener]]\nname = \"" + std::string(name) + "\"\naddress = \"" +
         std::string(address) + "\"\n";
}

std::string reloadConfig(std::string listeners, std::string body, const Origin& origin) {
  return fill(std::string(kReloadConfig),
              {{"LISTENERS", listeners}, {"BODY", body}, {"ORIGIN", origin.address()}});
}

TEST(ReloadTest, NewRoutesApplyToTheNextRequestOnAKeptAliveConnection) {
  Origin origin(echoHandler());
  Origin other(httpHandler([](const Message& r, OriginConn&) { return makeResponse(200, "other " + r.target); }));
  const std::string listeners = listener("main", "127.0.0.1:0");
  ProxyHarness proxy(reloadConfig(listeners, "before", origin));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  EXPECT_EQ(c.get("/direct").body, "before");
  EXPECT_EQ(c.get("/x").body, "origin GET /x");

  proxy.reload(reloadConfig(listeners, "after", other));
  EXPECT_EQ(c.get("/direct").body, "after");
  EXPECT_EQ(c.get("/x").body, "other /x");  // the cluster moved too
  // Same listener socket: the port did not change.
  Client fresh(proxy.port());
  EXPECT_EQ(fresh.get("/direct").body, "after");
}

TEST(ReloadTest, InFlightRequestFinishesOnItsSnapshot) {
  std::atomic<bool> release{false};
  Origin origin(httpHandler([&](const Message& r, OriginConn& conn) {
    if (r.target == "/slow") Origin::eventually([&] { return release.load(); }, 5s);
    return echoResponse(r, conn);
  }));
  Origin other(echoHandler());
  const std::string listeners = listener("main", "127.0.0.1:0");
  ProxyHarness proxy(reloadConfig(listeners, "before", origin));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  // The second request is pipelined behind the first: it is already in the
  // proxy's buffer when the reload happens, yet it is a new request.
  ASSERT_TRUE(c.send(makeGet("/slow") + makeGet("/direct")));
  ASSERT_TRUE(Origin::eventually([&] { return origin.requests() == 1; }, 2s));
  proxy.reload(reloadConfig(listeners, "after", other));
  release = true;
  Message m = c.response();
  EXPECT_EQ(m.body, "origin GET /slow");
  EXPECT_EQ(c.response().body, "after");
  EXPECT_EQ(c.get("/direct").body, "after");
  EXPECT_EQ(c.get("/x").body, "origin GET /x");
  EXPECT_EQ(other.requests(), 1);
}

TEST(ReloadTest, ListenersAreOpenedAndClosedByDifference) {
  Origin origin(echoHandler());
  ProxyHarness proxy(reloadConfig(listener("a", "127.0.0.1:0"), "one", origin));
  ASSERT_TRUE(proxy.ok());
  const uint16_t port_a = proxy.port("a");
  ASSERT_NE(port_a, 0);
  Client on_a(port_a);
  EXPECT_EQ(on_a.get("/direct").body, "one");

  // Add "b" (another loopback address, so the two port-0 listeners are
  // told apart by address): it accepts; "a" keeps its socket.
  std::vector<std::string> log = proxy.reload(reloadConfig(
      listener("a", "127.0.0.1:0") + listener("b", "127.0.0.2:0"), "two", origin));
  const uint16_t port_b = proxy.port("b");
  ASSERT_NE(port_b, 0) << ::testing::PrintToString(log);
  EXPECT_EQ(proxy.port("a"), port_a);
  {
    Client on_b(port_b, 2s, "127.0.0.2");
    ASSERT_TRUE(on_b.connected());
    EXPECT_EQ(on_b.get("/direct").body, "two");
  }
  EXPECT_EQ(on_a.get("/direct").body, "two");

  // Remove "a": it stops accepting; "b" goes on.
  proxy.reload(reloadConfig(listener("b", "127.0.0.2:0"), "three", origin));
  EXPECT_EQ(proxy.port("a"), 0);
  {
    Client refused(port_a, 1s);
    EXPECT_TRUE(!refused.connected() || refused.waitClosed(patience(1s)));
  }
  // The kept-alive connection of the removed listener is closed, not served
  // by a listener that no longer exists.
  std::string received;
  on_a.send(makeGet("/direct"));
  EXPECT_TRUE(on_a.waitClosed(patience(1s), &received));
  EXPECT_EQ(received, "");
  Client on_b(port_b, 2s, "127.0.0.2");
  EXPECT_EQ(on_b.get("/direct").body, "three");
}

TEST(ReloadTest, TwoPortZeroListenersOnOneAddressAreDistinct) {
  // Port 0 never conflicts (docs/CONFIG.md): two listeners may both ask for
  // 127.0.0.1:0. Each must keep its own name, routes and identity across
  // reloads.
  Origin origin(echoHandler());
  constexpr std::string_view kConfig = R"toml(
[log]
access = "off"

[[listener]]
name = "a"
address = "127.0.0.1:0"

[[listener]]
name = "b"
address = "127.0.0.1:0"

[[route]]
listener = "a"
direct_response = { status = 200, body = "A{V}" }

[[route]]
listener = "b"
direct_response = { status = 200, body = "B{V}" }
)toml";
  ProxyHarness proxy(fill(std::string(kConfig), {{"V", "1"}}));
  ASSERT_TRUE(proxy.ok());
  const uint16_t a = proxy.port("a");
  const uint16_t b = proxy.port("b");
  ASSERT_NE(a, 0);
  ASSERT_NE(b, 0);
  ASSERT_NE(a, b);
  EXPECT_EQ(Client(a).get("/").body, "A1");
  EXPECT_EQ(Client(b).get("/").body, "B1");
  proxy.reload(fill(std::string(kConfig), {{"V", "2"}}));
  EXPECT_EQ(proxy.port("a"), a);
  EXPECT_EQ(proxy.port("b"), b);
  EXPECT_EQ(Client(a).get("/").body, "A2");
  EXPECT_EQ(Client(b).get("/").body, "B2");
}

}  // namespace
}  // namespace switchyard::itest
