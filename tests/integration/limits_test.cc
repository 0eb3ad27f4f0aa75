// Listener limits: max_connections (the next client waits in the backlog
// until a slot frees), max_header_bytes (431), max_body_bytes (413).
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
limits = { {LIMITS} }

[[route]]
path_prefix = "/direct"
direct_response = { status = 200, body = "direct\n" }

[[route]]
cluster = "origin"

[[cluster]]
name = "origin"
endpoints = ["{ORIGIN}"]
)toml";

std::string configFor(const Origin& origin, std::string limits) {
  return fill(std::string(kConfig), {{"ORIGIN", origin.address()}, {"LIMITS", limits}});
}

TEST(LimitsTest, MaxConnectionsHoldsTheNextClientUntilOneCloses) {
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(origin, "max_connections = 5"));
  ASSERT_TRUE(proxy.ok());
  std::vector<Client> five;
  for (int i = 0; i < 5; i++) {
    five.emplace_back(proxy.port());
    ASSERT_EQ(five.back().get("/direct").status, 200) << i;
  }
  // The sixth connects (the kernel's backlog) but is not served.
  Client sixth(proxy.port());
  ASSERT_TRUE(sixth.connected());
  ASSERT_TRUE(sixth.send(makeGet("/direct")));
  EXPECT_TRUE(sixth.staysSilent(300ms)) << "served beyond max_connections";
  // Idle connections count too: one more request on an old one still works.
  EXPECT_EQ(five[2].get("/").status, 200);
  // One leaves: the sixth is accepted and answered.
  five[0].close();
  Message m = sixth.response();
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.body, "direct\n");
}

TEST(LimitsTest, MaxHeaderBytesGets431) {
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(origin, "max_header_bytes = \"1KiB\""));
  ASSERT_TRUE(proxy.ok());
  {
    Client c(proxy.port());
    Message m = c.get("/", "example.com", "X-Big: " + std::string(700, 'b') + "\r\n");
    EXPECT_EQ(m.status, 200) << "a head under the limit";
  }
  Client c(proxy.port());
  Message m = c.get("/", "example.com", "X-Big: " + std::string(2000, 'b') + "\r\n");
  EXPECT_EQ(m.status, 431) << m.raw_head;
  EXPECT_TRUE(c.waitClosed(patience(1s)));
  EXPECT_EQ(origin.requests(), 1);
}

TEST(LimitsTest, HeadsBeyondTheBufferGet431EvenUnderALargerLimit) {
  // docs/CONFIG.md: heads are read into a 16 KiB buffer.
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(origin, "max_header_bytes = \"64KiB\""));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  std::string fields;
  for (int i = 0; i < 40; i++) fields += "X-F" + std::to_string(i) + ": " + std::string(500, 'v') + "\r\n";
  Message m = c.get("/", "example.com", fields);
  EXPECT_EQ(m.status, 431) << m.raw_head;
  EXPECT_EQ(origin.accepts(), 0);
}

TEST(LimitsTest, MaxBodyBytesGets413) {
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(origin, "max_body_bytes = \"1KiB\""));
  ASSERT_TRUE(proxy.ok());
  {
    Client c(proxy.port());
    const std::string body(1024, 'k');
    ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 1024\r\n\r\n" +
                       body));
    EXPECT_EQ(c.response().status, 200) << "a body at the limit";
  }
  const int accepts_before = origin.accepts();
  const uint64_t bytes_before = origin.bytesReceived();
  {
    // Content-Length over the limit: refused on the head, before any upstream.
    Client c(proxy.port());
    ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 1025\r\n\r\n" +
                       std::string(1025, 'k')));
    Message m = c.response();
    EXPECT_EQ(m.status, 413) << m.raw_head;
    EXPECT_TRUE(c.waitClosed(patience(1s)));
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(origin.bytesReceived(), bytes_before);
  }
  {
    // Chunked: the excess shows only while streaming; the origin's request
    // is cut short, never completed.
    Client c(proxy.port());
    ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "400\r\n" + std::string(1024, 'k') + "\r\n1\r\nk\r\n0\r\n\r\n"));
    Message m = c.response();
    EXPECT_EQ(m.status, 413) << m.raw_head;
    EXPECT_TRUE(c.waitClosed(patience(1s)));
  }
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(origin.requests(), 1);
  EXPECT_LE(origin.accepts(), accepts_before + 1);
}

}  // namespace
}  // namespace switchyard::itest
