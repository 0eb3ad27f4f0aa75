// ResponseParser: the request context (HEAD, CONNECT, upgrade), interim responses, bodies
// without framing (204/304/HEAD), close-delimited bodies, tunnels and the 502 cases. Every
// case runs whole, byte by byte and in 3-byte reads, with identical transcripts.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proxy/http/http1/parser.h"
#include "tests/unit/proxy/http/parse_driver.h"

namespace switchyard::http::http1 {
namespace {

using testing::errorStatus;
using testing::hasLineStartingWith;
using testing::joinLines;
using testing::RequestContext;
using testing::runResponseParser;

std::vector<std::string> runAllSplits(std::string_view input, const std::vector<RequestContext>& requests,
                                      const ParserLimits& limits = ParserLimits{}) {
  const std::vector<std::string> whole = runResponseParser(input, 0, requests, limits);
  const std::vector<std::string> bytewise = runResponseParser(input, 1, requests, limits);
  const std::vector<std::string> threes = runResponseParser(input, 3, requests, limits);
  EXPECT_EQ(whole, bytewise) << "whole:\n" << joinLines(whole) << "byte by byte:\n" << joinLines(bytewise);
  EXPECT_EQ(whole, threes) << "whole:\n" << joinLines(whole) << "3 bytes:\n" << joinLines(threes);
  return whole;
}

const RequestContext kGet{Method::kGet, false};
const RequestContext kHead{Method::kHead, false};
const RequestContext kConnect{Method::kConnect, false};
const RequestContext kUpgradeGet{Method::kGet, true};

struct ValidCase {
  const char* name;
  std::string input;
  std::vector<RequestContext> requests;
  std::vector<std::string> transcript;
};

TEST(ResponseParserTest, ValidResponsesGiveExactTranscriptsForEverySplit) {
  const std::vector<ValidCase> cases = {
      {"content_length",
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nok",
       {kGet},
       {"head 200 OK HTTP/1.1 | cl:2 ka=1 up=0 forbidden=0 | Content-Length: 2; Set-Cookie: a=1; Set-Cookie: b=2",
        "complete body=ok", "eof"}},
      {"continue_then_final",
       "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
       {kGet},
       {"head 100 Continue HTTP/1.1 | none ka=1 up=0 forbidden=1 | ", "complete body=",
        "head 201 Created HTTP/1.1 | none ka=1 up=0 forbidden=0 | Content-Length: 0", "complete body=", "eof"}},
      {"early_hints_then_final",
       "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
       "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
       {kGet},
       {"head 103 Early Hints HTTP/1.1 | none ka=1 up=0 forbidden=1 | Link: </s.css>; rel=preload",
        "complete body=", "head 200 OK HTTP/1.1 | cl:1 ka=1 up=0 forbidden=0 | Content-Length: 1",
        "complete body=x", "eof"}},
      {"head_response_has_no_body",
       "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz",
       {kHead, kGet},
       {"head 200 OK HTTP/1.1 | none ka=1 up=0 forbidden=1 | Content-Length: 1234", "complete body=",
        "head 200 OK HTTP/1.1 | cl:1 ka=1 up=0 forbidden=0 | Content-Length: 1", "complete body=z", "eof"}},
      {"head_response_chunked_has_no_body",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
       {kHead},
       {"head 200 OK HTTP/1.1 | none ka=1 up=0 forbidden=1 | Transfer-Encoding: chunked", "complete body=", "eof"}},
      {"no_content_then_next",
       "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
       {kGet, kGet},
       {"head 204 No Content HTTP/1.1 | none ka=1 up=0 forbidden=1 | ", "complete body=",
        "head 200 OK HTTP/1.1 | none ka=1 up=0 forbidden=0 | Content-Length: 0", "complete body=", "eof"}},
      {"not_modified_with_content_length",
       "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\nETag: \"x\"\r\n\r\n",
       {kGet},
       {"head 304 Not Modified HTTP/1.1 | none ka=1 up=0 forbidden=1 | Content-Length: 99; ETag: \"x\"",
        "complete body=", "eof"}},
      {"read_until_close",
       "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this\r\nis body",
       {kGet},
       {"head 200 OK HTTP/1.1 | until-close ka=0 up=0 forbidden=0 | Content-Type: text/plain",
        "eof complete body=all of this\\r\\nis body"}},
      {"transfer_coding_not_chunked_reads_until_close",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n\x1f\x8b",
       {kGet},
       {"head 200 OK HTTP/1.1 | until-close ka=0 up=0 forbidden=0 | Transfer-Encoding: gzip",
        "eof complete body=\\x1F\\x8B"}},
      {"chunked_with_trailers",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n3;e=1\r\nabc\r\n0\r\nX-Sum: 9\r\n\r\n",
       {kGet},
       {"head 200 OK HTTP/1.1 | chunked ka=1 up=0 forbidden=0 | Transfer-Encoding: chunked; Trailer: X-Sum",
        "complete body=3;e=1\\r\\nabc\\r\\n0\\r\\nX-Sum: 9\\r\\n\\r\\n", "eof"}},
      {"switching_protocols",
       "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x7e",
       {kUpgradeGet},
       {"head 101 Switching Protocols HTTP/1.1 | none ka=0 up=1 forbidden=1 | Connection: Upgrade; Upgrade: websocket",
        "upgrade body= rest=\\x81~"}},
      {"connect_established",
       "HTTP/1.1 200 Connection Established\r\n\r\n\x16\x03",
       {kConnect},
       {"head 200 Connection Established HTTP/1.1 | none ka=0 up=1 forbidden=1 | ", "upgrade body= rest=\\x16\\x03"}},
      {"connect_refused_is_a_plain_response",
       "HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno",
       {kConnect},
       {"head 403 Forbidden HTTP/1.1 | cl:2 ka=1 up=0 forbidden=0 | Content-Length: 2", "complete body=no", "eof"}},
      {"upgrade_declined",
       "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nk",
       {kUpgradeGet},
       {"head 200 OK HTTP/1.1 | cl:1 ka=1 up=0 forbidden=0 | Content-Length: 1", "complete body=k", "eof"}},
      {"http10_keep_alive",
       "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\na"
       "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nb",
       {kGet, kGet},
       {"head 200 OK HTTP/1.0 | cl:1 ka=1 up=0 forbidden=0 | Connection: keep-alive; Content-Length: 1",
        "complete body=a", "head 200 OK HTTP/1.0 | cl:1 ka=0 up=0 forbidden=0 | Content-Length: 1",
        "complete body=b", "eof"}},
      {"connection_close_ends_the_connection",
       "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\naJUNK",
       {kGet},
       {"head 200 OK HTTP/1.1 | cl:1 ka=0 up=0 forbidden=0 | Connection: close; Content-Length: 1", "complete body=a",
        "error 502 data after the last message of the connection"}},
      {"missing_reason_phrase",
       "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
       {kGet},
       {"head 200  HTTP/1.1 | none ka=1 up=0 forbidden=0 | Content-Length: 0", "complete body=", "eof"}},
  };
  for (const ValidCase& c : cases) {
    SCOPED_TRACE(c.name);
    const std::vector<std::string> transcript = runAllSplits(c.input, c.requests);
    EXPECT_EQ(transcript, c.transcript) << joinLines(transcript);
  }
}

struct RejectCase {
  const char* name;
  std::string input;
  std::vector<RequestContext> requests;
};

TEST(ResponseParserTest, InvalidResponsesAre502) {
  const std::vector<RejectCase> cases = {
      {"content_length_with_transfer_encoding",
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", {kGet}},
      {"duplicate_content_length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", {kGet}},
      {"chunked_twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", {kGet}},
      {"transfer_encoding_in_http10", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", {kGet}},
      {"unrequested_switching_protocols",
       "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n", {kGet}},
      {"switching_protocols_without_upgrade_field", "HTTP/1.1 101 Switching Protocols\r\n\r\n", {kUpgradeGet}},
      {"two_digit_status", "HTTP/1.1 20 OK\r\n\r\n", {kGet}},
      {"four_digit_status", "HTTP/1.1 2000 OK\r\n\r\n", {kGet}},
      {"status_out_of_range", "HTTP/1.1 600 Weird\r\n\r\n", {kGet}},
      {"http2_status_line", "HTTP/2.0 200 OK\r\n\r\n", {kGet}},
      {"control_char_in_reason", "HTTP/1.1 200 O\x01K\r\n\r\n", {kGet}},
      {"obs_fold", "HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 0\r\n\r\n", {kGet}},
      {"bare_lf", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", {kGet}},
      {"leading_empty_line", "\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", {kGet}},
      {"space_before_colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", {kGet}},
      {"bad_chunk_size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n", {kGet}},
      {"chunk_without_crlf", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXX0\r\n\r\n", {kGet}},
      {"body_in_204_is_garbage",
       "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello", {kGet, kGet}},
  };
  for (const RejectCase& c : cases) {
    SCOPED_TRACE(c.name);
    const std::vector<std::string> transcript = runAllSplits(c.input, c.requests);
    EXPECT_EQ(errorStatus(transcript), 502) << joinLines(transcript);
    EXPECT_FALSE(hasLineStartingWith(transcript, "upgrade")) << joinLines(transcript);
  }
}

TEST(ResponseParserTest, EndOfInputCuttingABodyShortIs502) {
  EXPECT_EQ(runAllSplits("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", {kGet}).back(),
            "eof error 502 connection closed inside a message body");
  EXPECT_EQ(runAllSplits("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", {kGet}).back(),
            "eof error 502 connection closed inside a message body");
  EXPECT_EQ(runAllSplits("HTTP/1.1 200 O", {kGet}).back(), "eof error 502 connection closed inside a message head");
}

TEST(ResponseParserTest, BodyLimitAppliesToResponsesToo) {
  ParserLimits limits;
  limits.max_body_bytes = 4;
  EXPECT_EQ(errorStatus(runAllSplits("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", {kGet}, limits)), 502);
  EXPECT_EQ(errorStatus(runAllSplits("HTTP/1.1 200 OK\r\n\r\nhello", {kGet}, limits)), 502);
  EXPECT_EQ(errorStatus(runAllSplits("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nhell", {kGet}, limits)), 0);
}

TEST(ResponseParserTest, InterimResponsesKeepTheRequestContext) {
  // HEAD, then 100 Continue, then the final answer with Content-Length: its body is absent
  // because the context survived the interim response.
  const std::vector<std::string> transcript =
      runAllSplits("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", {kHead});
  ASSERT_EQ(transcript.size(), 5u) << joinLines(transcript);
  EXPECT_EQ(transcript[2], "head 200 OK HTTP/1.1 | none ka=1 up=0 forbidden=1 | Content-Length: 10");
}

}  // namespace
}  // namespace switchyard::http::http1
