// Request-smuggling shapes, each through the whole proxy: the client gets
// 400 and a closed connection, and the origin receives nothing at all (no
// connection, no byte) when the fault is in the head. A framing fault in a
// chunked body can only be seen once the body streams, after the head was
// forwarded: then the origin gets the head and the valid prefix, never the
// faulty bytes, and the upstream connection is closed under it, so it never
// completes a request.
#include <gtest/gtest.h>

#include "tests/integration/origin.h"
#include "tests/integration/proxy_harness.h"

namespace switchyard::itest {
namespace {

using namespace std::string_literals;

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

struct Shape {
  const char* name;
  std::string request;
  int status = 400;
};

std::string post(std::string_view fields, std::string_view body,
                 std::string_view version = "HTTP/1.1") {
  std::string out = "POST /target ";
  out.append(version);
  out += "\r\n";
  out.append(fields);
  out += "\r\n";
  out.append(body);
  return out;
}

// The shapes whose fault is in the head.
std::vector<Shape> headShapes() {
  return {
      {"ContentLengthWithTransferEncoding",
       post("Host: example.com\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n",
            "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: example.com\r\n\r\n")},
      {"TransferEncodingThenContentLength",
       post("Host: example.com\r\nTransfer-Encoding: chunked\r\nContent-Length: 30\r\n",
            "0\r\n\r\n")},
      {"TwoDifferentContentLengths",
       post("Host: example.com\r\nContent-Length: 5\r\nContent-Length: 6\r\n", "hello!")},
      {"ContentLengthList", post("Host: example.com\r\nContent-Length: 5, 6\r\n", "hello!")},
      {"TransferEncodingNotEndingInChunked",
       post("Host: example.com\r\nTransfer-Encoding: chunked, gzip\r\n", "0\r\n\r\n")},
      {"TransferEncodingWithoutChunked",
       post("Host: example.com\r\nTransfer-Encoding: gzip\r\n", "0\r\n\r\n")},
      {"ChunkedInHttp10",
       post("Host: example.com\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n", "HTTP/1.0")},
      {"ObsFold", post("Host: example.com\r\nX-A: one\r\n two\r\nContent-Length: 0\r\n", "")},
      {"ObsFoldedTransferEncoding",
       post("Host: example.com\r\nX-A: one\r\n Transfer-Encoding: chunked\r\n", "0\r\n\r\n")},
      {"BareCrInValue", post("Host: example.com\r\nX-A: one\rtwo\r\n", "")},
      {"BareCrLineEnd", post("Host: example.com\rContent-Length: 0\r\n", "")},
      {"NulInValue", post("Host: example.com\r\nX-A: a\0b\r\n"s, "")},
      {"WhitespaceBeforeColon", post("Host: example.com\r\nContent-Length : 5\r\n", "hello")},
      {"TabBeforeColon", post("Host: example.com\r\nTransfer-Encoding\t: chunked\r\n", "0\r\n\r\n")},
      {"InvalidTokenInMethod", "G(ET / HTTP/1.1\r\nHost: example.com\r\n\r\n"},
      {"InvalidTokenInFieldName", post("Host: example.com\r\nX[A]: 1\r\n", "")},
      {"EmptyFieldName", post("Host: example.com\r\n: nameless\r\n", "")},
      {"MissingHostInHttp11", "GET / HTTP/1.1\r\nX-A: 1\r\n\r\n"},
      {"DuplicateHost", "GET / HTTP/1.1\r\nHost: example.com\r\nHost: evil.example\r\n\r\n"},
      {"BadContentLengthValue", post("Host: example.com\r\nContent-Length: +5\r\n", "hello")},
  };
}

class SmugglingTest : public ::testing::TestWithParam<Shape> {
 protected:
  Origin origin_{echoHandler()};
  ProxyHarness proxy_{fill(std::string(kConfig), {{"ORIGIN", origin_.address()}})};
};

TEST_P(SmugglingTest, RefusedWith400AndNothingReachesTheOrigin) {
  ASSERT_TRUE(proxy_.ok());
  Client c(proxy_.port());
  ASSERT_TRUE(c.send(GetParam().request));
  Message m = c.response();
  EXPECT_EQ(m.status, GetParam().status) << m.raw_head;
  EXPECT_TRUE(c.waitClosed(patience(2s))) << "the connection stays open after a refusal";
  // Nothing may be in flight towards the origin: give it time to show up.
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(origin_.accepts(), 0);
  EXPECT_EQ(origin_.bytesReceived(), 0u);
  EXPECT_EQ(origin_.requests(), 0);
}

INSTANTIATE_TEST_SUITE_P(HeadFaults, SmugglingTest, ::testing::ValuesIn(headShapes()),
                         [](const ::testing::TestParamInfo<Shape>& info) {
                           return std::string(info.param.name);
                         });

// The control: the same proxy forwards a well-formed request of each kind.
TEST(SmugglingControlTest, WellFormedBodiesAreForwarded) {
  Origin origin(echoHandler());
  ProxyHarness proxy(fill(std::string(kConfig), {{"ORIGIN", origin.address()}}));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  ASSERT_TRUE(c.send(post("Host: example.com\r\nContent-Length: 5\r\n", "hello")));
  EXPECT_EQ(c.response().header("X-Request-Body-Hash"), hex(fnv1a("hello")));
  ASSERT_TRUE(c.send(post("Host: example.com\r\nTransfer-Encoding: chunked\r\n",
                          "2\r\nhe\r\n3;ext=1\r\nllo\r\n0\r\nX-Trailer: t\r\n\r\n")));
  EXPECT_EQ(c.response().header("X-Request-Body-Hash"), hex(fnv1a("hello")));
  EXPECT_EQ(origin.requests(), 2);
}

// Faults inside a chunked body: the head is fine, so it was forwarded.
struct ChunkShape {
  const char* name;
  std::string valid_prefix;  // body bytes the origin may see
  std::string fault;         // bytes it must never see
};

class ChunkFaultTest : public ::testing::TestWithParam<ChunkShape> {
 protected:
  Origin origin_{echoHandler()};
  ProxyHarness proxy_{fill(std::string(kConfig), {{"ORIGIN", origin_.address()}})};
};

TEST_P(ChunkFaultTest, RefusedWith400AndTheOriginNeverCompletesTheRequest) {
  ASSERT_TRUE(proxy_.ok());
  Client c(proxy_.port());
  const std::string head = post("Host: example.com\r\nTransfer-Encoding: chunked\r\n", "");
  ASSERT_TRUE(c.send(head + GetParam().valid_prefix + GetParam().fault +
                     "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: example.com\r\n\r\n"));
  Message m = c.response();
  EXPECT_EQ(m.status, 400) << m.raw_head;
  EXPECT_TRUE(c.waitClosed(patience(2s)));
  // The origin's connection is closed under it, mid-body: it never
  // completes this request, and the smuggled one never exists.
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(origin_.requests(), 0);
  EXPECT_LE(origin_.accepts(), 1);
  // What it got at most: the forwarded head plus the valid prefix.
  EXPECT_LE(origin_.bytesReceived(), 400 + GetParam().valid_prefix.size());
}

INSTANTIATE_TEST_SUITE_P(
    BodyFaults, ChunkFaultTest,
    ::testing::Values(ChunkShape{"BadChunkSize", "", "zz\r\nhello\r\n"},
                      ChunkShape{"BadChunkSizeAfterAValidChunk", "5\r\nhello\r\n", "-1\r\nx\r\n"},
                      ChunkShape{"ChunkSizeOverflow", "", "1ffffffffffffffff\r\nx\r\n"},
                      ChunkShape{"ChunkDataNotFollowedByCrlf", "", "1\r\naXX"},
                      ChunkShape{"WhitespaceInChunkSize", "", "5 \r\nhello\r\n"},
                      ChunkShape{"BareLfAfterChunkSize", "", "5\nhello\r\n"}),
    [](const ::testing::TestParamInfo<ChunkShape>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace switchyard::itest
