// The syntax guards on their own: where sections end, what they record about the start
// line, limits, and that a guard stays failed.
#include "proxy/http/http1/syntax_guard.h"

#include <gtest/gtest.h>

#include <string>

namespace switchyard::http::http1 {
namespace {

GuardResult feedAll(HeadSyntaxGuard& guard, std::string_view input) { return guard.feed(input.data(), input.size()); }

TEST(HeadSyntaxGuardTest, StopsRightAfterTheEmptyLine) {
  HeadSyntaxGuard guard;
  guard.reset(HeadSyntaxGuard::Kind::kRequestHead, SectionLimits{});
  const std::string head = "\r\nPATCH /x HTTP/1.0\r\nA: b\r\n\r\n";
  const GuardResult result = feedAll(guard, head + "BODY");
  EXPECT_EQ(result.status, GuardStatus::kDone);
  EXPECT_EQ(result.consumed, head.size());
  EXPECT_EQ(guard.bytes(), head.size());
  EXPECT_EQ(guard.startLineOffset(), 2u);
  EXPECT_EQ(guard.methodLength(), 5u);
  EXPECT_EQ(guard.versionMajor(), 1);
  EXPECT_EQ(guard.versionMinor(), 0);
  // Done is final until reset.
  EXPECT_EQ(feedAll(guard, "more").consumed, 0u);
}

TEST(HeadSyntaxGuardTest, ByteByByteMatchesWhole) {
  const std::string head = "HTTP/1.1 418 I'm a teapot\r\nX: \t y \r\n\r\n";
  HeadSyntaxGuard guard;
  guard.reset(HeadSyntaxGuard::Kind::kResponseHead, SectionLimits{});
  for (size_t i = 0; i + 1 < head.size(); ++i) {
    const GuardResult result = guard.feed(head.data() + i, 1);
    ASSERT_EQ(result.status, GuardStatus::kNeedMore) << i;
    ASSERT_EQ(result.consumed, 1u);
  }
  const GuardResult last = guard.feed(head.data() + head.size() - 1, 1);
  EXPECT_EQ(last.status, GuardStatus::kDone);
  EXPECT_EQ(last.consumed, 1u);
  EXPECT_EQ(guard.statusCode(), 418);
}

TEST(HeadSyntaxGuardTest, FailureNamesTheOffendingByteAndSticks) {
  HeadSyntaxGuard guard;
  guard.reset(HeadSyntaxGuard::Kind::kRequestHead, SectionLimits{});
  const GuardResult result = feedAll(guard, "GET / HTTP/1.1\r\nHost : h\r\n\r\n");
  EXPECT_EQ(result.status, GuardStatus::kFailed);
  EXPECT_EQ(result.consumed, 20u);  // "GET / HTTP/1.1\r\nHost" — the space is refused
  EXPECT_EQ(result.failure, SyntaxFailure::kMalformed);
  EXPECT_STREQ(result.reason, "whitespace between field name and colon");
  const GuardResult again = feedAll(guard, "GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(again.status, GuardStatus::kFailed);
  EXPECT_EQ(again.consumed, 0u);
  EXPECT_EQ(again.failure, SyntaxFailure::kMalformed);
}

TEST(HeadSyntaxGuardTest, LimitsAreExact) {
  SectionLimits limits;
  limits.max_bytes = 20;
  limits.max_fields = 1;
  limits.max_target_bytes = 3;
  HeadSyntaxGuard guard;

  guard.reset(HeadSyntaxGuard::Kind::kRequestHead, limits);
  EXPECT_EQ(feedAll(guard, "GET /ab HTTP/1.1\r\n\r\n").status, GuardStatus::kDone);  // 20 bytes, 3-byte target
  guard.reset(HeadSyntaxGuard::Kind::kRequestHead, limits);
  EXPECT_EQ(feedAll(guard, "GET /abc HTTP/1.1\r\n\r\n").failure, SyntaxFailure::kTargetTooLong);
  guard.reset(HeadSyntaxGuard::Kind::kRequestHead, limits);
  EXPECT_EQ(feedAll(guard, "GET / HTTP/1.1\r\nA:\r\n\r\n").failure, SyntaxFailure::kSectionTooLarge);
  limits.max_bytes = 100;
  guard.reset(HeadSyntaxGuard::Kind::kRequestHead, limits);
  EXPECT_EQ(feedAll(guard, "GET / HTTP/1.1\r\nA:\r\nB:\r\n\r\n").failure, SyntaxFailure::kTooManyFields);
  guard.reset(HeadSyntaxGuard::Kind::kRequestHead, limits);
  EXPECT_EQ(feedAll(guard, "GET / HTTP/1.9\r\n\r\n").failure, SyntaxFailure::kUnsupportedVersion);
}

TEST(HeadSyntaxGuardTest, TrailersStartAtAFieldLine) {
  HeadSyntaxGuard guard;
  guard.reset(HeadSyntaxGuard::Kind::kTrailers, SectionLimits{});
  EXPECT_EQ(feedAll(guard, "\r\n").status, GuardStatus::kDone);
  guard.reset(HeadSyntaxGuard::Kind::kTrailers, SectionLimits{});
  const GuardResult result = feedAll(guard, "X-Sum: 1\r\n\r\nnext");
  EXPECT_EQ(result.status, GuardStatus::kDone);
  EXPECT_EQ(result.consumed, 12u);
}

TEST(ChunkedBodyGuardTest, SkipsDataAndStopsAtTheEnd) {
  ChunkedBodyGuard guard;
  guard.reset(UINT64_MAX, SectionLimits{});
  const std::string body = "A;x=\"y\"\r\n0123456789\r\n1\r\n\r\r\n0\r\nT: v\r\n\r\n";
  const GuardResult result = guard.feed((body + "GET").data(), body.size() + 3);
  EXPECT_EQ(result.status, GuardStatus::kDone);
  EXPECT_EQ(result.consumed, body.size());
  EXPECT_EQ(guard.dataBytes(), 11u);
}

TEST(ChunkedBodyGuardTest, LimitsAndOverflow) {
  ChunkedBodyGuard guard;
  guard.reset(10, SectionLimits{});
  const std::string too_much = "6\r\n123456\r\n5\r\n";
  const GuardResult result = guard.feed(too_much.data(), too_much.size());
  EXPECT_EQ(result.failure, SyntaxFailure::kBodyTooLarge);

  guard.reset(UINT64_MAX, SectionLimits{});
  EXPECT_EQ(guard.feed("ffffffffffffffff\r\n", 18).status, GuardStatus::kNeedMore);  // 2^64-1 fits
  guard.reset(UINT64_MAX, SectionLimits{});
  EXPECT_EQ(guard.feed("10000000000000000\r\n", 19).status, GuardStatus::kFailed);  // 2^64 does not

  guard.reset(UINT64_MAX, SectionLimits{});
  const std::string long_line = "1;" + std::string(ChunkedBodyGuard::kMaxChunkLineBytes, 'a') + "\r\n";
  EXPECT_EQ(guard.feed(long_line.data(), long_line.size()).failure, SyntaxFailure::kChunkLineTooLong);
}

}  // namespace
}  // namespace switchyard::http::http1
