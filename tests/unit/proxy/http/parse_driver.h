// Test driver for the HTTP/1.1 parsers: plays the proxy's read loop over an input that
// arrives `step` bytes at a time and writes down everything the parser reported, as
// lines of text. Two runs of the same input with different steps must produce the same
// transcript: that is how the tests prove results do not depend on how reads split.
//
// The driver keeps the whole input in one buffer and only ever reveals more of it, so the
// parser's head contract (parser.h) holds by construction. At every kHeadComplete it also
// checks that all views of the head point inside the head's bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http/http1/parser.h"
#include "proxy/http/message.h"

namespace switchyard::http::testing {

// A request the upstream is answering, for ResponseParser::expectResponseTo().
struct RequestContext {
  Method method = Method::kGet;
  bool upgrade_requested = false;
};

// Transcript lines:
//   "head <description>"                  kHeadComplete (see describe*Head)
//   "complete body=<escaped wire bytes>"  kMessageComplete, with the body bytes reported
//                                         since the head
//   "upgrade body=<...> rest=<...>"       kUpgrade, and the unparsed bytes that follow
//   "error <status> <reason>"             kError
//   "eof"                                 finish() at a clean end
//   "eof complete body=<...>"             finish() completed a message
//   "eof error <status> <reason>"         finish() refused
// `step` 0 means the whole input at once.
std::vector<std::string> runRequestParser(std::string_view input, size_t step,
                                          const http1::ParserLimits& limits = http1::ParserLimits{});
std::vector<std::string> runResponseParser(std::string_view input, size_t step,
                                           const std::vector<RequestContext>& requests,
                                           const http1::ParserLimits& limits = http1::ParserLimits{});

// "GET /a?b HTTP/1.1 | origin path=/a query=b host=x | none ka=1 up=0 100=0 | Host: x; ..."
std::string describeRequestHead(const RequestHead& head);
// "200 OK HTTP/1.1 | cl:2 ka=1 up=0 forbidden=0 | Content-Length: 2; ..."
std::string describeResponseHead(const ResponseHead& head);

// Printable form of raw bytes: \r, \n, \t, \\ and non-printable bytes as \xNN.
std::string escapeBytes(std::string_view bytes);

// The status of the transcript's error line ("error" or "eof error"), or 0.
int errorStatus(const std::vector<std::string>& transcript);
// Whether any line of the transcript starts with `prefix`.
bool hasLineStartingWith(const std::vector<std::string>& transcript, std::string_view prefix);
// The transcript as one string, one line per entry, for failure messages.
std::string joinLines(const std::vector<std::string>& transcript);

}  // namespace switchyard::http::testing
