// message.h helpers and date.h formatting.
#include "proxy/http/message.h"

#include <gtest/gtest.h>

#include <ctime>
#include <string>

#include "proxy/http/date.h"

namespace switchyard::http {
namespace {

TEST(MessageTest, EqualsIgnoreCaseIsAsciiOnly) {
  EXPECT_TRUE(equalsIgnoreCase("Content-Length", "content-length"));
  EXPECT_TRUE(equalsIgnoreCase("", ""));
  EXPECT_FALSE(equalsIgnoreCase("Host", "Hosts"));
  EXPECT_FALSE(equalsIgnoreCase("a", "b"));
  // '@' (0x40) and '`' (0x60) differ only in the case bit but are not letters.
  EXPECT_FALSE(equalsIgnoreCase("@", "`"));
  EXPECT_FALSE(equalsIgnoreCase("[", "{"));
  EXPECT_TRUE(equalsIgnoreCase("AZaz-09", "azAZ-09"));
  EXPECT_FALSE(equalsIgnoreCase("\xC9", "\xE9"));
}

TEST(MessageTest, MethodNamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(Method::kSource); ++i) {
    const Method method = static_cast<Method>(i);
    const std::string_view name = methodName(method);
    ASSERT_TRUE(methodFromName(name).has_value()) << name;
    EXPECT_EQ(*methodFromName(name), method) << name;
  }
  EXPECT_EQ(methodName(Method::kMsearch), "M-SEARCH");
  EXPECT_FALSE(methodFromName("get"));  // methods are case-sensitive
  EXPECT_FALSE(methodFromName("PRI"));
  EXPECT_FALSE(methodFromName(""));
}

TEST(MessageTest, IdempotentMethods) {
  EXPECT_TRUE(isIdempotent(Method::kGet));
  EXPECT_TRUE(isIdempotent(Method::kPut));
  EXPECT_TRUE(isIdempotent(Method::kDelete));
  EXPECT_FALSE(isIdempotent(Method::kPost));
  EXPECT_FALSE(isIdempotent(Method::kPatch));
  EXPECT_FALSE(isIdempotent(Method::kConnect));
}

TEST(MessageTest, HopByHopFields) {
  ConnectionTokens none;
  for (const char* name : {"Connection", "keep-alive", "Proxy-Connection", "TE", "Trailer", "UPGRADE"}) {
    EXPECT_TRUE(isHopByHop(name, none)) << name;
  }
  for (const char* name : {"Transfer-Encoding", "Content-Length", "Host", "Set-Cookie", "Via", "T", "Teapot"}) {
    EXPECT_FALSE(isHopByHop(name, none)) << name;
  }

  ConnectionTokens named;
  named.tokens[named.count++] = "X-Private";
  named.tokens[named.count++] = "content-length";
  named.tokens[named.count++] = "HOST";
  named.tokens[named.count++] = "Transfer-Encoding";
  EXPECT_TRUE(isHopByHop("x-private", named));
  EXPECT_TRUE(named.contains("X-PRIVATE"));
  // Never stripped, whatever Connection says: the body and the routing depend on them.
  EXPECT_FALSE(isHopByHop("Content-Length", named));
  EXPECT_FALSE(isHopByHop("Host", named));
  EXPECT_FALSE(isHopByHop("Transfer-Encoding", named));
  EXPECT_FALSE(isHopByHop("X-Public", named));
}

TEST(MessageTest, FindIsCaseInsensitiveAndReturnsTheFirst) {
  RequestHead head;
  head.headers[head.header_count++] = {"Set-Cookie", "a=1"};
  head.headers[head.header_count++] = {"set-cookie", "b=2"};
  ASSERT_NE(head.find("SET-COOKIE"), nullptr);
  EXPECT_EQ(head.find("SET-COOKIE")->value, "a=1");
  EXPECT_EQ(head.find("Cookie"), nullptr);
  EXPECT_EQ(head.fields().size(), 2u);
}

TEST(MessageTest, ClearResetsEverythingButTheFieldArray) {
  ResponseHead head;
  head.status = 204;
  head.headers[head.header_count++] = {"A", "1"};
  head.content_length = 3;
  head.keep_alive = false;
  head.body_forbidden = true;
  head.connection.tokens[head.connection.count++] = "close";
  head.clear();
  EXPECT_EQ(head.status, 0);
  EXPECT_EQ(head.header_count, 0);
  EXPECT_FALSE(head.content_length);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_FALSE(head.body_forbidden);
  EXPECT_EQ(head.connection.count, 0);
  EXPECT_FALSE(head.isInterim());
  head.status = 103;
  EXPECT_TRUE(head.isInterim());
  head.status = 101;
  EXPECT_FALSE(head.isInterim());
}

TEST(MessageTest, StatusReasons) {
  EXPECT_EQ(statusReason(200), "OK");
  EXPECT_EQ(statusReason(431), "Request Header Fields Too Large");
  EXPECT_EQ(statusReason(505), "HTTP Version Not Supported");
  EXPECT_EQ(statusReason(299), "Unknown");
}

TEST(HttpDateTest, FormatsImfFixdate) {
  HttpDate out;
  EXPECT_EQ(formatHttpDate(0, out), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(formatHttpDate(784111777, out), "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110's example
  EXPECT_EQ(formatHttpDate(951782400, out), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(formatHttpDate(1700000000, out), "Tue, 14 Nov 2023 22:13:20 GMT");
  EXPECT_EQ(formatHttpDate(253402300799, out), "Fri, 31 Dec 9999 23:59:59 GMT");
  EXPECT_EQ(formatHttpDate(-5, out), "Thu, 01 Jan 1970 00:00:00 GMT");  // clamped
}

TEST(HttpDateTest, CurrentDateIsNow) {
  const std::time_t before = std::time(nullptr);
  const HttpDate now = currentHttpDate();
  const std::time_t after = std::time(nullptr);
  HttpDate expected_before;
  HttpDate expected_after;
  formatHttpDate(before, expected_before);
  formatHttpDate(after, expected_after);
  // The coarse clock may lag the precise one by a tick across a second boundary.
  HttpDate expected_earlier;
  formatHttpDate(before - 1, expected_earlier);
  EXPECT_TRUE(now == expected_before || now == expected_after || now == expected_earlier)
      << std::string(now.data(), now.size());
}

}  // namespace
}  // namespace switchyard::http
