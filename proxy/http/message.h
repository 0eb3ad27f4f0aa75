// HTTP message heads as the proxy sees them, independent of the wire version and of any
// parser library (this header does not include llhttp).
//
// Owns: the vocabulary shared by the codec, the router and the upstream code — methods,
// header fields, the parsed request and response heads, the Connection option list — and
// the small pure helpers every layer needs on them (case-insensitive comparison, the
// hop-by-hop rule, standard reason phrases).
//
// Zero copies: every std::string_view in a head points into the connection's read buffer
// (the bytes the parser was fed), never into memory of its own. A head is therefore valid
// only while those bytes stay where they were; http1::RequestParser::relocateHead() follows
// the bytes when a connection compacts its buffer. Heads have fixed capacity (kMaxHeaders
// fields, kMaxConnectionTokens options), so filling one never allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace switchyard::http {

// The most header fields a head can hold. A message with more is refused (431 for a
// request, 502 for a response) rather than truncated: dropping fields silently could drop
// a framing field.
inline constexpr size_t kMaxHeaders = 100;

// The most options a head records from its Connection fields. Real clients send one or
// two ("keep-alive", "Upgrade"); more than this is refused (400/502), because an option we
// could not record would name a hop-by-hop field that we would then forward.
inline constexpr size_t kMaxConnectionTokens = 16;

// Request methods llhttp knows (RFC 9110, WebDAV, and a few registered extensions). A
// request whose method is a valid token outside this list is answered 501.
enum class Method : uint8_t {
  kDelete,
  kGet,
  kHead,
  kPost,
  kPut,
  kConnect,
  kOptions,
  kTrace,
  kPatch,
  // WebDAV (RFC 4918, 3253, 3648, 3744, 4791, 5323, 5842) and friends.
  kCopy,
  kLock,
  kMkcol,
  kMove,
  kPropfind,
  kProppatch,
  kSearch,
  kUnlock,
  kBind,
  kRebind,
  kUnbind,
  kAcl,
  kReport,
  kMkactivity,
  kCheckout,
  kMerge,
  kMkcalendar,
  kLink,
  kUnlink,
  // UPnP / SSDP and caches.
  kMsearch,  // "M-SEARCH"
  kNotify,
  kSubscribe,
  kUnsubscribe,
  kPurge,
  kSource,  // Icecast
};

// "GET", "M-SEARCH", ...: the exact, case-sensitive token.
std::string_view methodName(Method method);
// The Method spelled exactly `name` (methods are case-sensitive), or nullopt.
std::optional<Method> methodFromName(std::string_view name);
// RFC 9110 9.2.2: a request that may be repeated with the same effect (retry candidates).
bool isIdempotent(Method method);

// One field line. `name` is as received (any case); `value` has its leading and trailing
// whitespace removed, and may be empty.
struct HeaderField {
  std::string_view name;
  std::string_view value;
};

// kMaxHeaders field slots that are never initialised: only [0, header_count) are ever
// written before they are read. A zeroed 3 KiB array per parsed head (one per request
// and one per upstream response) was 5% of a proxied request's instructions.
class FieldSlots {
 public:
  FieldSlots() noexcept {}  // leaves the slots uninitialised, on purpose
  HeaderField& operator[](size_t i) { return slots_[i]; }
  const HeaderField& operator[](size_t i) const { return slots_[i]; }
  const HeaderField* data() const { return slots_; }

 private:
  union {
    HeaderField slots_[kMaxHeaders];
  };
};

// How the body of a message ends (RFC 9112 6.3). Decided once, when the head is complete.
enum class BodyFraming : uint8_t {
  kNone,           // no body at all (no framing fields, Content-Length: 0, HEAD/1xx/204/304)
  kContentLength,  // exactly content_length bytes
  kChunked,        // chunked transfer coding, ends with the last chunk and trailer section
  kUntilClose,     // responses only: the body is everything until the upstream closes
};

// The options listed by a message's Connection fields (RFC 9110 7.6.1), in order, as
// received. Each names a hop-by-hop field or is one of the connection options "close",
// "keep-alive" and "upgrade".
struct ConnectionTokens {
  std::string_view tokens[kMaxConnectionTokens];
  uint8_t count = 0;

  std::span<const std::string_view> view() const { return {tokens, count}; }
  // Case-insensitive membership test.
  bool contains(std::string_view token) const;
};

// The forms of request-target (RFC 9112 3.2).
enum class TargetForm : uint8_t {
  kOrigin,     // "/path?query": the normal form
  kAbsolute,   // "http://host/path?query": accepted only when its authority equals Host
  kAuthority,  // "host:port": CONNECT only
  kAsterisk,   // "*": OPTIONS only
};

// What request and response heads have in common: the version, the field lines and the
// framing and connection facts derived from them.
struct MessageHead {
  uint8_t version_major = 1;
  uint8_t version_minor = 1;

  FieldSlots headers;
  uint16_t header_count = 0;

  std::optional<uint64_t> content_length;  // the Content-Length value, when present
  bool chunked = false;                    // Transfer-Encoding ends in "chunked"
  BodyFraming framing = BodyFraming::kNone;
  // Another message may follow on this connection (RFC 9112 9.3): HTTP/1.1 without
  // "close", or HTTP/1.0 with "keep-alive"; never after a body delimited by close.
  bool keep_alive = true;
  bool upgrade = false;  // the connection leaves HTTP after this message (see the heads)
  ConnectionTokens connection;

  std::span<const HeaderField> fields() const { return {headers.data(), header_count}; }
  // The first field named `name` (case-insensitive), or nullptr.
  const HeaderField* find(std::string_view name) const;

 protected:
  // Resets every member but the entries of `headers` (those past header_count are never
  // read), so that starting a message costs a few stores, not 3 KiB of them.
  void clearCommon();
};

// A parsed request head.
struct RequestHead : MessageHead {
  Method method = Method::kGet;
  std::string_view method_text;  // the method token as received
  std::string_view target;       // the request-target as received
  TargetForm target_form = TargetForm::kOrigin;
  // Origin and absolute form: the path (up to '?'; empty for "http://host") and the query
  // (after '?', without it). Asterisk form: path "*". Authority form: both empty.
  std::string_view path;
  std::string_view query;
  bool has_query = false;        // '?' was present (tells "/a?" from "/a")
  bool expect_continue = false;  // HTTP/1.1 "Expect: 100-continue"
  // The authority the request is for: the Host value, or the authority of an absolute-form
  // or authority-form target. Empty when an HTTP/1.0 request has neither.
  std::string_view host;
  bool has_host_header = false;
  // (MessageHead::upgrade) HTTP/1.1 with an Upgrade field and "Connection: upgrade", or
  // CONNECT: the client asks to leave HTTP; whether it does depends on the response.

  void clear();
};

// A parsed response head.
struct ResponseHead : MessageHead {
  uint16_t status = 0;
  std::string_view reason;  // may be empty
  // No body may follow this head whatever its framing fields say: the request was HEAD,
  // or the status is 1xx, 204 or 304, or it is a 2xx answer to CONNECT.
  bool body_forbidden = false;
  // (MessageHead::upgrade) 101 Switching Protocols, or a 2xx answer to CONNECT: the bytes
  // after this head belong to a tunnel.

  // 1xx other than 101: an interim response; the final response to the same request
  // follows on the connection.
  bool isInterim() const { return status >= 100 && status < 200 && status != 101; }
  void clear();
};

// ASCII case-insensitive equality (field names, tokens). No locale, no allocation.
// Inline: it runs for many fields of every request, and most calls end at the size
// test or the first byte.
inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const unsigned char x = static_cast<unsigned char>(a[i]);
    const unsigned char y = static_cast<unsigned char>(b[i]);
    if (x == y) continue;
    // Equal ignoring case only if they differ in the case bit and are letters.
    if ((x ^ y) != 0x20 || static_cast<unsigned char>((x | 0x20) - 'a') > 'z' - 'a') return false;
  }
  return true;
}

// Whether a proxy must not forward a field named `name` (RFC 9110 7.6.1): Connection,
// Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade, and every field that `connection`
// names. Upgrade is included: the writer keeps it itself when a tunnel is being set up.
//
// Transfer-Encoding is NOT hop-by-hop here: the proxy forwards bodies byte for byte,
// chunk framing included, so the framing field must travel with them. For the same reason
// a Connection option naming Content-Length, Transfer-Encoding or Host is ignored —
// honouring "Connection: Content-Length" would strip the framing field of a body that is
// still forwarded, handing the upstream a request-smuggling desync.
bool isHopByHop(std::string_view name, const ConnectionTokens& connection);

// The standard reason phrase of `status` ("Not Found"), or "Unknown" for codes without one.
std::string_view statusReason(int status);

}  // namespace switchyard::http
