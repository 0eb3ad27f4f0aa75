// RequestParser: valid requests (exact transcripts), every request-smuggling shape the
// proxy must refuse (one named case each), limits, and split-independence: every case is
// run with the whole input at once, one byte at a time and three bytes at a time, and the
// three transcripts must be identical.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http/http1/parser.h"
#include "tests/unit/proxy/http/parse_driver.h"

namespace switchyard::http::http1 {
namespace {

using testing::errorStatus;
using testing::hasLineStartingWith;
using testing::joinLines;
using testing::runRequestParser;

// Runs `input` whole, byte by byte and in 3-byte reads; checks they agree and returns the
// whole-input transcript.
std::vector<std::string> runAllSplits(std::string_view input, const ParserLimits& limits = ParserLimits{}) {
  const std::vector<std::string> whole = runRequestParser(input, 0, limits);
  const std::vector<std::string> bytewise = runRequestParser(input, 1, limits);
  const std::vector<std::string> threes = runRequestParser(input, 3, limits);
  EXPECT_EQ(whole, bytewise) << "whole:\n" << joinLines(whole) << "byte by byte:\n" << joinLines(bytewise);
  EXPECT_EQ(whole, threes) << "whole:\n" << joinLines(whole) << "3 bytes:\n" << joinLines(threes);
  return whole;
}

struct ValidCase {
  const char* name;
  std::string input;
  std::vector<std::string> transcript;
};

TEST(RequestParserTest, ValidRequestsGiveExactTranscriptsForEverySplit) {
  const std::vector<ValidCase> cases = {
      {"simple_get",
       "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
       {"head GET / HTTP/1.1 | origin path=/ query=- host=example.com | none ka=1 up=0 100=0 | Host: example.com",
        "complete body=", "eof"}},
      {"query_and_trimmed_values",
       "GET /a/b?x=1&y HTTP/1.1\r\nHost: h:8080\r\nAccept:  */* \t\r\nX-Empty:\r\nX-Obs: caf\xC3\xA9\r\n\r\n",
       {"head GET /a/b?x=1&y HTTP/1.1 | origin path=/a/b query=x=1&y host=h:8080 | none ka=1 up=0 100=0 | "
        "Host: h:8080; Accept: */*; X-Empty: ; X-Obs: caf\\xC3\\xA9",
        "complete body=", "eof"}},
      {"empty_query",
       "GET /a? HTTP/1.1\r\nHost: h\r\n\r\n",
       {"head GET /a? HTTP/1.1 | origin path=/a query= host=h | none ka=1 up=0 100=0 | Host: h", "complete body=",
        "eof"}},
      {"post_content_length",
       "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
       {"head POST /upload HTTP/1.1 | origin path=/upload query=- host=h | cl:5 ka=1 up=0 100=0 | Host: h; "
        "Content-Length: 5",
        "complete body=hello", "eof"}},
      {"content_length_zero",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
       {"head POST / HTTP/1.1 | origin path=/ query=- host=h | none ka=1 up=0 100=0 | Host: h; Content-Length: 0",
        "complete body=", "eof"}},
      {"content_length_leading_zeros",
       "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 003\r\n\r\nabc",
       {"head PUT /x HTTP/1.1 | origin path=/x query=- host=h | cl:3 ka=1 up=0 100=0 | Host: h; Content-Length: 003",
        "complete body=abc", "eof"}},
      {"chunked_with_extensions_and_trailers",
       "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
       "5;flag;name=value\r\nhello\r\n"
       "6;q=\"a b\";flag\r\n world\r\n"
       "0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n",
       {"head POST /c HTTP/1.1 | origin path=/c query=- host=h | chunked ka=1 up=0 100=0 | Host: h; "
        "Transfer-Encoding: chunked",
        "complete body=5;flag;name=value\\r\\nhello\\r\\n6;q=\"a b\";flag\\r\\n world\\r\\n0\\r\\nX-Checksum: "
        "abc\\r\\nX-Other: 1\\r\\n\\r\\n",
        "eof"}},
      {"chunked_gzip_then_chunked",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
       {"head POST / HTTP/1.1 | origin path=/ query=- host=h | chunked ka=1 up=0 100=0 | Host: h; "
        "Transfer-Encoding: gzip, chunked",
        "complete body=3\\r\\nabc\\r\\n0\\r\\n\\r\\n", "eof"}},
      {"pipelined_three",
       "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
       "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
       "DELETE /3 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n",
       {"head GET /1 HTTP/1.1 | origin path=/1 query=- host=h | none ka=1 up=0 100=0 | Host: h", "complete body=",
        "head POST /2 HTTP/1.1 | origin path=/2 query=- host=h | cl:3 ka=1 up=0 100=0 | Host: h; Content-Length: 3",
        "complete body=abc",
        "head DELETE /3 HTTP/1.1 | origin path=/3 query=- host=h | chunked ka=1 up=0 100=0 | Host: h; "
        "Transfer-Encoding: chunked",
        "complete body=1\\r\\nz\\r\\n0\\r\\n\\r\\n", "eof"}},
      {"leading_empty_lines",
       "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
       {"head GET / HTTP/1.1 | origin path=/ query=- host=h | none ka=1 up=0 100=0 | Host: h", "complete body=",
        "eof"}},
      {"http10_without_host_closes",
       "GET /old HTTP/1.0\r\nUser-Agent: x\r\n\r\n",
       {"head GET /old HTTP/1.0 | origin path=/old query=- host= | none ka=0 up=0 100=0 | User-Agent: x",
        "complete body=", "eof"}},
      {"http10_keep_alive",
       "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n",
       {"head GET / HTTP/1.0 | origin path=/ query=- host= | none ka=1 up=0 100=0 | Connection: keep-alive",
        "complete body=", "head GET /2 HTTP/1.0 | origin path=/2 query=- host= | none ka=0 up=0 100=0 | ",
        "complete body=", "eof"}},
      {"connection_close_refuses_more",
       "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n",
       {"head GET / HTTP/1.1 | origin path=/ query=- host=h | none ka=0 up=0 100=0 | Host: h; Connection: close",
        "complete body=", "error 400 data after the last message of the connection"}},
      {"absolute_form_matching_host",
       "GET http://Example.com:8080/p?q HTTP/1.1\r\nHost: example.com:8080\r\n\r\n",
       {"head GET http://Example.com:8080/p?q HTTP/1.1 | absolute path=/p query=q host=Example.com:8080 | none ka=1 "
        "up=0 100=0 | Host: example.com:8080",
        "complete body=", "eof"}},
      {"absolute_form_without_path",
       "GET https://h HTTP/1.1\r\nHost: h\r\n\r\n",
       {"head GET https://h HTTP/1.1 | absolute path= query=- host=h | none ka=1 up=0 100=0 | Host: h",
        "complete body=", "eof"}},
      {"options_asterisk",
       "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
       {"head OPTIONS * HTTP/1.1 | asterisk path=* query=- host=h | none ka=1 up=0 100=0 | Host: h", "complete body=",
        "eof"}},
      {"connect_tunnel",
       "CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n\x16\x03\x01",
       {"head CONNECT db.internal:5432 HTTP/1.1 | authority path= query=- host=db.internal:5432 | none ka=1 up=1 "
        "100=0 | Host: db.internal:5432",
        "upgrade body= rest=\\x16\\x03\\x01"}},
      {"websocket_upgrade",
       "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05",
       {"head GET /ws HTTP/1.1 | origin path=/ws query=- host=h | none ka=1 up=1 100=0 | Host: h; Connection: "
        "keep-alive, Upgrade; Upgrade: websocket",
        "upgrade body= rest=\\x81\\x05"}},
      {"upgrade_field_without_connection_option_is_plain",
       "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n",
       {"head GET / HTTP/1.1 | origin path=/ query=- host=h | none ka=1 up=0 100=0 | Host: h; Upgrade: websocket",
        "complete body=", "eof"}},
      {"expect_continue",
       "PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nok",
       {"head PUT /f HTTP/1.1 | origin path=/f query=- host=h | cl:2 ka=1 up=0 100=1 | Host: h; Expect: "
        "100-Continue; Content-Length: 2",
        "complete body=ok", "eof"}},
      {"ipv6_host_and_webdav_method",
       "PROPFIND /dav HTTP/1.1\r\nHost: [::1]:8443\r\nDepth: 1\r\n\r\n",
       {"head PROPFIND /dav HTTP/1.1 | origin path=/dav query=- host=[::1]:8443 | none ka=1 up=0 100=0 | Host: "
        "[::1]:8443; Depth: 1",
        "complete body=", "eof"}},
      {"empty_host_is_allowed",
       "GET / HTTP/1.1\r\nHost:\r\n\r\n",
       {"head GET / HTTP/1.1 | origin path=/ query=- host= | none ka=1 up=0 100=0 | Host: ", "complete body=",
        "eof"}},
  };
  for (const ValidCase& c : cases) {
    SCOPED_TRACE(c.name);
    const std::vector<std::string> transcript = runAllSplits(c.input);
    EXPECT_EQ(transcript, c.transcript) << joinLines(transcript);
  }
}

struct RejectCase {
  const char* name;
  std::string input;
  int status;
  // false: the head itself is at fault, so kHeadComplete must never be reported. true: the
  // fault is in the body (chunked framing), after the head was legitimately reported.
  bool head_is_valid = false;
};

constexpr const char* kChunkedHead = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";

std::string chunked(std::string_view body) { return std::string(kChunkedHead) + std::string(body); }

TEST(RequestParserTest, EverySmugglingShapeIsRefusedBeforeTheMessageGoesThrough) {
  const std::vector<RejectCase> cases = {
      // Content-Length / Transfer-Encoding conflicts (RFC 9112 6.1, 6.3).
      {"content_length_with_transfer_encoding",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"transfer_encoding_with_content_length",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n", 400},
      {"duplicate_content_length_differing",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
      {"duplicate_content_length_identical",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400},
      {"content_length_list", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabc", 400},
      {"content_length_negative", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400},
      {"content_length_plus_sign", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\na", 400},
      {"content_length_inner_space", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\na", 400},
      {"content_length_overflow",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\na", 400},
      {"transfer_encoding_chunked_not_final",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400},
      {"transfer_encoding_without_chunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\nabc", 400},
      {"transfer_encoding_unknown_final", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
       400},
      {"transfer_encoding_chunked_twice_one_field",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400},
      {"transfer_encoding_chunked_twice_two_fields",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       400},
      {"transfer_encoding_empty", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n0\r\n\r\n", 400},
      {"transfer_encoding_empty_element",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , chunked\r\n\r\n0\r\n\r\n", 400},
      {"transfer_encoding_with_parameter",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;x=1\r\n\r\n0\r\n\r\n", 400},
      {"transfer_encoding_unknown_coding_before_chunked",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: foo, chunked\r\n\r\n0\r\n\r\n", 501},
      {"chunked_in_http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"transfer_encoding_space_before_colon",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400},
      {"transfer_encoding_obs_folded",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400},
      {"transfer_encoding_vertical_tab", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\x0b" "chunked\r\n\r\n", 400},
      // Field syntax (RFC 9112 5, 2.2).
      {"obs_fold", "GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n two\r\n\r\n", 400},
      {"obs_fold_with_tab", "GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n\ttwo\r\n\r\n", 400},
      {"whitespace_before_first_field", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400},
      {"bare_cr_in_value", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n", 400},
      {"bare_cr_ending_head", "GET / HTTP/1.1\r\nHost: h\r\n\rX", 400},
      {"bare_lf_ending_field", "GET / HTTP/1.1\r\nHost: h\nX-A: 1\r\n\r\n", 400},
      {"bare_lf_ending_request_line", "GET / HTTP/1.1\nHost: h\r\n\r\n", 400},
      {"bare_lf_ending_head", "GET / HTTP/1.1\r\nHost: h\r\n\n", 400},
      {"bare_lf_everywhere", "GET / HTTP/1.1\nHost: h\n\n", 400},
      {"nul_in_value", std::string("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\0b\r\n\r\n", 36), 400},
      {"control_char_in_value", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x01" "b\r\n\r\n", 400},
      {"del_in_value", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x7f" "b\r\n\r\n", 400},
      {"whitespace_between_name_and_colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
      {"tab_between_name_and_colon", "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400},
      {"invalid_char_in_field_name", "GET / HTTP/1.1\r\nHost: h\r\nX(A): 1\r\n\r\n", 400},
      {"empty_field_name", "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", 400},
      {"field_line_without_colon", "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400},
      // Request-line.
      {"invalid_char_in_method", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"unknown_method", "BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n", 501},
      {"lowercase_method", "get / HTTP/1.1\r\nHost: h\r\n\r\n", 501},
      {"rtsp_method", "DESCRIBE / HTTP/1.1\r\nHost: h\r\n\r\n", 501},
      {"two_spaces_after_method", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"tab_after_method", "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"space_in_target", "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"tab_in_target", "GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"non_ascii_in_target", "GET /caf\xC3\xA9 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"fragment_in_target", "GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"space_after_version", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400},
      {"lowercase_http_version", "GET / http/1.1\r\nHost: h\r\n\r\n", 400},
      {"http09_request_line", "GET /\r\n\r\n", 400},
      // Versions (505).
      {"http2_preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
      {"http20_request", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
      {"http12_request", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505},
      {"http30_request", "GET / HTTP/3.0\r\nHost: h\r\n\r\n", 505},
      // Host (RFC 9112 3.2).
      {"missing_host_http11", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400},
      {"duplicate_host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"duplicate_host_identical", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400},
      {"host_with_userinfo", "GET / HTTP/1.1\r\nHost: user@h\r\n\r\n", 400},
      {"host_with_space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
      {"host_with_comma", "GET / HTTP/1.1\r\nHost: a,b\r\n\r\n", 400},
      {"host_with_slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
      {"host_port_too_large", "GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n", 400},
      {"host_port_not_numeric", "GET / HTTP/1.1\r\nHost: a:http\r\n\r\n", 400},
      {"host_unclosed_ipv6", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400},
      {"host_bad_percent_encoding", "GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n", 400},
      // request-target forms (RFC 9112 3.2).
      {"relative_target", "GET a/b HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"absolute_form_host_mismatch", "GET http://evil.example/ HTTP/1.1\r\nHost: good.example\r\n\r\n", 400},
      {"absolute_form_with_userinfo", "GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"absolute_form_other_scheme", "GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"absolute_form_empty_authority", "GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"asterisk_outside_options", "GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"connect_with_origin_form", "CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"connect_without_port", "CONNECT h HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"connect_with_body", "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nContent-Length: 2\r\n\r\nhi", 400},
      {"too_many_connection_options",
       "GET / HTTP/1.1\r\nHost: h\r\nConnection: a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\r\n\r\n", 400},
      {"invalid_connection_option", "GET / HTTP/1.1\r\nHost: h\r\nConnection: a b\r\n\r\n", 400},
      // Chunked framing (RFC 9112 7.1): the head is fine, the body is not.
      {"chunk_size_not_hex", chunked("zz\r\n\r\n"), 400, true},
      {"chunk_size_negative", chunked("-1\r\n"), 400, true},
      {"chunk_size_overflow", chunked("fffffffffffffffff\r\n"), 400, true},
      {"chunk_size_hex_prefix", chunked("0x1\r\na\r\n0\r\n\r\n"), 400, true},
      {"chunk_size_trailing_space", chunked("1 \r\na\r\n0\r\n\r\n"), 400, true},
      {"chunk_size_space_before_extension", chunked("1 ;x\r\na\r\n0\r\n\r\n"), 400, true},
      {"chunk_size_bare_lf", chunked("1\na\r\n0\r\n\r\n"), 400, true},
      {"chunk_size_empty", chunked("\r\na\r\n0\r\n\r\n"), 400, true},
      {"chunk_data_without_crlf", chunked("1\r\naXX0\r\n\r\n"), 400, true},
      {"chunk_data_then_bare_lf", chunked("1\r\na\n0\r\n\r\n"), 400, true},
      {"chunk_data_then_bare_cr", chunked("1\r\na\rX0\r\n\r\n"), 400, true},
      {"chunk_data_longer_than_size", chunked("1\r\nab\r\n0\r\n\r\n"), 400, true},
      {"chunk_extension_bare_lf", chunked("1;a=b\na\r\n0\r\n\r\n"), 400, true},
      {"chunk_extension_unterminated_quote", chunked("1;a=\"b\r\na\r\n0\r\n\r\n"), 400, true},
      {"chunk_extension_with_space", chunked("1; a=b\r\na\r\n0\r\n\r\n"), 400, true},
      {"last_chunk_bare_lf_end", chunked("1\r\na\r\n0\r\n\n"), 400, true},
      {"last_chunk_bare_lf_line", chunked("0\n\r\n"), 400, true},
      {"trailer_obs_fold", chunked("0\r\nX-T: a\r\n b\r\n\r\n"), 400, true},
      {"trailer_space_before_colon", chunked("0\r\nX-T : a\r\n\r\n"), 400, true},
      {"trailer_bare_lf", chunked("0\r\nX-T: a\n\r\n"), 400, true},
  };
  for (const RejectCase& c : cases) {
    SCOPED_TRACE(c.name);
    const std::vector<std::string> transcript = runAllSplits(c.input);
    EXPECT_EQ(errorStatus(transcript), c.status) << joinLines(transcript);
    EXPECT_FALSE(hasLineStartingWith(transcript, "complete")) << joinLines(transcript);
    EXPECT_FALSE(hasLineStartingWith(transcript, "upgrade")) << joinLines(transcript);
    if (!c.head_is_valid) {
      EXPECT_FALSE(hasLineStartingWith(transcript, "head")) << joinLines(transcript);
    }
  }
}

// llhttp 8.1 refuses two RFC-valid chunk-extension shapes: anything after an unquoted
// extension value ("a=b;c") and quoted-pairs. The guard accepts both, llhttp does not, and
// the parser treats a disagreement as an error: safe, but a client using these gets 400.
// When llhttp is upgraded these cases should start to pass (then move them to the valid
// table).
TEST(RequestParserTest, Llhttp81RefusesSomeValidChunkExtensions) {
  EXPECT_EQ(errorStatus(runAllSplits(chunked("1;a=b;c=d\r\nz\r\n0\r\n\r\n"))), 400);
  EXPECT_EQ(errorStatus(runAllSplits(chunked("1;q=\"\\\"\"\r\nz\r\n0\r\n\r\n"))), 400);
}

TEST(RequestParserTest, LimitsAnswer431414And413) {
  ParserLimits limits;
  limits.max_head_bytes = 64;
  limits.max_header_count = 3;
  limits.max_target_bytes = 16;
  limits.max_body_bytes = 10;
  struct LimitCase {
    const char* name;
    std::string input;
    int status;
  };
  const std::vector<LimitCase> cases = {
      {"head_too_large", "GET / HTTP/1.1\r\nHost: h\r\nX-Long: " + std::string(40, 'a') + "\r\n\r\n", 431},
      {"too_many_fields", "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431},
      {"target_too_long", "GET /" + std::string(16, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n", 414},
      {"content_length_too_large", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", 413},
      {"chunked_body_too_large", chunked("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), 413},
      {"trailers_too_many_fields",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
       431},
  };
  for (const LimitCase& c : cases) {
    SCOPED_TRACE(c.name);
    const std::vector<std::string> transcript = runAllSplits(c.input, limits);
    EXPECT_EQ(errorStatus(transcript), c.status) << joinLines(transcript);
    EXPECT_FALSE(hasLineStartingWith(transcript, "complete")) << joinLines(transcript);
  }

  // Exactly at each limit is still fine.
  const std::string at_limit = "POST /" + std::string(15, 'a') + " HTTP/1.1\r\nHost: hh\r\nContent-Length: 10\r\n\r\n";
  ASSERT_EQ(at_limit.size(), 64u);
  const std::vector<std::string> transcript = runAllSplits(at_limit + "0123456789", limits);
  EXPECT_EQ(errorStatus(transcript), 0) << joinLines(transcript);
  EXPECT_TRUE(hasLineStartingWith(transcript, "complete body=0123456789")) << joinLines(transcript);
}

TEST(RequestParserTest, DefaultLimitsAllow100FieldsAndRefuse101) {
  std::string head = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 1; i < 100; ++i) head += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(errorStatus(runRequestParser(head + "\r\n", 0)), 0);
  EXPECT_EQ(errorStatus(runRequestParser(head + "X-100: v\r\n\r\n", 0)), 431);
}

TEST(RequestParserTest, DefaultHeadLimitIs64KiB) {
  const std::string prefix = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ";
  const size_t filler = 64 * 1024 - prefix.size() - 4;  // 4: "\r\n\r\n"
  EXPECT_EQ(errorStatus(runRequestParser(prefix + std::string(filler, 'a') + "\r\n\r\n", 0)), 0);
  EXPECT_EQ(errorStatus(runRequestParser(prefix + std::string(filler + 1, 'a') + "\r\n\r\n", 0)), 431);
}

// body_wire_bytes covers the chunk framing exactly: the proxy forwards these bytes as
// they are, so trailers and extensions reach the upstream.
TEST(RequestParserTest, ChunkedBodyWireBytesAreTheWholeFraming) {
  const std::string body = "4;ext=\"v\"\r\nWiki\r\n5\r\npedia\r\n0\r\nExpires: never\r\n\r\n";
  const std::string input = std::string(kChunkedHead) + body + "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
  RequestParser parser;
  ParseResult result = parser.execute(input.data(), input.size());
  ASSERT_EQ(result.event, ParseEvent::kHeadComplete);
  EXPECT_EQ(result.consumed, std::strlen(kChunkedHead));
  EXPECT_EQ(result.body_wire_bytes, 0u);
  size_t offset = result.consumed;
  result = parser.execute(input.data() + offset, input.size() - offset);
  ASSERT_EQ(result.event, ParseEvent::kMessageComplete);
  EXPECT_EQ(result.consumed, body.size());
  EXPECT_EQ(result.body_wire_bytes, body.size());
  offset += result.consumed;
  result = parser.execute(input.data() + offset, input.size() - offset);
  ASSERT_EQ(result.event, ParseEvent::kHeadComplete);
  EXPECT_EQ(parser.head().target, "/next");
}

// A head split across reads: the earlier bytes stay in the buffer before `data`; the
// views of the finished head point into the buffer.
TEST(RequestParserTest, HeadSplitAcrossReadsIsReadFromTheCallersBuffer) {
  const std::string input = "GET /split HTTP/1.1\r\nHost: example.com\r\nX-Long: 0123456789\r\n\r\n";
  RequestParser parser;
  const size_t first = 30;  // ends inside "Host: example.com"
  ParseResult result = parser.execute(input.data(), first);
  EXPECT_EQ(result.event, ParseEvent::kNeedMore);
  EXPECT_EQ(result.consumed, first);
  result = parser.execute(input.data() + first, input.size() - first);
  ASSERT_EQ(result.event, ParseEvent::kHeadComplete);
  EXPECT_EQ(result.consumed, input.size() - first);
  EXPECT_EQ(parser.headSize(), input.size());
  const RequestHead& head = parser.head();
  EXPECT_EQ(head.target.data(), input.data() + 4);
  ASSERT_EQ(head.header_count, 2);
  EXPECT_EQ(head.headers[0].value, "example.com");
  EXPECT_EQ(head.headers[0].value.data(), input.data() + 27);
  EXPECT_EQ(head.host, "example.com");
}

TEST(RequestParserTest, RelocateHeadFollowsTheBytes) {
  std::string first_buffer = "POST /a?b=c HTTP/1.1\r\nHost: h\r\nConnection: x-hop\r\nX-Hop: 1\r\nContent-Length: 2\r\n\r\nok";
  RequestParser parser;
  ParseResult result = parser.execute(first_buffer.data(), first_buffer.size());
  ASSERT_EQ(result.event, ParseEvent::kHeadComplete);
  const size_t head_size = parser.headSize();

  // The connection compacts: the head moves elsewhere, the old bytes are overwritten.
  std::string second_buffer = first_buffer;
  parser.relocateHead(second_buffer.data());
  first_buffer.assign(first_buffer.size(), '#');

  const RequestHead& head = parser.head();
  EXPECT_EQ(head.method_text, "POST");
  EXPECT_EQ(head.target, "/a?b=c");
  EXPECT_EQ(head.path, "/a");
  EXPECT_EQ(head.query, "b=c");
  EXPECT_EQ(head.host, "h");
  ASSERT_EQ(head.header_count, 4);
  EXPECT_EQ(head.headers[2].name, "X-Hop");
  EXPECT_EQ(head.connection.tokens[0], "x-hop");
  EXPECT_EQ(head.connection.tokens[0].data(), second_buffer.data() + 43);

  result = parser.execute(second_buffer.data() + head_size, 2);
  EXPECT_EQ(result.event, ParseEvent::kMessageComplete);
  EXPECT_EQ(result.body_wire_bytes, 2u);
}

TEST(RequestParserTest, DeclinedUpgradeParsesTheNextRequest) {
  const std::string input =
      "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
      "GET /after HTTP/1.1\r\nHost: h\r\n\r\n";
  RequestParser parser;
  size_t offset = 0;
  ParseResult result = parser.execute(input.data(), input.size());
  ASSERT_EQ(result.event, ParseEvent::kHeadComplete);
  EXPECT_TRUE(parser.head().upgrade);
  offset += result.consumed;
  result = parser.execute(input.data() + offset, input.size() - offset);
  ASSERT_EQ(result.event, ParseEvent::kUpgrade);
  EXPECT_EQ(result.consumed, 0u);
  // Still a tunnel until told otherwise.
  result = parser.execute(input.data() + offset, input.size() - offset);
  EXPECT_EQ(result.event, ParseEvent::kUpgrade);
  EXPECT_EQ(result.consumed, 0u);

  parser.resumeAfterDeclinedUpgrade();
  result = parser.execute(input.data() + offset, input.size() - offset);
  ASSERT_EQ(result.event, ParseEvent::kHeadComplete);
  EXPECT_EQ(parser.head().target, "/after");
}

TEST(RequestParserTest, UpgradeRequestWithBodyEndsAfterTheBody) {
  const std::vector<std::string> transcript = runAllSplits(
      "POST /up HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: x\r\nContent-Length: 2\r\n\r\nhiTUNNEL");
  EXPECT_EQ(transcript.back(), "upgrade body=hi rest=TUNNEL");
}

TEST(RequestParserTest, Http10UpgradeIsIgnored) {
  const std::vector<std::string> transcript =
      runAllSplits("GET / HTTP/1.0\r\nConnection: upgrade, keep-alive\r\nUpgrade: websocket\r\n\r\n");
  ASSERT_FALSE(transcript.empty());
  EXPECT_NE(transcript[0].find("ka=1 up=0"), std::string::npos) << transcript[0];
  EXPECT_EQ(transcript[1], "complete body=");
}

TEST(RequestParserTest, EndOfInputInsideAMessageIsAnError) {
  EXPECT_EQ(runAllSplits("GET / HTTP/1.1\r\nHost:").back(), "eof error 400 connection closed inside a message head");
  EXPECT_EQ(runAllSplits("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab").back(),
            "eof error 400 connection closed inside a message body");
  EXPECT_EQ(runAllSplits(std::string(kChunkedHead) + "5\r\nab").back(),
            "eof error 400 connection closed inside a message body");
  EXPECT_EQ(runAllSplits("").back(), "eof");
}

TEST(RequestParserTest, FinishReportsABodylessMessageNotYetCompleted) {
  const std::string input = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  RequestParser parser;
  ASSERT_EQ(parser.execute(input.data(), input.size()).event, ParseEvent::kHeadComplete);
  EXPECT_EQ(parser.finish().event, ParseEvent::kMessageComplete);
  EXPECT_EQ(parser.finish().event, ParseEvent::kNeedMore);
}

TEST(RequestParserTest, ErrorsAreSticky) {
  const std::string bad = "GET / HTTP/1.1\r\nHost : h\r\n\r\n";
  RequestParser parser;
  const ParseResult first = parser.execute(bad.data(), bad.size());
  ASSERT_EQ(first.event, ParseEvent::kError);
  EXPECT_EQ(first.error.status, 400);
  EXPECT_TRUE(parser.failed());
  const std::string good = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  const ParseResult second = parser.execute(good.data(), good.size());
  EXPECT_EQ(second.event, ParseEvent::kError);
  EXPECT_EQ(second.consumed, 0u);
  EXPECT_EQ(parser.finish().event, ParseEvent::kError);
}

TEST(RequestParserTest, EmptyExecuteBetweenMessagesIsHarmless) {
  RequestParser parser;
  const ParseResult result = parser.execute(nullptr, 0);
  EXPECT_EQ(result.event, ParseEvent::kNeedMore);
  EXPECT_EQ(result.consumed, 0u);
  EXPECT_EQ(parser.finish().event, ParseEvent::kNeedMore);
}

}  // namespace
}  // namespace switchyard::http::http1
