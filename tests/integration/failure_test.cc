// Upstream failures: nothing listening, an upstream that dies mid-body or
// answers garbage, and a pooled connection the upstream closed while idle
// (detected before use, or only when the request is already on it).
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <atomic>

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

[[route]]
path_prefix = "/healthy"
cluster = "healthy"

[[route]]
cluster = "origin"

[[cluster]]
name = "origin"
endpoints = ["{ORIGIN}"]

[[cluster]]
name = "healthy"
endpoints = ["{HEALTHY}"]
)toml";

class FailureTest : public ::testing::Test {
 protected:
  Origin healthy_{echoHandler()};

  std::string configFor(const std::string& origin) {
    return fill(std::string(kConfig), {{"ORIGIN", origin}, {"HEALTHY", healthy_.address()}});
  }
};

TEST_F(FailureTest, UpstreamRefusedGets502) {
  ProxyHarness proxy(configFor(loopback(unusedPort())));
  ASSERT_TRUE(proxy.ok());
  for (int i = 0; i < 3; i++) {
    Client c(proxy.port());
    Message m = c.get("/");
    EXPECT_EQ(m.status, 502) << m.raw_head;
    EXPECT_TRUE(c.waitClosed(patience(1s)));
  }
  Client c(proxy.port());
  EXPECT_EQ(c.get("/healthy").status, 200);
}

TEST_F(FailureTest, RefusedEndpointIsSkippedForIdempotentRequests) {
  // Two endpoints, one refusing: a GET that picked it is retried on the
  // other, so every GET succeeds.
  const std::string endpoints = loopback(unusedPort()) + "\", \"" + healthy_.address();
  ProxyHarness proxy(configFor(endpoints));
  ASSERT_TRUE(proxy.ok());
  for (int i = 0; i < 10; i++) {
    Client c(proxy.port());
    Message m = c.get("/r" + std::to_string(i));
    EXPECT_EQ(m.status, 200) << i << m.body;
  }
}

TEST_F(FailureTest, UpstreamDyingMidBodyTruncatesAndClosesTheClient) {
  Origin origin([](OriginConn& conn) {
    Message req;
    if (!conn.readRequest(req)) return;
    conn.send("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + std::string(50000, 'x'));
    // Returning closes the connection: half the promised body was sent.
  });
  ProxyHarness proxy(configFor(origin.address()));
  ASSERT_TRUE(proxy.ok());
  for (int i = 0; i < 3; i++) {
    Client c(proxy.port());
    ASSERT_TRUE(c.send(makeGet("/dies")));
    std::string head;
    ASSERT_TRUE(c.stream().readHead(head));
    EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
    std::string body;
    EXPECT_TRUE(c.waitClosed(patience(2s), &body)) << "the client connection hangs";
    EXPECT_EQ(body.size(), 50000u);
  }
  // The proxy keeps serving everyone else.
  Client c(proxy.port());
  EXPECT_EQ(c.get("/healthy/ok").body, "origin GET /healthy/ok");
}

TEST_F(FailureTest, UpstreamDyingBeforeAnsweringGets502) {
  Origin origin([](OriginConn& conn) {
    Message req;
    conn.readRequest(req);  // and close without a word
  });
  ProxyHarness proxy(configFor(origin.address()));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  EXPECT_EQ(c.get("/").status, 502);
  // A GET on a fresh connection is not retried: the upstream saw it.
  EXPECT_EQ(origin.requests(), 1);
}

TEST_F(FailureTest, GarbageFromUpstreamGets502) {
  Origin origin(httpHandler([](const Message&, OriginConn&) {
    return std::string("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
  }));
  ProxyHarness proxy(configFor(origin.address()));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  Message m = c.get("/");
  EXPECT_EQ(m.status, 502) << m.raw_head;
  EXPECT_TRUE(c.waitClosed(patience(1s)));
}

TEST_F(FailureTest, OversizedResponseHeadGets502) {
  // The proxy reads response heads into its 16 KiB buffer.
  Origin origin(httpHandler([](const Message&, OriginConn&) {
    std::string head = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 40; i++) head += "X-F" + std::to_string(i) + ": " + std::string(500, 'v') + "\r\n";
    return head + "Content-Length: 2\r\n\r\nok";
  }));
  ProxyHarness proxy(configFor(origin.address()));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  Message m = c.get("/");
  EXPECT_EQ(m.status, 502) << m.raw_head.substr(0, 200);
}

TEST_F(FailureTest, ClientLeavingMidResponseDoesNotPoisonThePool) {
  // The client reads 1 MiB of a 10 MiB response and leaves. The upstream
  // connection is mid-body: it must be closed, never pooled, and the next
  // request gets a clean answer.
  Origin origin(httpHandler([](const Message& r, OriginConn& conn) {
    if (r.target == "/big") return makeResponse(200, patternBytes(10 << 20, 7));
    return echoResponse(r, conn);
  }));
  ProxyHarness proxy(configFor(origin.address()), {.workers = 1});
  ASSERT_TRUE(proxy.ok());
  {
    Client c(proxy.port());
    ASSERT_TRUE(c.send(makeGet("/big")));
    std::string some;
    ASSERT_TRUE(c.stream().readExact(1 << 20, some));
  }
  // The origin's connection gets closed under it (its send fails).
  EXPECT_TRUE(Origin::eventually([&] { return origin.requests() == 1; }, 2s));
  for (int i = 0; i < 3; i++) {
    Client c(proxy.port());
    Message m = c.get("/after" + std::to_string(i));
    EXPECT_EQ(m.status, 200);
    EXPECT_EQ(m.body, "origin GET /after" + std::to_string(i));
  }
  EXPECT_EQ(origin.accepts(), 2);
}

TEST_F(FailureTest, PooledConnectionClosedWhileIdleIsNotUsed) {
  // The origin answers one request per connection with keep-alive, then
  // closes the connection 20 ms later, while it sits in the proxy's pool.
  Origin origin([](OriginConn& conn) {
    Message req;
    if (!conn.readRequest(req)) return;
    conn.send(echoResponse(req, conn));
    std::this_thread::sleep_for(20ms);
  });
  ProxyHarness proxy(configFor(origin.address()), {.workers = 1});
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  for (int i = 0; i < 5; i++) {
    Message m = c.get("/r" + std::to_string(i));
    ASSERT_EQ(m.status, 200) << i << m.raw_head << m.body;
    EXPECT_EQ(m.header("X-Origin-Conn"), std::to_string(i + 1));
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(origin.accepts(), 5);
}

TEST_F(FailureTest, PooledConnectionThatDiesUnderARequestIsRetriedForIdempotentMethods) {
  // Connection 1 answers its first request, then reads the second and
  // closes without answering: the race a pool cannot see coming (the
  // upstream closed just as the request was written). Later connections
  // behave.
  Origin origin([](OriginConn& conn) {
    for (int n = 1;; n++) {
      Message req;
      if (!conn.readRequest(req)) return;
      if (conn.index == 1 && n == 2) return;
      if (!conn.send(echoResponse(req, conn))) return;
    }
  });
  ProxyHarness proxy(configFor(origin.address()), {.workers = 1});
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  ASSERT_EQ(c.get("/first").header("X-Origin-Conn"), "1");
  Message m = c.get("/second");
  EXPECT_EQ(m.status, 200) << m.raw_head << m.body;
  EXPECT_EQ(m.body, "origin GET /second");
  EXPECT_EQ(m.header("X-Origin-Conn"), "2");
  EXPECT_EQ(origin.requests(), 3);  // /first, /second on 1 (lost), /second on 2
}

TEST_F(FailureTest, PooledConnectionThatDiesUnderAPostIsNotRetried) {
  Origin origin([](OriginConn& conn) {
    for (int n = 1;; n++) {
      Message req;
      if (!conn.readRequest(req)) return;
      if (conn.index == 1 && n == 2) return;
      if (!conn.send(echoResponse(req, conn))) return;
    }
  });
  ProxyHarness proxy(configFor(origin.address()), {.workers = 1});
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  ASSERT_EQ(c.get("/first").status, 200);
  ASSERT_TRUE(c.send("POST /once HTTP/1.1\r\nHost: example.com\r\nContent-Length: 4\r\n\r\nonce"));
  Message m = c.response();
  EXPECT_EQ(m.status, 502) << m.raw_head;
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(origin.requests(), 2);  // the POST reached the origin exactly once
  EXPECT_EQ(origin.accepts(), 1);
}

}  // namespace
}  // namespace switchyard::itest
