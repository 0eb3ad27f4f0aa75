// Header handling across the proxy, as seen by the origin and the client:
// hop-by-hop fields removed, forwarding fields added, repeated fields kept.
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
cluster = "origin"

[[cluster]]
name = "origin"
endpoints = ["{ORIGIN}"]
)toml";

class HeadersTest : public ::testing::Test {
 protected:
  explicit HeadersTest(Origin::Handler handler = echoHandler()) : origin_(std::move(handler)) {}

  Origin origin_;
  ProxyHarness proxy_{fill(std::string(kConfig), {{"ORIGIN", origin_.address()}})};

  Message onlyRequest() {
    std::vector<Message> r = origin_.received();
    EXPECT_EQ(r.size(), 1u);
    return r.empty() ? Message{} : r.back();
  }
};

TEST_F(HeadersTest, HopByHopRequestFieldsAreRemoved) {
  ASSERT_TRUE(proxy_.ok());
  Client c(proxy_.port());
  Message m = c.get("/hop", "example.com",
                    "Connection: keep-alive, X-Private\r\n"
                    "X-Private: secret\r\n"
                    "Keep-Alive: timeout=5\r\n"
                    "Proxy-Connection: keep-alive\r\n"
                    "TE: trailers\r\n"
                    "Trailer: X-Checksum\r\n"
                    "Upgrade: h2c\r\n"  // not an upgrade: Connection does not list it
                    "X-Kept: yes\r\n");
  ASSERT_EQ(m.status, 200);
  Message seen = onlyRequest();
  for (const char* name : {"X-Private", "Keep-Alive", "Proxy-Connection", "TE", "Trailer",
                           "Upgrade"}) {
    EXPECT_FALSE(seen.has(name)) << name << " reached the origin:\n" << seen.raw_head;
  }
  // Whatever Connection field the proxy sends is its own, not the client's.
  EXPECT_FALSE(containsIgnoreCase(seen.header("Connection"), "X-Private")) << seen.raw_head;
  EXPECT_EQ(seen.header("X-Kept"), "yes");
  EXPECT_EQ(seen.header("Host"), "example.com");
}

TEST_F(HeadersTest, ForwardingFieldsAreSet) {
  ASSERT_TRUE(proxy_.ok());
  Client c(proxy_.port());
  Message m = c.get("/fwd", "shop.example:8443",
                    "X-Forwarded-For: 203.0.113.7\r\n"
                    "X-Forwarded-Proto: https\r\n"
                    "X-Forwarded-Host: spoofed.example\r\n");
  ASSERT_EQ(m.status, 200);
  Message seen = onlyRequest();
  EXPECT_EQ(seen.count("X-Forwarded-For"), 1u) << seen.raw_head;
  EXPECT_EQ(seen.header("X-Forwarded-For"), "203.0.113.7, 127.0.0.1");
  EXPECT_EQ(seen.count("X-Forwarded-Proto"), 1u) << seen.raw_head;
  EXPECT_EQ(seen.header("X-Forwarded-Proto"), "http");
  EXPECT_EQ(seen.count("X-Forwarded-Host"), 1u) << seen.raw_head;
  EXPECT_EQ(seen.header("X-Forwarded-Host"), "shop.example:8443");
  EXPECT_TRUE(containsIgnoreCase(seen.header("Via"), "1.1 switchyard")) << seen.raw_head;
  // The response got a Via too.
  EXPECT_TRUE(containsIgnoreCase(m.header("Via"), "switchyard")) << m.raw_head;
}

TEST_F(HeadersTest, FirstHopGetsXForwardedForOfTheClientOnly) {
  ASSERT_TRUE(proxy_.ok());
  Client c(proxy_.port());
  ASSERT_EQ(c.get("/").status, 200);
  EXPECT_EQ(onlyRequest().header("X-Forwarded-For"), "127.0.0.1");
}

class ResponseHeadersTest : public HeadersTest {
 protected:
  ResponseHeadersTest()
      : HeadersTest(httpHandler([](const Message&, OriginConn&) {
          return std::string(
              "HTTP/1.1 200 OK\r\n"
              "Set-Cookie: a=1; Path=/\r\n"
              "X-Between: 1\r\n"
              "Set-Cookie: b=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT\r\n"
              "Set-Cookie: c=3\r\n"
              "Connection: X-Origin-Private\r\n"
              "X-Origin-Private: hidden\r\n"
              "Keep-Alive: timeout=30\r\n"
              "Content-Length: 2\r\n\r\nok");
        })) {}
};

TEST_F(ResponseHeadersTest, SetCookiesArePreservedInOrderAndHopByHopRemoved) {
  ASSERT_TRUE(proxy_.ok());
  Client c(proxy_.port());
  Message m = c.get("/cookies");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.body, "ok");
  std::vector<std::string> cookies = m.all("Set-Cookie");
  ASSERT_EQ(cookies.size(), 3u) << m.raw_head;
  EXPECT_EQ(cookies[0], "a=1; Path=/");
  EXPECT_EQ(cookies[1], "b=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT");
  EXPECT_EQ(cookies[2], "c=3");
  EXPECT_EQ(m.header("X-Between"), "1");
  EXPECT_FALSE(m.has("X-Origin-Private")) << m.raw_head;
  EXPECT_FALSE(m.has("Keep-Alive")) << m.raw_head;
  EXPECT_FALSE(containsIgnoreCase(m.header("Connection"), "X-Origin-Private"));
}

}  // namespace
}  // namespace switchyard::itest
