// writer: exact output for request heads (hop-by-hop removal, fields named by Connection,
// X-Forwarded-*, Via, absolute-form reduction, Host fallback, upgrade), response heads
// (Connection decisions per client version, 101, interim) and simple responses, and the
// "too big" result for every buffer size short of the output.
#include "proxy/http/http1/writer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proxy/http/http1/parser.h"

namespace switchyard::http::http1 {
namespace {

// Keeps the input alive next to the parser whose head points into it.
struct ParsedRequest {
  std::string input;
  RequestParser parser;
};

void parseRequestInto(ParsedRequest& parsed, std::string input) {
  parsed.input = std::move(input);
  const ParseResult result = parsed.parser.execute(parsed.input.data(), parsed.input.size());
  ASSERT_EQ(result.event, ParseEvent::kHeadComplete) << result.error.reason;
}

struct ParsedResponse {
  std::string input;
  ResponseParser parser;
};

void parseResponseInto(ParsedResponse& parsed, std::string input, Method method = Method::kGet,
                       bool upgrade_requested = false) {
  parsed.input = std::move(input);
  parsed.parser.expectResponseTo(method, upgrade_requested);
  const ParseResult result = parsed.parser.execute(parsed.input.data(), parsed.input.size());
  ASSERT_EQ(result.event, ParseEvent::kHeadComplete) << result.error.reason;
}

std::string requestText(const RequestHead& head, const RequestWriteOptions& options) {
  std::vector<char> buffer(4096);
  const std::optional<size_t> written = writeRequestHead(buffer, head, options);
  EXPECT_TRUE(written.has_value());
  return written ? std::string(buffer.data(), *written) : std::string();
}

std::string responseText(const ResponseHead& head, const ResponseWriteOptions& options) {
  std::vector<char> buffer(4096);
  const std::optional<size_t> written = writeResponseHead(buffer, head, options);
  EXPECT_TRUE(written.has_value());
  return written ? std::string(buffer.data(), *written) : std::string();
}

RequestWriteOptions clientOptions(std::string_view address = "10.0.0.1", std::string_view proto = "http") {
  RequestWriteOptions options;
  options.client_address = address;
  options.forwarded_proto = proto;
  return options;
}

TEST(WriteRequestHeadTest, RemovesHopByHopFieldsAndRewritesForwardingFields) {
  ParsedRequest request;
  parseRequestInto(request,
                   "GET /p?q=1 HTTP/1.1\r\n"
                   "Host: example.com\r\n"
                   "Connection: keep-alive, X-Secret\r\n"
                   "Keep-Alive: timeout=5\r\n"
                   "X-Secret: s\r\n"
                   "TE: trailers\r\n"
                   "Trailer: X-T\r\n"
                   "Proxy-Connection: keep-alive\r\n"
                   "Upgrade: h2c\r\n"
                   "Accept: */*\r\n"
                   "X-Forwarded-For: 1.1.1.1\r\n"
                   "X-Forwarded-For: 2.2.2.2, 3.3.3.3\r\n"
                   "X-Forwarded-Proto: ftp\r\n"
                   "X-Forwarded-Host: evil\r\n"
                   "Via: 1.0 other\r\n"
                   "Cookie: a=1\r\n"
                   "\r\n");
  EXPECT_EQ(requestText(request.parser.head(), clientOptions("10.0.0.1", "https")),
            "GET /p?q=1 HTTP/1.1\r\n"
            "Host: example.com\r\n"
            "Accept: */*\r\n"
            "Via: 1.0 other\r\n"
            "Cookie: a=1\r\n"
            "X-Forwarded-For: 1.1.1.1, 2.2.2.2, 3.3.3.3, 10.0.0.1\r\n"
            "X-Forwarded-Proto: https\r\n"
            "X-Forwarded-Host: example.com\r\n"
            "Via: 1.1 switchyard\r\n"
            "\r\n");
}

TEST(WriteRequestHeadTest, UntrustedClientForwardedForIsReplaced) {
  ParsedRequest request;
  parseRequestInto(request, "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n");
  RequestWriteOptions options = clientOptions("192.0.2.7");
  options.keep_received_forwarded_for = false;
  EXPECT_EQ(requestText(request.parser.head(), options),
            "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: http\r\n"
            "X-Forwarded-Host: h\r\nVia: 1.1 switchyard\r\n\r\n");
}

TEST(WriteRequestHeadTest, AddsXForwardedForWhenTheClientSentNone) {
  ParsedRequest request;
  parseRequestInto(request, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(requestText(request.parser.head(), clientOptions("192.0.2.7")),
            "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: http\r\n"
            "X-Forwarded-Host: h\r\nVia: 1.1 switchyard\r\n\r\n");
}

TEST(WriteRequestHeadTest, ConnectionCannotStripFramingOrHost) {
  ParsedRequest request;
  parseRequestInto(request,
                   "POST /u HTTP/1.1\r\nHost: h\r\nConnection: Content-Length, Host, Transfer-Encoding, X-A\r\n"
                   "X-A: 1\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_EQ(requestText(request.parser.head(), clientOptions()),
            "POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nX-Forwarded-For: 10.0.0.1\r\n"
            "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\nVia: 1.1 switchyard\r\n\r\n");
}

TEST(WriteRequestHeadTest, KeepsTransferEncodingForTheRawChunkedBody) {
  ParsedRequest request;
  parseRequestInto(request, "PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
  RequestWriteOptions options = clientOptions("");
  options.forwarded_proto = "";
  EXPECT_EQ(requestText(request.parser.head(), options),
            "PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nX-Forwarded-Host: h\r\n"
            "Via: 1.1 switchyard\r\n\r\n");
}

TEST(WriteRequestHeadTest, AbsoluteFormBecomesOriginForm) {
  ParsedRequest with_path;
  parseRequestInto(with_path, "GET http://h:81/a/b?c=d HTTP/1.1\r\nHost: h:81\r\n\r\n");
  EXPECT_EQ(requestText(with_path.parser.head(), clientOptions("")),
            "GET /a/b?c=d HTTP/1.1\r\nHost: h:81\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: h:81\r\n"
            "Via: 1.1 switchyard\r\n\r\n");

  ParsedRequest without_path;
  parseRequestInto(without_path, "GET http://h?x HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(requestText(without_path.parser.head(), clientOptions("")),
            "GET /?x HTTP/1.1\r\nHost: h\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n"
            "Via: 1.1 switchyard\r\n\r\n");

  // HTTP/1.0 absolute-form without Host: the target's authority becomes the Host.
  ParsedRequest http10;
  parseRequestInto(http10, "GET http://origin.example/ HTTP/1.0\r\n\r\n");
  EXPECT_EQ(requestText(http10.parser.head(), clientOptions("")),
            "GET / HTTP/1.1\r\nHost: origin.example\r\nX-Forwarded-Proto: http\r\n"
            "X-Forwarded-Host: origin.example\r\nVia: 1.0 switchyard\r\n\r\n");
}

TEST(WriteRequestHeadTest, Http10WithoutHostGetsTheFallback) {
  ParsedRequest request;
  parseRequestInto(request, "GET /x HTTP/1.0\r\nAccept: */*\r\n\r\n");
  RequestWriteOptions options = clientOptions("");
  options.host_fallback = "backend:8080";
  options.close = true;
  EXPECT_EQ(requestText(request.parser.head(), options),
            "GET /x HTTP/1.1\r\nHost: backend:8080\r\nAccept: */*\r\nX-Forwarded-Proto: http\r\n"
            "Via: 1.0 switchyard\r\nConnection: close\r\n\r\n");
}

TEST(WriteRequestHeadTest, Http10RequestLineForHttp10Clients) {
  ParsedRequest request;
  parseRequestInto(request, "POST /f HTTP/1.0\r\nHost: h\r\nContent-Length: 1\r\n\r\nx");
  RequestWriteOptions options = clientOptions("");
  options.forwarded_proto = "";
  options.version_minor = 0;
  EXPECT_EQ(requestText(request.parser.head(), options),
            "POST /f HTTP/1.0\r\nHost: h\r\nContent-Length: 1\r\nX-Forwarded-Host: h\r\n"
            "Via: 1.0 switchyard\r\nConnection: keep-alive\r\n\r\n");
  options.close = true;
  EXPECT_EQ(requestText(request.parser.head(), options),
            "POST /f HTTP/1.0\r\nHost: h\r\nContent-Length: 1\r\nX-Forwarded-Host: h\r\n"
            "Via: 1.0 switchyard\r\nConnection: close\r\n\r\n");
}

TEST(WriteRequestHeadTest, UpgradeIsForwardedOnlyWhenTheProxyTunnels) {
  ParsedRequest request;
  parseRequestInto(request,
                   "GET /chat HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
  RequestWriteOptions options = clientOptions("");
  options.forwarded_proto = "";
  options.upgrade = true;
  EXPECT_EQ(requestText(request.parser.head(), options),
            "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "X-Forwarded-Host: h\r\nVia: 1.1 switchyard\r\nConnection: upgrade\r\n\r\n");
  options.upgrade = false;
  EXPECT_EQ(requestText(request.parser.head(), options),
            "GET /chat HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "X-Forwarded-Host: h\r\nVia: 1.1 switchyard\r\n\r\n");
}

TEST(WriteRequestHeadTest, ReportsTooBigForEveryShortBuffer) {
  ParsedRequest request;
  parseRequestInto(request, "GET /a HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n");
  const std::string expected = requestText(request.parser.head(), clientOptions());
  ASSERT_FALSE(expected.empty());
  std::vector<char> buffer(expected.size());
  for (size_t size = 0; size < expected.size(); ++size) {
    EXPECT_FALSE(writeRequestHead(std::span<char>(buffer.data(), size), request.parser.head(), clientOptions()))
        << size;
  }
  const std::optional<size_t> written = writeRequestHead(buffer, request.parser.head(), clientOptions());
  ASSERT_TRUE(written);
  EXPECT_EQ(std::string(buffer.data(), *written), expected);
}

TEST(WriteResponseHeadTest, RemovesHopByHopAndKeepsRepeatedFields) {
  ParsedResponse response;
  parseResponseInto(response,
                    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive, X-Hop\r\n"
                    "Keep-Alive: timeout=5\r\nX-Hop: 1\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n");
  ResponseWriteOptions options;
  EXPECT_EQ(responseText(response.parser.head(), options),
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
            "Via: 1.1 switchyard\r\n\r\n");
  options.keep_alive = false;
  EXPECT_EQ(responseText(response.parser.head(), options),
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
            "Via: 1.1 switchyard\r\nConnection: close\r\n\r\n");
  options.keep_alive = true;
  options.client_version_minor = 0;
  EXPECT_EQ(responseText(response.parser.head(), options),
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
            "Via: 1.1 switchyard\r\nConnection: keep-alive\r\n\r\n");
}

TEST(WriteResponseHeadTest, StandardReasonAndUpstreamVersionInVia) {
  ParsedResponse response;
  parseResponseInto(response, "HTTP/1.0 404\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(responseText(response.parser.head(), ResponseWriteOptions{}),
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nVia: 1.0 switchyard\r\n\r\n");
}

TEST(WriteResponseHeadTest, SwitchingProtocolsKeepsUpgrade) {
  ParsedResponse response;
  parseResponseInto(response,
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                    Method::kGet, /*upgrade_requested=*/true);
  ResponseWriteOptions options;
  options.keep_alive = false;  // ignored: a 101 says "upgrade"
  EXPECT_EQ(responseText(response.parser.head(), options),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nVia: 1.1 switchyard\r\nConnection: upgrade\r\n\r\n");
}

TEST(WriteResponseHeadTest, InterimAndTunnelResponsesSayNothingAboutPersistence) {
  ParsedResponse interim;
  parseResponseInto(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  ResponseWriteOptions options;
  options.keep_alive = false;
  EXPECT_EQ(responseText(interim.parser.head(), options), "HTTP/1.1 100 Continue\r\nVia: 1.1 switchyard\r\n\r\n");

  ParsedResponse tunnel;
  parseResponseInto(tunnel, "HTTP/1.1 200 Connection Established\r\n\r\n", Method::kConnect);
  EXPECT_EQ(responseText(tunnel.parser.head(), options),
            "HTTP/1.1 200 Connection Established\r\nVia: 1.1 switchyard\r\n\r\n");
}

TEST(WriteSimpleResponseTest, ExactOutput) {
  std::vector<char> buffer(1024);
  SimpleResponse response;
  response.status = 404;
  response.body = "not found\n";
  response.date_unix_seconds = 784111777;
  std::optional<size_t> written = writeSimpleResponse(buffer, response);
  ASSERT_TRUE(written);
  EXPECT_EQ(std::string(buffer.data(), *written),
            "HTTP/1.1 404 Not Found\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 10\r\nConnection: close\r\n\r\nnot found\n");

  response.head_request = true;
  response.keep_alive = true;
  response.reason = "Nope";
  written = writeSimpleResponse(buffer, response);
  ASSERT_TRUE(written);
  EXPECT_EQ(std::string(buffer.data(), *written),
            "HTTP/1.1 404 Nope\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 10\r\nConnection: keep-alive\r\n\r\n");

  SimpleResponse no_content;
  no_content.status = 204;
  no_content.body = "ignored";
  no_content.date_unix_seconds = SimpleResponse::kNoDate;
  written = writeSimpleResponse(buffer, no_content);
  ASSERT_TRUE(written);
  EXPECT_EQ(std::string(buffer.data(), *written), "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
}

TEST(WriteSimpleResponseTest, ConvenienceFormAddsTheCurrentDate) {
  std::vector<char> buffer(1024);
  const std::optional<size_t> written = writeSimpleResponse(buffer, 400, "", "bad request\n", false);
  ASSERT_TRUE(written);
  const std::string text(buffer.data(), *written);
  EXPECT_TRUE(text.starts_with("HTTP/1.1 400 Bad Request\r\nDate: ")) << text;
  EXPECT_NE(text.find(" GMT\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 12\r\nConnection: close\r\n\r\nbad request\n"),
            std::string::npos)
      << text;
}

TEST(WriteSimpleResponseTest, TooSmallBuffer) {
  std::vector<char> buffer(40);
  EXPECT_FALSE(writeSimpleResponse(buffer, 500, "", "an error body that does not fit", false));
}

}  // namespace
}  // namespace switchyard::http::http1
