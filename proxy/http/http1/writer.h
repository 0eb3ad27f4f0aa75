// Serialising HTTP/1.1 heads for the other side of the proxy, and the proxy's own
// responses.
//
// Owns: what a head looks like once it has crossed the proxy — the request-line or
// status-line the proxy speaks (always HTTP/1.1, RFC 9110 2.5), the removal of hop-by-hop
// fields (message.h isHopByHop), the forwarding fields (X-Forwarded-For/-Proto/-Host, Via)
// and the Connection field the proxy decides on — plus complete small responses for
// errors and direct answers.
//
// Every function writes into a caller-provided fixed buffer and returns the number of
// bytes written, or nullopt when the buffer is too small (its content is then
// unspecified). Nothing is allocated, nothing is copied besides the output itself.
//
// Fields are written in the order received, duplicates kept (several Set-Cookie lines stay
// several lines: they cannot be joined with commas). Content-Length and Transfer-Encoding
// are forwarded unchanged because bodies are forwarded byte for byte (parser.h); so a
// chunked response must not be sent to an HTTP/1.0 client, which cannot parse chunks —
// forward its requests as HTTP/1.0 (RequestWriteOptions::version_minor = 0) so that the
// upstream never chunks, or close instead.
// Likewise a 1xx interim response must not be forwarded to an HTTP/1.0 client
// (RFC 9110 15.2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "proxy/http/message.h"

namespace switchyard::http::http1 {

// The name the proxy gives itself in Via (RFC 9110 7.6.3).
inline constexpr std::string_view kDefaultViaPseudonym = "switchyard";

struct RequestWriteOptions {
  // The client's IP address, appended to X-Forwarded-For after the values the request
  // already carried (all its X-Forwarded-For fields, merged into one in order). Empty:
  // nothing is appended.
  std::string_view client_address;
  // Whether the X-Forwarded-For values the client sent are passed on. An edge proxy whose
  // clients are untrusted sets this to false: the upstream then sees only client_address.
  bool keep_received_forwarded_for = true;
  // X-Forwarded-Proto: the scheme the client used ("http" or "https"). Replaces any value
  // the client sent, as X-Forwarded-Host does.
  std::string_view forwarded_proto = "http";
  // Host value to send when the request has none (HTTP/1.0 without Host); HTTP/1.1
  // upstreams require the field. Empty: "Host:" with an empty value (RFC 9112 3.2).
  std::string_view host_fallback;
  // A tunnel is being set up: keep the client's Upgrade field and send
  // "Connection: upgrade". Ignored when the request did not ask to upgrade.
  bool upgrade = false;
  // Ask the upstream to close its connection after the response ("Connection: close").
  bool close = false;
  // The version of the request line: 1 (HTTP/1.1), or 0 to forward an HTTP/1.0 client's
  // request as HTTP/1.0 — then the upstream cannot answer with chunked framing, which such
  // a client could not parse (bodies are forwarded raw). An HTTP/1.0 request that should
  // keep the upstream connection gets "Connection: keep-alive"; Upgrade is never kept.
  uint8_t version_minor = 1;
  std::string_view via_pseudonym = kDefaultViaPseudonym;
  // Which forwarding fields to write: X-Forwarded-For/-Proto/-Host (the de-facto
  // standard), and/or RFC 7239's "Forwarded: for=..;proto=..;host=..". With
  // `forwarded_rfc7239`, the Forwarded elements the client sent are kept before ours
  // under the same rule as X-Forwarded-For (keep_received_forwarded_for); without it a
  // received Forwarded field passes through untouched.
  bool x_forwarded = true;
  bool forwarded_rfc7239 = false;
};

// The request head for the upstream: the method, the target in origin form (an
// absolute-form target is reduced to its path and query, RFC 9112 3.2.2), HTTP/1.1 (or
// 1.0, see RequestWriteOptions::version_minor), the
// client's fields minus hop-by-hop fields and minus X-Forwarded-*, then X-Forwarded-For,
// X-Forwarded-Proto, X-Forwarded-Host (the request's host) and/or Forwarded (see the
// options), "Via: 1.x <pseudonym>" (the client's version) and the Connection field the
// options ask for.
std::optional<size_t> writeRequestHead(std::span<char> out, const RequestHead& head,
                                       const RequestWriteOptions& options);

struct ResponseWriteOptions {
  // The proxy keeps the client connection after this response. HTTP/1.1 clients get
  // "Connection: close" when false; HTTP/1.0 clients get "Connection: keep-alive" when
  // true (they asked for it, or keep_alive would be false) and "Connection: close" when
  // false.
  bool keep_alive = true;
  uint8_t client_version_minor = 1;  // the client's HTTP/1.x minor version
  std::string_view via_pseudonym = kDefaultViaPseudonym;
};

// The response head for the client: "HTTP/1.1 <status> <reason>" (the standard phrase
// when the upstream sent none), the upstream's fields minus hop-by-hop fields (Upgrade kept
// on a 101), "Via: 1.x <pseudonym>" (the upstream's version) and the Connection field:
// "upgrade" on a 101, none on other 1xx or on a tunnel answer to CONNECT, else as
// ResponseWriteOptions says.
std::optional<size_t> writeResponseHead(std::span<char> out, const ResponseHead& head,
                                        const ResponseWriteOptions& options);

// A complete response generated by the proxy (errors, direct responses).
struct SimpleResponse {
  // For `date_unix_seconds`: no Date field; or the current time (per-thread cache).
  static constexpr int64_t kNoDate = -1;
  static constexpr int64_t kDateNow = -2;

  int status = 200;
  std::string_view reason;  // empty: the standard phrase of `status`
  std::string_view body;
  std::string_view content_type = "text/plain; charset=utf-8";
  bool keep_alive = false;     // "Connection: keep-alive" or "Connection: close"
  bool head_request = false;   // answering HEAD: the Content-Length of body, but no body
  int64_t date_unix_seconds = kDateNow;  // or a fixed time (tests)
};

// "HTTP/1.1 <status> <reason>", Date, Content-Type, Content-Length, Connection, the empty
// line, then the body. 1xx, 204 and 304 get neither body nor Content-Type/-Length
// (RFC 9110 8.6, 15.3.5, 15.4.5).
std::optional<size_t> writeSimpleResponse(std::span<char> out, const SimpleResponse& response);

// The same with a text/plain body and the current Date.
std::optional<size_t> writeSimpleResponse(std::span<char> out, int status, std::string_view reason,
                                          std::string_view body, bool keep_alive);

}  // namespace switchyard::http::http1
