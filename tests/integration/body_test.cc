// Large bodies through the proxy, checksummed on both ends (FNV-1a 64 of
// the decoded bytes): 10 MiB requests with Content-Length and chunked,
// 10 MiB responses with Content-Length, chunked and close-delimited
// framing. The proxy's buffers are 16 KiB (server.cc), so every one of
// these streams; the two *Streams* tests show it: the far end receives the
// start of a body while the near end has not sent the rest yet.
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/integration/origin.h"
#include "tests/integration/proxy_harness.h"

namespace switchyard::itest {
namespace {

constexpr size_t kBig = 10 << 20;

constexpr std::string_view kConfig = R"toml(
[log]
access = "off"

[[listener]]
name = "main"
address = "127.0.0.1:0"

[[route]]
cluster = "origin"

[[cluster]]
name = "origin"
endpoints = ["{ORIGIN}"]
)toml";

std::string configFor(const Origin& origin) {
  return fill(std::string(kConfig), {{"ORIGIN", origin.address()}});
}

// Chunked encoding with irregular chunk sizes (1 byte .. 64 KiB).
std::string chunked(std::string_view body) {
  std::string out;
  size_t at = 0;
  uint64_t x = 12345;
  while (at < body.size()) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    size_t n = std::min<size_t>(body.size() - at, 1 + (x >> 33) % (64 * 1024));
    char size_line[32];
    std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
    out += size_line;
    out.append(body.substr(at, n));
    out += "\r\n";
    at += n;
  }
  out += "0\r\n\r\n";
  return out;
}

TEST(BodyTest, TenMiBRequestWithContentLength) {
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(origin));
  ASSERT_TRUE(proxy.ok());
  const std::string body = patternBytes(kBig, 1);
  Client c(proxy.port());
  ASSERT_TRUE(c.send("POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n"));
  ASSERT_TRUE(c.send(body));
  Message m = c.response();
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.header("X-Request-Body-Length"), std::to_string(kBig));
  EXPECT_EQ(m.header("X-Request-Body-Hash"), hex(fnv1a(body)));
  EXPECT_EQ(c.get("/after").status, 200);  // the connection is still in step
}

TEST(BodyTest, TenMiBChunkedRequest) {
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(origin));
  ASSERT_TRUE(proxy.ok());
  const std::string body = patternBytes(kBig, 2);
  Client c(proxy.port());
  ASSERT_TRUE(c.send("POST /upload HTTP/1.1\r\nHost: example.com\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n"));
  ASSERT_TRUE(c.send(chunked(body)));
  Message m = c.response();
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.header("X-Request-Body-Length"), std::to_string(kBig));
  EXPECT_EQ(m.header("X-Request-Body-Hash"), hex(fnv1a(body)));
  // The origin got it chunked (forwarded verbatim, not re-framed).
  ASSERT_EQ(origin.received().size(), 1u);
  EXPECT_TRUE(origin.received()[0].chunked);
  EXPECT_EQ(c.get("/after").status, 200);
}

// An origin that answers /cl, /chunked and /close with a 10 MiB body.
std::string bigResponse(const Message& r, OriginConn& conn) {
  const std::string body = patternBytes(kBig, 3);
  const std::string hash = hex(fnv1a(body));
  if (r.target == "/chunked") {
    return "HTTP/1.1 200 OK\r\nX-Body-Hash: " + hash + "\r\nTransfer-Encoding: chunked\r\n\r\n" +
           chunked(body);
  }
  if (r.target == "/close") {
    conn.send("HTTP/1.1 200 OK\r\nX-Body-Hash: " + hash + "\r\nConnection: close\r\n\r\n");
    conn.send(body);
    ::shutdown(conn.stream.fd(), SHUT_WR);
    return "";
  }
  return makeResponse(200, body, {{"X-Body-Hash", hash}});
}

TEST(BodyTest, TenMiBResponsesInEveryFraming) {
  Origin origin(httpHandler(bigResponse));
  ProxyHarness proxy(configFor(origin));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  for (const char* target : {"/cl", "/chunked"}) {
    Message m = c.get(target);
    ASSERT_EQ(m.status, 200) << target;
    EXPECT_EQ(m.body.size(), kBig) << target;
    EXPECT_EQ(hex(fnv1a(m.body)), m.header("X-Body-Hash")) << target;
  }
  // Close-delimited: the proxy relays it and closes the client connection.
  Message m = c.get("/close");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.body.size(), kBig);
  EXPECT_EQ(hex(fnv1a(m.body)), m.header("X-Body-Hash"));
  EXPECT_TRUE(c.waitClosed(patience(2s)));
}

TEST(BodyTest, RequestBodyStreamsToTheOrigin) {
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(origin));
  ASSERT_TRUE(proxy.ok());
  const std::string body = patternBytes(kBig, 4);
  Client c(proxy.port());
  ASSERT_TRUE(c.send("POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n"));
  ASSERT_TRUE(c.send(std::string_view(body).substr(0, 1 << 20)));
  // The origin sees most of the first MiB before the rest is even sent.
  EXPECT_TRUE(Origin::eventually([&] { return origin.bytesReceived() >= (512u << 10); }, 5s))
      << origin.bytesReceived();
  ASSERT_TRUE(c.send(std::string_view(body).substr(1 << 20)));
  Message m = c.response();
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.header("X-Request-Body-Hash"), hex(fnv1a(body)));
}

TEST(BodyTest, ResponseBodyStreamsToTheClient) {
  std::atomic<bool> client_got_first_part{false};
  const std::string body = patternBytes(kBig, 5);
  Origin origin([&](OriginConn& conn) {
    Message req;
    if (!conn.readRequest(req)) return;
    conn.send("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
    conn.send(std::string_view(body).substr(0, 1 << 20));
    // Hold the rest back until the client has seen the start.
    Origin::eventually([&] { return client_got_first_part.load(); }, 5s);
    conn.send(std::string_view(body).substr(1 << 20));
  });
  ProxyHarness proxy(configFor(origin));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  ASSERT_TRUE(c.send(makeGet("/stream")));
  std::string head;
  ASSERT_TRUE(c.stream().readHead(head));
  std::string got;
  ASSERT_TRUE(c.stream().readExact(512 << 10, got));
  client_got_first_part = true;
  ASSERT_TRUE(c.stream().readExact(body.size() - got.size(), got));
  EXPECT_EQ(fnv1a(got), fnv1a(body));
}

// An upstream that answers before reading the body (413 here) is heard at once:
// the proxy reads the response while it still streams the body, relays the 413, and
// closes the client connection (the rest of the body will never be read). Before,
// both sides waited on full socket buffers until the idle timeout and the client got
// no answer.
TEST(BodyTest, AnEarlyResponseArrivesWhileTheBodyIsStillBeingSent) {
  std::atomic<bool> release{false};
  Origin origin([&release](OriginConn& conn) {
    std::string head;
    if (!conn.stream.readHead(head)) return;
    conn.send(makeResponse(413, "too large\n", {}, /*close=*/true));
    // Hold the socket without reading (bounded), as a busy upstream would.
    for (int i = 0; i < 500 && !release.load(); i++) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  ProxyHarness proxy(configFor(origin));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  const size_t total = 256u << 20;  // far more than every socket buffer in between
  ASSERT_TRUE(c.send("POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: " +
                     std::to_string(total) + "\r\n\r\n"));
  std::atomic<bool> stop_sending{false};
  std::atomic<size_t> sent{0};
  std::thread sender([&] {
    const std::string chunk = patternBytes(64 * 1024, 3);
    while (!stop_sending.load() && sent.load() < total) {
      if (!c.send(chunk)) break;  // bounded by the socket's send timeout
      sent += chunk.size();
    }
  });
  const auto t0 = std::chrono::steady_clock::now();
  Message m = c.response();
  const auto waited = std::chrono::steady_clock::now() - t0;
  stop_sending = true;
  release = true;
  ::shutdown(c.fd(), SHUT_RDWR);  // unblocks a sender stuck in send()
  sender.join();
  EXPECT_EQ(m.status, 413);
  EXPECT_EQ(m.body, "too large\n");
  EXPECT_LT(waited, patience(std::chrono::seconds(3)));
  EXPECT_LT(sent.load(), total) << "the answer came before the body was sent";
}

// response_header counts from the end of the request: an upload that takes longer
// than it (here 1 s of body against 300 ms) is not a slow upstream, even though the
// response reader is already waiting while the body streams.
TEST(BodyTest, ASlowUploadIsNotCutByTheResponseHeaderTimeout) {
  Origin origin(echoHandler());
  ProxyHarness proxy(fill(R"toml(
[log]
access = "off"
[[listener]]
name = "main"
address = "127.0.0.1:0"
[[route]]
cluster = "origin"
[[cluster]]
name = "origin"
endpoints = ["{ORIGIN}"]
timeouts = { response_header = "300ms" }
)toml",
                          {{"ORIGIN", origin.address()}}));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  const std::string body = patternBytes(10 * 1000, 5);
  ASSERT_TRUE(c.send("POST /slow-upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n"));
  for (size_t at = 0; at < body.size(); at += 1000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(c.send(std::string_view(body).substr(at, 1000)));
  }
  Message m = c.response();
  EXPECT_EQ(m.status, 200) << m.raw_head;
  EXPECT_EQ(m.header("X-Request-Body-Hash"), hex(fnv1a(body)));
}

}  // namespace
}  // namespace switchyard::itest
