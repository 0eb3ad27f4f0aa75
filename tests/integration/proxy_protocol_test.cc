// PROXY protocol on a listener ([[listener]] proxy_protocol = true): the address in a v1
// or v2 header becomes the client's (X-Forwarded-For), keep-alive goes on after it, a
// header split across reads is assembled, and a connection with a malformed header, or
// none, is closed before anything reaches an upstream. A listener without the option
// treats such a header as the bad request it is.
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/origin.h"
#include "tests/integration/proxy_harness.h"

namespace switchyard::itest {
namespace {

constexpr std::string_view kConfig = R"toml(
[log]
access = "off"

[[listener]]
name = "behind_lb"
address = "127.0.0.1:0"
proxy_protocol = true

[[listener]]
name = "direct"
address = "127.0.0.1:0"

[[route]]
cluster = "origin"

[[cluster]]
name = "origin"
endpoints = ["{ORIGIN}"]
)toml";

class ProxyProtocolTest : public ::testing::Test {
 protected:
  Origin origin_{echoHandler()};
  ProxyHarness proxy_{fill(std::string(kConfig), {{"ORIGIN", origin_.address()}})};

  std::string lastForwardedFor() {
    auto seen = origin_.received();
    return seen.empty() ? "" : seen.back().header("X-Forwarded-For");
  }
};

const std::string kGet = "GET /pp HTTP/1.1\r\nHost: example.com\r\n\r\n";

TEST_F(ProxyProtocolTest, V1AddressBecomesTheClientsAndKeepAliveGoesOn) {
  ASSERT_TRUE(proxy_.ok());
  Client c(proxy_.port("behind_lb"));
  ASSERT_TRUE(c.send("PROXY TCP4 203.0.113.7 127.0.0.1 40000 80\r\n" + kGet));
  Message m = c.response();
  EXPECT_EQ(m.status, 200) << m.raw_head;
  EXPECT_EQ(lastForwardedFor(), "203.0.113.7");
  // The header comes once per connection; the next request is plain HTTP.
  EXPECT_EQ(c.get("/second").status, 200);
  EXPECT_EQ(lastForwardedFor(), "203.0.113.7");
}

TEST_F(ProxyProtocolTest, V2Ipv6HeaderSplitAcrossReads) {
  ASSERT_TRUE(proxy_.ok());
  std::string header("\r\n\r\n\0\r\nQUIT\n\x21\x21\x00\x24", 16);
  std::string block(36, '\0');
  block[0] = 0x20;
  block[1] = 0x01;
  block[2] = 0x0d;
  block[3] = static_cast<char>(0xb8);
  block[15] = 7;  // 2001:db8::7
  block[31] = 1;  // ::1
  Client c(proxy_.port("behind_lb"));
  const std::string all = header + block + kGet;
  ASSERT_TRUE(c.send(all.substr(0, 10)));
  std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(c.send(all.substr(10)));
  Message m = c.response();
  EXPECT_EQ(m.status, 200) << m.raw_head;
  EXPECT_EQ(lastForwardedFor(), "2001:db8::7");
}

TEST_F(ProxyProtocolTest, LocalCommandKeepsThePeerAddress) {
  ASSERT_TRUE(proxy_.ok());
  Client c(proxy_.port("behind_lb"));
  ASSERT_TRUE(c.send(std::string("\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00", 16) + kGet));
  EXPECT_EQ(c.response().status, 200);
  EXPECT_EQ(lastForwardedFor(), "127.0.0.1");
}

TEST_F(ProxyProtocolTest, MalformedOrMissingHeadersCloseTheConnection) {
  ASSERT_TRUE(proxy_.ok());
  for (const std::string& bad :
       {std::string("PROXY TCP4 203.0.113.7 127.0.0.1 99999 80\r\n"),  // port out of range
        std::string("PROXY TCP6 203.0.113.7 127.0.0.1 1 80\r\n"),      // family mismatch
        kGet}) {                                                         // no header at all
    Client c(proxy_.port("behind_lb"));
    ASSERT_TRUE(c.send(bad + kGet));
    std::string got;
    EXPECT_TRUE(c.waitClosed(patience(2s), &got)) << bad;
    EXPECT_EQ(got, "") << bad;
  }
  EXPECT_EQ(origin_.requests(), 0);
}

TEST_F(ProxyProtocolTest, ListenerWithoutTheOptionRefusesTheHeader) {
  ASSERT_TRUE(proxy_.ok());
  Client c(proxy_.port("direct"));
  ASSERT_TRUE(c.send("PROXY TCP4 203.0.113.7 127.0.0.1 40000 80\r\n" + kGet));
  EXPECT_EQ(c.response().status, 400);
  EXPECT_EQ(origin_.requests(), 0);
}

}  // namespace
}  // namespace switchyard::itest

namespace switchyard::itest {
namespace {

// The PROXY header's address reaches RFC 7239's Forwarded too, on a listener that asks
// for it instead of X-Forwarded-*.
TEST(ForwardedOptionTest, Rfc7239ReplacesXForwarded) {
  Origin origin{echoHandler()};
  ProxyHarness proxy(fill(R"toml(
[log]
access = "off"

[[listener]]
name = "main"
address = "127.0.0.1:0"
proxy_protocol = true
forwarded = "rfc7239"

[[route]]
cluster = "origin"

[[cluster]]
name = "origin"
endpoints = ["{ORIGIN}"]
)toml",
                          {{"ORIGIN", origin.address()}}));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  ASSERT_TRUE(c.send("PROXY TCP6 2001:db8::7 ::1 40000 80\r\n" + kGet));
  EXPECT_EQ(c.response().status, 200);
  auto seen = origin.received();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].header("Forwarded"), "for=\"[2001:db8::7]\";proto=http;host=example.com");
  EXPECT_FALSE(seen[0].has("X-Forwarded-For"));
}

}  // namespace
}  // namespace switchyard::itest

namespace switchyard::itest {
namespace {

// send_proxy_protocol = "v1": each upstream connection starts with the client's PROXY
// header (from the socket, or from the PROXY header the client side received), and such
// connections are never reused for another request.
TEST(SendProxyProtocolTest, UpstreamConnectionsStartWithTheClientsHeader) {
  std::mutex mu;
  std::vector<std::string> lines;
  Origin origin([&](OriginConn& conn) {
    std::string line;
    if (!conn.stream.readLine(line)) return;
    {
      std::lock_guard lock(mu);
      lines.push_back(line);
    }
    Message req;
    while (conn.readRequest(req)) {
      if (!conn.send(echoResponse(req, conn))) return;
    }
  });
  ProxyHarness proxy(fill(R"toml(
[log]
access = "off"

[[listener]]
name = "behind_lb"
address = "127.0.0.1:0"
proxy_protocol = true

[[listener]]
name = "direct"
address = "127.0.0.1:0"

[[route]]
cluster = "origin"

[[cluster]]
name = "origin"
endpoints = ["{ORIGIN}"]
send_proxy_protocol = "v1"
)toml",
                          {{"ORIGIN", origin.address()}}));
  ASSERT_TRUE(proxy.ok());
  {
    Client c(proxy.port("behind_lb"));
    ASSERT_TRUE(c.send("PROXY TCP4 203.0.113.7 198.51.100.1 40000 443\r\n" + kGet));
    EXPECT_EQ(c.response().status, 200);
    EXPECT_EQ(c.get("/again").status, 200);  // same client connection, new upstream one
  }
  Client direct(proxy.port("direct"));
  EXPECT_EQ(direct.get("/direct").status, 200);

  ASSERT_TRUE(Origin::eventually([&] { return origin.requests() == 3; }, 5s));
  EXPECT_EQ(origin.accepts(), 3);  // never pooled
  std::lock_guard lock(mu);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "PROXY TCP4 203.0.113.7 198.51.100.1 40000 443");
  EXPECT_EQ(lines[1], lines[0]);
  const std::string prefix = "PROXY TCP4 127.0.0.1 127.0.0.1 ";
  EXPECT_EQ(lines[2].substr(0, prefix.size()), prefix) << lines[2];
  EXPECT_NE(lines[2].find(" " + std::to_string(proxy.port("direct"))), std::string::npos)
      << lines[2];
}

}  // namespace
}  // namespace switchyard::itest
