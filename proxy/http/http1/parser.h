// HTTP/1.1 message parsing for a proxy: RequestParser (client side) and ResponseParser
// (upstream side).
//
// Owns: turning the bytes a connection reads into events the proxy loop acts on — "a head
// is complete, route it", "these bytes are body, forward them", "the message ended",
// "the connection leaves HTTP" — and refusing, with the status to answer, every message
// that is not strictly valid RFC 9112. parser.cc is the only file of the project that
// includes llhttp.
//
// How it is used (one Task per connection, a fixed read buffer, no callbacks):
//
//   RequestParser parser(limits);
//   size_t begin = 0, end = 0;          // buf[begin, end): read but not yet consumed
//   for (;;) {
//     ParseResult r = parser.execute(buf + begin, end - begin);
//     forward(buf + begin, r.body_wire_bytes);     // body bytes, verbatim (upstream side)
//     begin += r.consumed;
//     switch (r.event) {
//       case kNeedMore: case kBodyData: read more into buf[end, ...); break;
//       case kHeadComplete: route(parser.head()); write the upstream head; break;
//       case kMessageComplete: wait for the response; break;  // next call: next request
//                              // (after a message with !head().keep_alive, any further
//                              // byte is refused: answer, then close)
//       case kUpgrade: tunnel buf[begin, end) and the rest of the connection; return;
//       case kError: answer r.error.status and close; return;
//     }
//   }
//
// Design decisions:
//
// 1. Pauses at both ends of a head. execute() returns kHeadComplete right after the empty
//    line, before any body byte is looked at, so the proxy can route, apply limits and
//    open the upstream first. It returns kMessageComplete exactly at the end of a message,
//    so pipelined messages are never mixed: the bytes after `consumed` are the next
//    message (or the tunnel). Every call reports one event; an event may consume nothing
//    (a message without body completes in the call after its kHeadComplete).
//
// 2. Heads stay in the caller's buffer — the contract. Until kHeadComplete, the bytes of
//    the current head that earlier calls consumed must still be in memory, contiguous and
//    immediately before the `data` of the next call. That is what a connection does
//    anyway when it keeps buf[message start, end) and calls execute(buf + begin, ...); if
//    it compacts its buffer it moves the partial head along with the unconsumed bytes.
//    The payoff: no copy of any head byte and no span bookkeeping across reads — when the
//    head ends, the parser hands llhttp the whole head in one contiguous call, and every
//    string_view of head() points into the caller's buffer. The head begins at
//    `data + consumed - headSize()` in the call that returned kHeadComplete. If the caller
//    moves those bytes later, relocateHead() re-points the views. When a head does not
//    fit the buffer, the caller answers 431: a read buffer of at least max_head_bytes
//    makes that the same limit.
//
// 3. Bodies are forwarded raw. `body_wire_bytes` counts the consumed bytes that belong to
//    the body as it is on the wire — chunk-size lines, extensions, CRLFs and trailers
//    included — after both llhttp and the chunked guard accepted them. The proxy copies
//    them to the upstream unchanged: trailers and extensions survive, there is no
//    re-framing copy, and a body is never buffered whole. (Consequence: an HTTP/1.0 peer
//    cannot be sent a chunked body; the proxy has to avoid that case, see writer.h.)
//
// 4. Strict. Every byte of every head and of every chunked framing goes through the
//    syntax guards (syntax_guard.h) before llhttp sees it, and the semantic rules of RFC
//    9112 are checked on the complete head: Content-Length with Transfer-Encoding, more
//    than one Content-Length (even with equal values: RFC 9110 8.6 allows folding them,
//    but refusing is the choice that can never disagree with a downstream parser),
//    Transfer-Encoding not ending in chunked, any Transfer-Encoding in HTTP/1.0, missing,
//    repeated or malformed Host, request-targets outside the form the method allows. Any
//    point where llhttp and the guards disagree is an error too. A refused request never
//    produces kHeadComplete when the head is at fault, and never kMessageComplete.
//
// 5. No allocation, no exceptions. The llhttp state lives inside the parser object (no
//    pimpl allocation), heads have fixed capacity, reasons are static strings. Parsing
//    allocates nothing (tests/unit/proxy/http/parser_alloc_test.cc counts it). Parsers
//    are neither copyable nor movable: llhttp keeps a pointer back to its owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "proxy/http/http1/syntax_guard.h"
#include "proxy/http/message.h"

namespace switchyard::http::http1 {

enum class ParseEvent : uint8_t {
  kNeedMore,         // the whole input was consumed and none of it was body: read more
  kHeadComplete,     // the head ended at `consumed`; head() is ready, no body byte was read
  kBodyData,         // the whole input was consumed; body_wire_bytes of it are body
  kMessageComplete,  // the message ended at `consumed`; the next call starts the next one
  kUpgrade,          // the message ended at `consumed` and the connection leaves HTTP
  kError,            // `error` says what to answer; the parser stays failed
};

// A refused message: the status to answer the peer with and why. Requests: 400, 413,
// 414, 431, 501 or 505. Responses: always 502, the answer the proxy owes its client.
struct ParseError {
  uint16_t status = 0;
  const char* reason = "";  // static text, fit for a log line and an error body
};

struct ParseResult {
  ParseEvent event = ParseEvent::kNeedMore;
  // Input bytes used. The rest of the input was not looked at and must be passed again
  // (it is the next message, or tunnel bytes after kUpgrade). 0 after kError.
  size_t consumed = 0;
  // The first body_wire_bytes of the consumed bytes are body as on the wire (framing
  // included), for kBodyData, kMessageComplete and kUpgrade. Always <= consumed.
  size_t body_wire_bytes = 0;
  ParseError error;  // kError only
};

struct ParserLimits {
  static constexpr uint64_t kUnlimited = UINT64_MAX;

  // Longest head (start line, field lines, final CRLF, and leading empty lines), and the
  // longest trailer section: 431 for requests.
  uint32_t max_head_bytes = 64 * 1024;
  // Most field lines in a head or trailer section (at most kMaxHeaders): 431.
  uint16_t max_header_count = kMaxHeaders;
  // Longest request-target: 414.
  uint32_t max_target_bytes = 8 * 1024;
  // Longest body, decoded (the Content-Length, or the sum of chunk sizes): 413 for
  // requests. Bodies are streamed, so the default is no limit.
  uint64_t max_body_bytes = kUnlimited;
};

namespace detail {

// Bytes reserved inside each parser for llhttp's state (parser.cc static_asserts that
// llhttp_t fits), so that this header does not include llhttp.h and nothing is allocated.
inline constexpr size_t kLlhttpStateBytes = 128;

// The direction-independent machinery behind RequestParser and ResponseParser: the guards,
// the llhttp state and the phase of the current message. Not for direct use.
class MessageParser {
 public:
  enum class Direction : uint8_t { kRequest, kResponse };

  // `head` must be a RequestHead for kRequest and a ResponseHead for kResponse; it may be
  // not yet constructed (it is only touched by execute()).
  MessageParser(Direction direction, const ParserLimits& limits, MessageHead& head);
  ~MessageParser();
  MessageParser(const MessageParser&) = delete;
  MessageParser& operator=(const MessageParser&) = delete;

  ParseResult execute(const char* data, size_t len);
  ParseResult finish();
  void relocateHead(const char* new_head_start);
  size_t headSize() const { return head_size_; }
  bool failed() const { return phase_ == Phase::kFailed; }

  // ResponseParser: what the response answers.
  void setRequestContext(Method method, bool upgrade_requested);
  // RequestParser: leave kUpgrade's tunnel state and parse HTTP again.
  void resumeAfterDeclinedUpgrade();

 private:
  struct Callbacks;  // the llhttp callbacks, defined in parser.cc

  // Where the connection is, and who owns the bytes in each phase.
  enum class Phase : uint8_t {
    kHead,    // inside or before a head: bytes go to head_guard_; llhttp sees the head
              // whole when the guard finds its end; the caller keeps the head's bytes
    kBody,    // after kHeadComplete: head_ is valid; framing decides where the body ends
    kTunnel,  // after kUpgrade: the bytes are not HTTP; execute() keeps saying kUpgrade
    kClosed,  // the connection's last message ended (close-delimited, "Connection: close")
    kFailed,  // after kError, for good
  };

  ParseResult executeHead(const char* data, size_t len);
  ParseResult executeBody(const char* data, size_t len);
  // Runs llhttp over the complete head and fills head_; false after fail().
  bool parseHead(const char* head_start, size_t head_size);
  bool finalizeRequestHead();
  bool finalizeResponseHead();
  ParseResult completeMessage(size_t body_wire_bytes);
  void startNextMessage();
  ParseResult fail(uint16_t status, const char* reason);
  ParseResult failSyntax(SyntaxFailure failure, const char* reason);
  ParseResult failLlhttp(int llhttp_error);
  uint16_t protocolErrorStatus() const { return direction_ == Direction::kRequest ? 400 : 502; }
  SectionLimits sectionLimits() const;
  void* llhttpState() { return llhttp_state_; }

  const Direction direction_;
  Phase phase_ = Phase::kHead;
  ParserLimits limits_;
  MessageHead& head_;
  HeadSyntaxGuard head_guard_;
  ChunkedBodyGuard chunked_guard_;

  // The head being parsed or last reported, inside the caller's buffer.
  const char* head_start_ = nullptr;
  size_t head_size_ = 0;
  std::string_view start_line_span_;  // request-target or reason phrase, from llhttp
  bool collecting_head_ = false;      // llhttp callbacks record fields (not trailers)
  bool field_open_ = false;           // llhttp is inside a field name
  bool value_open_ = false;           // llhttp is inside a field value
  bool head_end_reached_ = false;     // on_headers_complete fired
  bool message_end_reached_ = false;  // on_message_complete fired

  uint64_t body_remaining_ = 0;  // kContentLength: body bytes still to come
  uint64_t body_bytes_ = 0;      // kUntilClose: body bytes so far

  // Response direction: the request being answered.
  Method request_method_ = Method::kGet;
  bool upgrade_requested_ = false;

  ParseError error_;
  alignas(8) unsigned char llhttp_state_[kLlhttpStateBytes];
};

}  // namespace detail

// Parses the requests of one client connection, in order.
class RequestParser {
 public:
  explicit RequestParser(const ParserLimits& limits = ParserLimits{});

  // Feeds bytes that directly follow the ones consumed before (see the head contract
  // above). `data` may be null when `len` is 0. Never reads outside [data, data + len),
  // except the kept bytes of the current head just before `data`.
  ParseResult execute(const char* data, size_t len) { return core_.execute(data, len); }

  // The client closed its sending side. kNeedMore: between messages, a clean end.
  // kMessageComplete: a message without body was still to be reported. kError: the close
  // cut a message short (the status is only for logs: nobody is left to answer).
  ParseResult finish() { return core_.finish(); }

  // The head of the current message: valid from kHeadComplete until the next message's
  // head is complete, and only while the caller keeps the head's bytes in place.
  const RequestHead& head() const { return head_; }
  // Bytes of the current head in the caller's buffer (leading empty lines included).
  size_t headSize() const { return core_.headSize(); }
  // The caller moved the head's bytes to `new_head_start`: re-point every view of head().
  void relocateHead(const char* new_head_start) { core_.relocateHead(new_head_start); }

  // After kUpgrade, when the upstream did not switch protocols (no 101, or a non-2xx
  // answer to CONNECT): the bytes after the request are HTTP again. The client should not
  // have sent any, but if it did they are parsed as the next request.
  void resumeAfterDeclinedUpgrade() { core_.resumeAfterDeclinedUpgrade(); }

  bool failed() const { return core_.failed(); }

 private:
  RequestHead head_;  // declared before core_, which keeps a reference to it
  detail::MessageParser core_;
};

// Parses the responses of one upstream connection, in order.
class ResponseParser {
 public:
  explicit ResponseParser(const ParserLimits& limits = ParserLimits{});

  // Call before the response to each request is parsed: a response to HEAD has no body
  // whatever its framing fields say, a 2xx response to CONNECT opens a tunnel, and 101 is
  // only valid when the request asked to upgrade. Interim (1xx) responses keep the
  // context for the final response that follows them.
  void expectResponseTo(Method request_method, bool upgrade_requested) {
    core_.setRequestContext(request_method, upgrade_requested);
  }

  ParseResult execute(const char* data, size_t len) { return core_.execute(data, len); }

  // The upstream closed. kMessageComplete: a body delimited by the close ended (or a
  // message without body was still to be reported). kNeedMore: between messages. kError:
  // the close cut a head or a Content-Length/chunked body short (502).
  ParseResult finish() { return core_.finish(); }

  const ResponseHead& head() const { return head_; }
  size_t headSize() const { return core_.headSize(); }
  void relocateHead(const char* new_head_start) { core_.relocateHead(new_head_start); }
  bool failed() const { return core_.failed(); }

 private:
  ResponseHead head_;
  detail::MessageParser core_;
};

}  // namespace switchyard::http::http1
