// Connection management on both sides of the proxy: keep-alive and upstream
// reuse, HTTP/1.0 clients, pipelining, Expect: 100-continue, interim (1xx)
// responses, bodiless responses (HEAD, 204, 304) and an upgraded
// (WebSocket-style) connection echoed through the proxy.
#include <sys/socket.h>

#include <gtest/gtest.h>

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
path_prefix = "/direct"
direct_response = { status = 200, body = "direct\n" }

[[route]]
cluster = "origin"

[[cluster]]
name = "origin"
endpoints = ["{ORIGIN}"]
)toml";

std::string configFor(const Origin& origin) {
  return fill(std::string(kConfig), {{"ORIGIN", origin.address()}});
}

TEST(KeepAliveTest, ManyRequestsOnOneClientConnectionReuseOneUpstreamConnection) {
  Origin origin(echoHandler());
  // One worker: upstream pools are per worker (P), and a connection's Task
  // may resume on any P; with one P, reuse must be exact.
  ProxyHarness proxy(configFor(origin), {.workers = 1});
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  for (int i = 0; i < 50; i++) {
    Message m = c.get("/r" + std::to_string(i));
    ASSERT_EQ(m.status, 200) << i;
    EXPECT_EQ(m.body, "origin GET /r" + std::to_string(i));
    EXPECT_EQ(m.header("X-Origin-Conn"), "1");
    EXPECT_FALSE(containsIgnoreCase(m.header("Connection"), "close"));
  }
  EXPECT_EQ(origin.accepts(), 1);
  EXPECT_EQ(origin.requests(), 50);
}

TEST(KeepAliveTest, UpstreamConnectionsAreReusedWithSeveralWorkers) {
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(origin), {.workers = 2});
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  for (int i = 0; i < 50; i++) ASSERT_EQ(c.get("/").status, 200) << i;
  // Reused, though not necessarily one per worker: a Task that starts on
  // one P and resumes on another takes from the first P's pool and returns
  // the connection to the second's (pools are caches, idle_pool.h), so a
  // few extra connections can open before both pools hold one.
  EXPECT_LE(origin.accepts(), 10);
}

TEST(KeepAliveTest, Http10ClientIsClosedUnlessItAsksForKeepAlive) {
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(origin));
  ASSERT_TRUE(proxy.ok());
  {
    Client c(proxy.port());
    ASSERT_TRUE(c.send("GET /ten HTTP/1.0\r\n\r\n"));
    Message m = c.response();
    EXPECT_EQ(m.status, 200);
    EXPECT_EQ(m.body, "origin GET /ten");
    EXPECT_FALSE(m.chunked);
    EXPECT_TRUE(c.waitClosed(patience(2s)));
  }
  // The origin saw an HTTP/1.0 request (so it cannot answer chunked).
  ASSERT_EQ(origin.received().size(), 1u);
  EXPECT_EQ(origin.received()[0].version, "HTTP/1.0");
  {
    Client c(proxy.port());
    for (int i = 0; i < 3; i++) {
      ASSERT_TRUE(c.send("GET /ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
      Message m = c.response();
      ASSERT_EQ(m.status, 200) << i;
      EXPECT_EQ(m.body, "origin GET /ka");
      EXPECT_TRUE(containsIgnoreCase(m.header("Connection"), "keep-alive")) << m.raw_head;
    }
    EXPECT_TRUE(c.staysSilent(100ms));  // still open
    // Direct responses follow the same rule.
    ASSERT_TRUE(c.send("GET /direct HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    EXPECT_EQ(c.response().body, "direct\n");
    ASSERT_TRUE(c.send("GET /direct HTTP/1.0\r\n\r\n"));
    EXPECT_EQ(c.response().body, "direct\n");
    EXPECT_TRUE(c.waitClosed(patience(2s)));
  }
}

TEST(KeepAliveTest, Http11ConnectionCloseIsHonoured) {
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(origin));
  ASSERT_TRUE(proxy.ok());
  for (const char* target : {"/via-origin", "/direct"}) {
    Client c(proxy.port());
    Message m = c.get(target, "example.com", "Connection: close\r\n");
    EXPECT_EQ(m.status, 200) << target;
    EXPECT_TRUE(containsIgnoreCase(m.header("Connection"), "close")) << m.raw_head;
    EXPECT_TRUE(c.waitClosed(patience(2s))) << target;
  }
}

TEST(KeepAliveTest, Http10ClientGetsNoChunkedBodyFromAChunkingOrigin) {
  // An origin that chunks whenever it may: HTTP/1.1 requests only.
  Origin origin(httpHandler([](const Message& r, OriginConn&) -> std::string {
    if (r.version == "HTTP/1.0") return makeResponse(200, "plain", {}, true);
    return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nchunk\r\n0\r\n\r\n";
  }));
  ProxyHarness proxy(configFor(origin));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  Message m = c.response();
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.body, "plain");
  EXPECT_FALSE(m.chunked);
}

TEST(KeepAliveTest, PipelinedRequestsAreAnsweredInOrder) {
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(origin));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  // Three requests in one write, one with a body and one direct.
  std::string batch = makeGet("/one") +
                      "POST /two HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello" +
                      makeGet("/direct/three") + makeGet("/four");
  ASSERT_TRUE(c.send(batch));
  Message m1 = c.response();
  Message m2 = c.response();
  Message m3 = c.response();
  Message m4 = c.response();
  EXPECT_EQ(m1.body, "origin GET /one");
  EXPECT_EQ(m2.body, "origin POST /two");
  EXPECT_EQ(m2.header("X-Request-Body-Hash"), hex(fnv1a("hello")));
  EXPECT_EQ(m3.body, "direct\n");
  EXPECT_EQ(m4.body, "origin GET /four");
  // The connection is still usable afterwards.
  EXPECT_EQ(c.get("/five").body, "origin GET /five");
}

TEST(KeepAliveTest, ExpectContinueGetsOne100ThenTheFinalResponse) {
  // The origin also sends 100 when asked: the client must still see one.
  Origin origin([](OriginConn& conn) {
    for (;;) {
      std::string head;
      if (!conn.stream.readHead(head)) return;
      Message req;
      parseHead(head, true, req);
      if (!req.has("Content-Length")) {
        conn.send(makeResponse(200, "origin " + req.method + " " + req.target));
        continue;
      }
      if (containsIgnoreCase(req.header("Expect"), "100-continue")) {
        conn.send("HTTP/1.1 100 Continue\r\n\r\n");
      }
      std::string body;
      conn.stream.readExact(std::stoul(req.header("Content-Length")), body);
      conn.send(makeResponse(201, "got " + body));
    }
  });
  ProxyHarness proxy(configFor(origin));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  ASSERT_TRUE(c.send(
      "PUT /upload HTTP/1.1\r\nHost: example.com\r\nExpect: 100-continue\r\n"
      "Content-Length: 11\r\n\r\n"));
  Message interim = c.response();
  ASSERT_EQ(interim.status, 100) << interim.raw_head;
  ASSERT_TRUE(c.send("hello world"));
  Message final_response = c.response();
  EXPECT_EQ(final_response.status, 201) << final_response.raw_head;
  EXPECT_EQ(final_response.body, "got hello world");
  EXPECT_EQ(c.get("/after").body, "origin GET /after");
}

TEST(KeepAliveTest, ExpectContinueAnsweredByTheProxyItselfDoesNotWaitForTheBody) {
  // A direct response needs no body: a client waiting for 100 before it
  // sends one gets the final answer at once (RFC 9110 10.1.1), and the
  // connection closes, since the body it announced never came.
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(origin));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port(), patience(3s));
  ASSERT_TRUE(c.send("POST /direct/upload HTTP/1.1\r\nHost: example.com\r\n"
                     "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  const auto start = Clock::now();
  Message m = c.response();
  EXPECT_EQ(m.status, 200) << m.raw_head;
  EXPECT_EQ(m.body, "direct\n");
  EXPECT_LT(Clock::now() - start, patience(1s));
  EXPECT_TRUE(containsIgnoreCase(m.header("Connection"), "close")) << m.raw_head;
  EXPECT_TRUE(c.waitClosed(patience(1s)));
}

TEST(KeepAliveTest, HalfClosedClientStillGetsItsResponse) {
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(origin));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  ASSERT_TRUE(c.send(makeGet("/half") + makeGet("/closed")));
  c.shutdownWrite();
  EXPECT_EQ(c.response().body, "origin GET /half");
  EXPECT_EQ(c.response().body, "origin GET /closed");
  EXPECT_TRUE(c.waitClosed(patience(2s)));
}

TEST(KeepAliveTest, InterimResponsesReachHttp11ClientsOnly) {
  Origin origin(httpHandler([](const Message&, OriginConn&) {
    return std::string("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n") +
           makeResponse(200, "final");
  }));
  ProxyHarness proxy(configFor(origin));
  ASSERT_TRUE(proxy.ok());
  {
    Client c(proxy.port());
    ASSERT_TRUE(c.send(makeGet("/hints")));
    Message hints = c.response();
    EXPECT_EQ(hints.status, 103);
    EXPECT_EQ(hints.header("Link"), "</style.css>; rel=preload");
    Message m = c.response();
    EXPECT_EQ(m.status, 200);
    EXPECT_EQ(m.body, "final");
    EXPECT_EQ(c.get("/again").status, 103);  // still in step
  }
  {
    Client c(proxy.port());
    ASSERT_TRUE(c.send("GET /hints HTTP/1.0\r\n\r\n"));
    Message m = c.response();
    EXPECT_EQ(m.status, 200) << m.raw_head;
    EXPECT_EQ(m.body, "final");
  }
}

TEST(KeepAliveTest, HeadAnd204And304CarryNoBody) {
  Origin origin(httpHandler([](const Message& r, OriginConn&) -> std::string {
    if (r.method == "HEAD") return "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
    if (r.target == "/204") return "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n";
    if (r.target == "/304") return "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n";
    return makeResponse(200, "body of " + r.target);
  }));
  ProxyHarness proxy(configFor(origin));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  ASSERT_TRUE(c.send("HEAD /h HTTP/1.1\r\nHost: example.com\r\n\r\n"));
  Message head = c.response(/*head_request=*/true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), "1234");
  Message no_content = c.get("/204");
  EXPECT_EQ(no_content.status, 204);
  EXPECT_EQ(no_content.header("X-A"), "1");
  Message not_modified = c.get("/304");
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_EQ(not_modified.header("ETag"), "\"v1\"");
  // Had any of them carried a body, this response would be out of step.
  Message m = c.get("/last");
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.body, "body of /last");
  EXPECT_TRUE(c.staysSilent(50ms));
}

// The origin's side of an upgrade: 101, a greeting in the same write as the
// 101, then it echoes every byte until the client half-closes.
void upgradeEcho(OriginConn& conn) {
  Message req;
  if (!conn.readRequest(req)) return;
  if (!equalsIgnoreCase(req.header("Upgrade"), "websocket")) {
    conn.send(makeResponse(400, "expected an upgrade", {}, true));
    return;
  }
  conn.send(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
      "hello from origin\n");
  std::string pending = conn.stream.takePending();  // bytes sent right after the request
  if (!pending.empty() && !conn.send(pending)) return;
  for (;;) {
    if (!conn.stream.fill()) break;
    if (!conn.send(conn.stream.takePending())) break;
  }
  ::shutdown(conn.stream.fd(), SHUT_WR);
}

TEST(KeepAliveTest, UpgradedConnectionEchoesRawBytesBothWays) {
  Origin origin(upgradeEcho);
  ProxyHarness proxy(configFor(origin));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  // The first frame travels with the request head, before the 101.
  ASSERT_TRUE(c.send(
      "GET /ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\nearly bytes|"));
  Message switching = c.response();
  ASSERT_EQ(switching.status, 101) << switching.raw_head;
  EXPECT_TRUE(equalsIgnoreCase(switching.header("Upgrade"), "websocket"));
  EXPECT_TRUE(containsIgnoreCase(switching.header("Connection"), "upgrade"));
  std::string got;
  ASSERT_TRUE(c.stream().readExact(std::string("hello from origin\nearly bytes|").size(), got));
  EXPECT_EQ(got, "hello from origin\nearly bytes|");

  // Binary payloads, including bytes that look like HTTP, both ways.
  for (int round = 0; round < 5; round++) {
    std::string frame = patternBytes(1000 + round * 7000, round) +
                        "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_TRUE(c.send(frame));
    std::string echo;
    ASSERT_TRUE(c.stream().readExact(frame.size(), echo)) << round;
    EXPECT_EQ(fnv1a(echo), fnv1a(frame)) << round;
  }
  // A large frame, written while the echo streams back.
  const std::string big = patternBytes(4 << 20, 99);
  std::thread writer([&] { c.send(big); });
  std::string echo;
  EXPECT_TRUE(c.stream().readExact(big.size(), echo));
  writer.join();
  EXPECT_EQ(fnv1a(echo), fnv1a(big));

  // Half-close: the origin sees EOF, closes, and so does the proxy.
  c.shutdownWrite();
  EXPECT_TRUE(c.waitClosed(patience(3s)));
  EXPECT_EQ(origin.requests(), 1);  // the tunnelled bytes were never parsed as HTTP
}

TEST(KeepAliveTest, DeclinedUpgradeStaysHttp) {
  Origin origin(echoHandler());  // ignores Upgrade, answers 200
  ProxyHarness proxy(configFor(origin));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  Message m = c.get("/ws", "example.com", "Upgrade: websocket\r\nConnection: Upgrade\r\n");
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.body, "origin GET /ws");
  // The origin was asked to upgrade (the fields were kept for it).
  ASSERT_EQ(origin.received().size(), 1u);
  EXPECT_EQ(origin.received()[0].header("Upgrade"), "websocket");
  // The connection carries HTTP again.
  Message next = c.get("/next");
  EXPECT_EQ(next.body, "origin GET /next");
}

}  // namespace
}  // namespace switchyard::itest
