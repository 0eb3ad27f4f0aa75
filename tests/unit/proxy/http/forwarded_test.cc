// RFC 7239 "Forwarded" in the request writer: written beside or instead of
// X-Forwarded-*, IPv6 bracketed and quoted, non-token values quoted, received elements
// kept before ours (or dropped for untrusted clients), and passed through untouched when
// the option is off.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proxy/http/http1/parser.h"
#include "proxy/http/http1/writer.h"

namespace switchyard::http::http1 {
namespace {

std::string rewrite(const std::string& request, const RequestWriteOptions& options) {
  RequestParser parser;
  const ParseResult result = parser.execute(request.data(), request.size());
  EXPECT_EQ(result.event, ParseEvent::kHeadComplete) << result.error.reason;
  std::vector<char> buffer(4096);
  const std::optional<size_t> n = writeRequestHead(buffer, parser.head(), options);
  EXPECT_TRUE(n.has_value());
  return n ? std::string(buffer.data(), *n) : std::string();
}

RequestWriteOptions options(std::string_view address, bool x_forwarded, bool rfc7239) {
  RequestWriteOptions o;
  o.client_address = address;
  o.forwarded_proto = "https";
  o.x_forwarded = x_forwarded;
  o.forwarded_rfc7239 = rfc7239;
  return o;
}

TEST(ForwardedHeader, OnlyRfc7239) {
  const std::string out =
      rewrite("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", options("192.0.2.60", false, true));
  EXPECT_NE(out.find("\r\nForwarded: for=192.0.2.60;proto=https;host=example.com\r\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("X-Forwarded"), std::string::npos) << out;
}

TEST(ForwardedHeader, BothAndQuotedValues) {
  const std::string out = rewrite("GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n",
                                  options("2001:db8::1", true, true));
  EXPECT_NE(out.find("\r\nForwarded: for=\"[2001:db8::1]\";proto=https;host=\"example.com:8080\"\r\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\r\nX-Forwarded-For: 2001:db8::1\r\n"), std::string::npos) << out;
}

TEST(ForwardedHeader, ReceivedElementsComeFirstOrAreDropped) {
  const std::string in =
      "GET / HTTP/1.1\r\nHost: a\r\nForwarded: for=203.0.113.1\r\nForwarded: for=unknown\r\n\r\n";
  const std::string kept = rewrite(in, options("10.0.0.1", false, true));
  EXPECT_NE(kept.find("\r\nForwarded: for=203.0.113.1, for=unknown, for=10.0.0.1;proto=https;host=a\r\n"),
            std::string::npos)
      << kept;
  RequestWriteOptions untrusted = options("10.0.0.1", false, true);
  untrusted.keep_received_forwarded_for = false;
  const std::string dropped = rewrite(in, untrusted);
  EXPECT_EQ(dropped.find("203.0.113.1"), std::string::npos) << dropped;
  EXPECT_NE(dropped.find("\r\nForwarded: for=10.0.0.1;proto=https;host=a\r\n"), std::string::npos)
      << dropped;
}

TEST(ForwardedHeader, OffPassesAReceivedFieldThrough) {
  const std::string out = rewrite(
      "GET / HTTP/1.1\r\nHost: a\r\nForwarded: for=203.0.113.1\r\n\r\n", options("10.0.0.1", true, false));
  EXPECT_NE(out.find("\r\nForwarded: for=203.0.113.1\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("for=10.0.0.1"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\nX-Forwarded-For: 10.0.0.1\r\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace switchyard::http::http1
