// Address parsing/printing, resolve() and the error category.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

#include "runtime/net/net.h"
#include "tests/unit/runtime/net/net_test_util.h"

namespace rt::net {
namespace {

TEST(AddressTest, ParsesIpv4) {
  std::optional<Address> a = Address::parse("1.2.3.4:80");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->family(), AF_INET);
  EXPECT_EQ(a->port(), 80);
  EXPECT_EQ(a->len, sizeof(sockaddr_in));
  EXPECT_EQ(a->toString(), "1.2.3.4:80");
}

TEST(AddressTest, ParsesBracketedIpv6) {
  std::optional<Address> a = Address::parse("[::1]:8080");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->family(), AF_INET6);
  EXPECT_EQ(a->port(), 8080);
  EXPECT_EQ(a->len, sizeof(sockaddr_in6));
  EXPECT_EQ(a->toString(), "[::1]:8080");
  EXPECT_EQ(Address::parse("[2001:db8::5]:0")->toString(), "[2001:db8::5]:0");
}

TEST(AddressTest, RejectsNamesAndMalformedInput) {
  for (const char* s : {"localhost:80", "1.2.3.4", "1.2.3.4:", ":80", "1.2.3.4:65536",
                        "1.2.3.4:-1", "1.2.3.4:8o", "1.2.3:80", "::1:80", "[::1]", "[::1]80",
                        "[::1:80", "[1.2.3.4]:80", "[]:80", "", "1.2.3.4:123456"}) {
    EXPECT_FALSE(Address::parse(s)) << s;
  }
  EXPECT_TRUE(Address::parse("0.0.0.0:65535"));
}

TEST(AddressTest, EmptyAddressPrintsNothing) {
  Address a;
  EXPECT_EQ(a.toString(), "");
  EXPECT_EQ(a.port(), 0);
}

TEST(ResolveTest, NumericNeedsNoRuntime) {
  std::vector<Address> out;
  EXPECT_FALSE(resolve("127.0.0.1:9", out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].toString(), "127.0.0.1:9");
  EXPECT_EQ(resolve("nonsense", out), std::errc::invalid_argument);
  EXPECT_EQ(resolve(":80", out), std::errc::invalid_argument);
}

TEST(ResolveTest, LocalhostThroughGetaddrinfoInATask) {
  std::vector<Address> out;
  std::error_code ec;
  testing::runTask(1, [&] { ec = resolve("localhost:8080", out); });
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_FALSE(out.empty());
  for (const Address& a : out) {
    EXPECT_EQ(a.port(), 8080);
    if (a.family() == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(&a.storage);
      EXPECT_EQ(ntohl(sin->sin_addr.s_addr) >> 24, 127u) << a.toString();
    } else {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&a.storage);
      EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) << a.toString();
    }
  }
}

TEST(ErrorTest, CategoryDistinguishesConditions) {
  const std::error_code eof = make_error_code(errc::eof);
  EXPECT_EQ(eof, errc::eof);
  EXPECT_NE(eof, std::errc::timed_out);
  EXPECT_STREQ(eof.category().name(), "rt.net");
  EXPECT_EQ(eof.message(), "end of file");
  EXPECT_EQ(std::error_code(errc::host_not_found).message(), "host not found");
}

}  // namespace
}  // namespace rt::net
