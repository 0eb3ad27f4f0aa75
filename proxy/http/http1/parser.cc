// The only file of the project that includes llhttp. See parser.h for the design.
//
// Division of labour for every message:
//   head:  HeadSyntaxGuard finds the end of the head and enforces the byte grammar and the
//          size limits, byte by byte as the bytes arrive. When the head is complete, llhttp
//          parses it in one call (so its spans are never split) and pauses in
//          on_headers_complete; then finalize*Head() applies the RFC 9112 semantic rules
//          and cross-checks llhttp's framing facts against its own.
//   body:  Content-Length — llhttp counts, and must pause at exactly the byte we expect.
//          chunked — ChunkedBodyGuard goes first and bounds what llhttp is given; llhttp
//          must end the message exactly where the guard did. Close-delimited — llhttp
//          takes everything until finish().
// llhttp is reset at the start of every head, so its view of keep-alive, upgrade and
// "data after close" never matters: this file decides what follows a message.
#include "proxy/http/http1/parser.h"

#include <llhttp.h>

#include <algorithm>
#include <cstdint>
#include <new>
#include <optional>

namespace switchyard::http::http1 {

static_assert(sizeof(llhttp_t) <= detail::kLlhttpStateBytes,
              "raise detail::kLlhttpStateBytes: llhttp_t no longer fits");
static_assert(alignof(llhttp_t) <= 8, "llhttp_t needs more alignment than llhttp_state_ has");

namespace {

llhttp_t* asLlhttp(void* storage) { return std::launder(static_cast<llhttp_t*>(storage)); }

std::optional<Method> methodFromLlhttp(uint8_t method) {
  switch (method) {
    case HTTP_DELETE: return Method::kDelete;
    case HTTP_GET: return Method::kGet;
    case HTTP_HEAD: return Method::kHead;
    case HTTP_POST: return Method::kPost;
    case HTTP_PUT: return Method::kPut;
    case HTTP_CONNECT: return Method::kConnect;
    case HTTP_OPTIONS: return Method::kOptions;
    case HTTP_TRACE: return Method::kTrace;
    case HTTP_PATCH: return Method::kPatch;
    case HTTP_COPY: return Method::kCopy;
    case HTTP_LOCK: return Method::kLock;
    case HTTP_MKCOL: return Method::kMkcol;
    case HTTP_MOVE: return Method::kMove;
    case HTTP_PROPFIND: return Method::kPropfind;
    case HTTP_PROPPATCH: return Method::kProppatch;
    case HTTP_SEARCH: return Method::kSearch;
    case HTTP_UNLOCK: return Method::kUnlock;
    case HTTP_BIND: return Method::kBind;
    case HTTP_REBIND: return Method::kRebind;
    case HTTP_UNBIND: return Method::kUnbind;
    case HTTP_ACL: return Method::kAcl;
    case HTTP_REPORT: return Method::kReport;
    case HTTP_MKACTIVITY: return Method::kMkactivity;
    case HTTP_CHECKOUT: return Method::kCheckout;
    case HTTP_MERGE: return Method::kMerge;
    case HTTP_MKCALENDAR: return Method::kMkcalendar;
    case HTTP_LINK: return Method::kLink;
    case HTTP_UNLINK: return Method::kUnlink;
    case HTTP_MSEARCH: return Method::kMsearch;
    case HTTP_NOTIFY: return Method::kNotify;
    case HTTP_SUBSCRIBE: return Method::kSubscribe;
    case HTTP_UNSUBSCRIBE: return Method::kUnsubscribe;
    case HTTP_PURGE: return Method::kPurge;
    case HTTP_SOURCE: return Method::kSource;
    default: return std::nullopt;  // PRI and the RTSP methods
  }
}

bool isWhitespace(char c) { return c == ' ' || c == '\t'; }

std::string_view trimWhitespace(std::string_view text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && isWhitespace(text[begin])) ++begin;
  while (end > begin && isWhitespace(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

bool isTokenText(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!chars::isToken(c)) return false;
  }
  return true;
}

// Calls visit(element) for each element of a comma-separated list (RFC 9110 5.6.1), with
// surrounding whitespace removed; empty elements are passed too. Stops when visit returns
// false. One pass over `list`.
template <typename Visit>
void forEachListElement(std::string_view list, Visit&& visit) {
  size_t begin = 0;
  while (begin <= list.size()) {
    const size_t comma = list.find(',', begin);
    const size_t end = comma == std::string_view::npos ? list.size() : comma;
    if (!visit(trimWhitespace(list.substr(begin, end - begin)))) return;
    if (comma == std::string_view::npos) return;
    begin = comma + 1;
  }
}

// 1*DIGIT without sign or whitespace, no overflow (RFC 9110 8.6).
std::optional<uint64_t> parseContentLength(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (!chars::isDigit(c)) return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

// The codings of every Transfer-Encoding field, in order (RFC 9112 6.1).
struct TransferCodings {
  bool present = false;
  bool malformed = false;  // an empty element, a parameter, or not a token
  bool unknown = false;    // a coding outside the registry's compression codings
  uint8_t chunked_count = 0;
  bool last_is_chunked = false;
};

bool isKnownCompressionCoding(std::string_view coding) {
  return equalsIgnoreCase(coding, "gzip") || equalsIgnoreCase(coding, "deflate") ||
         equalsIgnoreCase(coding, "compress") || equalsIgnoreCase(coding, "x-gzip") ||
         equalsIgnoreCase(coding, "x-compress");
}

void addTransferCodings(std::string_view value, TransferCodings& codings) {
  codings.present = true;
  forEachListElement(value, [&codings](std::string_view coding) {
    // Empty elements are tolerated by RFC 9110 5.6.1, but in the one field that decides
    // where a body ends, any spelling a downstream parser might read differently is refused.
    if (!isTokenText(coding)) {
      codings.malformed = true;
      return false;
    }
    const bool chunked = equalsIgnoreCase(coding, "chunked");
    if (chunked) {
      if (codings.chunked_count < UINT8_MAX) ++codings.chunked_count;
    } else if (!isKnownCompressionCoding(coding)) {
      codings.unknown = true;
    }
    codings.last_is_chunked = chunked;
    return true;
  });
}

// Appends the options of one Connection field. False when an option is not a token or
// there are more than kMaxConnectionTokens.
bool addConnectionTokens(std::string_view value, ConnectionTokens& tokens) {
  bool ok = true;
  forEachListElement(value, [&](std::string_view token) {
    if (token.empty()) return true;  // "close,,x": empty elements are ignored (RFC 9110 5.6.1)
    if (!isTokenText(token) || tokens.count >= kMaxConnectionTokens) {
      ok = false;
      return false;
    }
    tokens.tokens[tokens.count++] = token;
    return true;
  });
  return ok;
}

bool isValidPort(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  uint32_t value = 0;
  for (char c : port) {
    if (!chars::isDigit(c)) return false;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  return value <= 65535;
}

// uri-host [ ":" port ] (RFC 3986 3.2.2/3.2.3): an IP-literal in brackets (hex digits,
// ':' and '.'), or a reg-name/IPv4 of unreserved, sub-delims and pct-encoded characters,
// minus ',' — a comma makes the field read as a list of hosts to list-splitting
// intermediaries. The port, when there is a ':', must be 1 to 5 digits up to 65535 (RFC
// 3986 allows an empty port; nothing legitimate sends one). An empty value is valid
// (RFC 9112 3.2) unless a port is required. No IPv6 zone identifiers.
bool isValidAuthority(std::string_view authority, bool require_port) {
  if (authority.empty()) return !require_port;
  size_t i = 0;
  if (authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos || close < 2) return false;
    for (size_t j = 1; j < close; ++j) {
      const char c = authority[j];
      if (!chars::isHexDigit(c) && c != ':' && c != '.') return false;
    }
    i = close + 1;
  } else {
    while (i < authority.size() && authority[i] != ':') {
      const char c = authority[i];
      if (c == '%') {
        if (i + 2 >= authority.size() || !chars::isHexDigit(authority[i + 1]) ||
            !chars::isHexDigit(authority[i + 2])) {
          return false;
        }
        i += 3;
        continue;
      }
      if (!chars::is(c, chars::kHostChar) || c == ',') return false;
      ++i;
    }
    if (i == 0) return false;  // ":80"
  }
  if (i == authority.size()) return !require_port;
  if (authority[i] != ':') return false;
  return isValidPort(authority.substr(i + 1));
}

// absolute-form (RFC 9112 3.2.2) with an http or https scheme and no userinfo.
bool parseAbsoluteForm(std::string_view target, std::string_view& authority,
                       std::string_view& path_and_query) {
  const size_t scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos) return false;
  const std::string_view scheme = target.substr(0, scheme_end);
  if (!equalsIgnoreCase(scheme, "http") && !equalsIgnoreCase(scheme, "https")) return false;
  const std::string_view rest = target.substr(scheme_end + 3);
  const size_t authority_end = std::min(rest.find_first_of("/?"), rest.size());
  authority = rest.substr(0, authority_end);
  path_and_query = rest.substr(authority_end);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  return isValidAuthority(authority, /*require_port=*/false);
}

void splitPathAndQuery(std::string_view path_and_query, RequestHead& head) {
  const size_t question = path_and_query.find('?');
  if (question == std::string_view::npos) {
    head.path = path_and_query;
    head.query = path_and_query.substr(path_and_query.size());
    head.has_query = false;
  } else {
    head.path = path_and_query.substr(0, question);
    head.query = path_and_query.substr(question + 1);
    head.has_query = true;
  }
}

// Fields whose meaning the parser itself needs. Compared by length first: most fields fail
// that test at once.
enum class KnownField : uint8_t {
  kOther,
  kHost,
  kContentLength,
  kTransferEncoding,
  kConnection,
  kUpgrade,
  kExpect,
};

KnownField classifyField(std::string_view name) {
  switch (name.size()) {
    case 4:
      if (equalsIgnoreCase(name, "host")) return KnownField::kHost;
      break;
    case 6:
      if (equalsIgnoreCase(name, "expect")) return KnownField::kExpect;
      break;
    case 7:
      if (equalsIgnoreCase(name, "upgrade")) return KnownField::kUpgrade;
      break;
    case 10:
      if (equalsIgnoreCase(name, "connection")) return KnownField::kConnection;
      break;
    case 14:
      if (equalsIgnoreCase(name, "content-length")) return KnownField::kContentLength;
      break;
    case 17:
      if (equalsIgnoreCase(name, "transfer-encoding")) return KnownField::kTransferEncoding;
      break;
    default:
      break;
  }
  return KnownField::kOther;
}

// What the framing-relevant fields of a head say, collected in one pass.
struct FieldFacts {
  uint16_t host_fields = 0;
  std::string_view host;
  uint16_t content_length_fields = 0;
  std::optional<uint64_t> content_length;
  bool content_length_malformed = false;
  TransferCodings codings;
  bool upgrade_field = false;
  bool expect_continue = false;
  bool connection_malformed = false;
};

FieldFacts collectFieldFacts(MessageHead& head) {
  FieldFacts facts;
  for (uint16_t i = 0; i < head.header_count; ++i) {
    HeaderField& field = head.headers[i];
    // llhttp skips the whitespace before a value but keeps the whitespace after it.
    field.value = trimWhitespace(field.value);
    switch (classifyField(field.name)) {
      case KnownField::kHost:
        ++facts.host_fields;
        facts.host = field.value;
        break;
      case KnownField::kContentLength:
        ++facts.content_length_fields;
        facts.content_length = parseContentLength(field.value);
        if (!facts.content_length) facts.content_length_malformed = true;
        break;
      case KnownField::kTransferEncoding:
        addTransferCodings(field.value, facts.codings);
        break;
      case KnownField::kConnection:
        if (!addConnectionTokens(field.value, head.connection)) facts.connection_malformed = true;
        break;
      case KnownField::kUpgrade:
        facts.upgrade_field = true;
        break;
      case KnownField::kExpect:
        if (equalsIgnoreCase(field.value, "100-continue")) facts.expect_continue = true;
        break;
      case KnownField::kOther:
        break;
    }
  }
  return facts;
}

// RFC 9112 9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
bool persistentConnection(const MessageHead& head) {
  if (head.connection.contains("close")) return false;
  if (head.version_minor == 0) return head.connection.contains("keep-alive");
  return true;
}

}  // namespace

namespace detail {

// ---------------------------------------------------------------------------------------
// llhttp callbacks. llhttp_t::data points at the MessageParser that owns the state.

struct MessageParser::Callbacks {
  static MessageParser& owner(llhttp_t* state) { return *static_cast<MessageParser*>(state->data); }

  // llhttp reports a span once per execute() unless it is split by the end of the input;
  // the whole head is one execute(), but extending contiguous pieces keeps this correct
  // either way.
  static void extend(std::string_view& span, bool open, const char* at, size_t length) {
    if (open && span.data() + span.size() == at) {
      span = std::string_view(span.data(), span.size() + length);
    } else {
      span = std::string_view(at, length);
    }
  }

  static int onStartLineSpan(llhttp_t* state, const char* at, size_t length) {
    MessageParser& self = owner(state);
    if (self.collecting_head_) extend(self.start_line_span_, !self.start_line_span_.empty(), at, length);
    return 0;
  }

  static int onHeaderField(llhttp_t* state, const char* at, size_t length) {
    MessageParser& self = owner(state);
    if (!self.collecting_head_) return 0;  // trailers: forwarded raw, not recorded
    MessageHead& head = self.head_;
    if (self.field_open_) {
      extend(head.headers[head.header_count - 1].name, true, at, length);
      return 0;
    }
    if (head.header_count >= kMaxHeaders) {
      // The guard's field limit makes this unreachable; kept so that no path can write
      // past the array.
      llhttp_set_error_reason(state, "more header fields than the limit");
      return HPE_USER;
    }
    head.headers[head.header_count++] = HeaderField{std::string_view(at, length), std::string_view()};
    self.field_open_ = true;
    self.value_open_ = false;
    return 0;
  }

  static int onHeaderFieldComplete(llhttp_t* state) {
    owner(state).field_open_ = false;
    return 0;
  }

  static int onHeaderValue(llhttp_t* state, const char* at, size_t length) {
    MessageParser& self = owner(state);
    if (!self.collecting_head_) return 0;
    MessageHead& head = self.head_;
    if (head.header_count == 0) {
      llhttp_set_error_reason(state, "field value without a field name");
      return HPE_USER;
    }
    extend(head.headers[head.header_count - 1].value, self.value_open_, at, length);
    self.value_open_ = true;
    return 0;
  }

  static int onHeaderValueComplete(llhttp_t* state) {
    owner(state).value_open_ = false;
    return 0;
  }

  // Pausing here is what makes kHeadComplete possible: llhttp stops right after the head
  // and, once resumed, continues with the body.
  static int onHeadersComplete(llhttp_t* state) {
    owner(state).head_end_reached_ = true;
    return HPE_PAUSED;
  }

  // Pausing here separates pipelined messages.
  static int onMessageComplete(llhttp_t* state) {
    owner(state).message_end_reached_ = true;
    return HPE_PAUSED;
  }

  // Constant-initialised, so it exists before any parser and outlives all of them, as
  // llhttp_init requires. Every member is named (in declaration order) so that a callback
  // left out is visibly left out.
  static constexpr llhttp_settings_t kSettings = {
      .on_message_begin = nullptr,
      .on_url = &onStartLineSpan,
      .on_status = &onStartLineSpan,
      .on_method = nullptr,
      .on_version = nullptr,
      .on_header_field = &onHeaderField,
      .on_header_value = &onHeaderValue,
      .on_chunk_extension_name = nullptr,   // extensions are checked by ChunkedBodyGuard
      .on_chunk_extension_value = nullptr,
      .on_headers_complete = &onHeadersComplete,
      .on_body = nullptr,                   // bodies are forwarded raw, not collected
      .on_message_complete = &onMessageComplete,
      .on_url_complete = nullptr,
      .on_status_complete = nullptr,
      .on_method_complete = nullptr,
      .on_version_complete = nullptr,
      .on_header_field_complete = &onHeaderFieldComplete,
      .on_header_value_complete = &onHeaderValueComplete,
      .on_chunk_extension_name_complete = nullptr,
      .on_chunk_extension_value_complete = nullptr,
      .on_chunk_header = nullptr,
      .on_chunk_complete = nullptr,
      .on_reset = nullptr,
  };
};

// ---------------------------------------------------------------------------------------
// MessageParser

MessageParser::MessageParser(Direction direction, const ParserLimits& limits, MessageHead& head)
    : direction_(direction), limits_(limits), head_(head) {
  limits_.max_header_count = std::min<uint16_t>(limits_.max_header_count, kMaxHeaders);
  llhttp_t* state = new (llhttp_state_) llhttp_t;  // placement: no allocation
  llhttp_init(state, direction == Direction::kRequest ? HTTP_REQUEST : HTTP_RESPONSE,
              &Callbacks::kSettings);
  state->data = this;
  startNextMessage();
}

MessageParser::~MessageParser() = default;  // llhttp_t is a plain C struct: nothing to destroy

SectionLimits MessageParser::sectionLimits() const {
  SectionLimits section;
  section.max_bytes = limits_.max_head_bytes;
  section.max_fields = limits_.max_header_count;
  section.max_target_bytes = limits_.max_target_bytes;
  return section;
}

void MessageParser::startNextMessage() {
  phase_ = Phase::kHead;
  head_guard_.reset(direction_ == Direction::kRequest ? HeadSyntaxGuard::Kind::kRequestHead
                                                      : HeadSyntaxGuard::Kind::kResponseHead,
                    sectionLimits());
}

void MessageParser::setRequestContext(Method method, bool upgrade_requested) {
  request_method_ = method;
  upgrade_requested_ = upgrade_requested;
}

void MessageParser::resumeAfterDeclinedUpgrade() {
  if (phase_ != Phase::kTunnel || direction_ != Direction::kRequest) return;
  if (head_.keep_alive) {
    startNextMessage();
  } else {
    phase_ = Phase::kClosed;
  }
}

ParseResult MessageParser::fail(uint16_t status, const char* reason) {
  phase_ = Phase::kFailed;
  error_ = ParseError{status, reason};
  ParseResult result;
  result.event = ParseEvent::kError;
  result.error = error_;
  return result;
}

ParseResult MessageParser::failSyntax(SyntaxFailure failure, const char* reason) {
  if (direction_ == Direction::kResponse) return fail(502, reason);
  switch (failure) {
    case SyntaxFailure::kSectionTooLarge:
    case SyntaxFailure::kTooManyFields:
      return fail(431, reason);
    case SyntaxFailure::kTargetTooLong:
      return fail(414, reason);
    case SyntaxFailure::kUnsupportedVersion:
      return fail(505, reason);
    case SyntaxFailure::kBodyTooLarge:
      return fail(413, reason);
    case SyntaxFailure::kNone:
    case SyntaxFailure::kMalformed:
    case SyntaxFailure::kChunkLineTooLong:
      break;
  }
  return fail(400, reason);
}

ParseResult MessageParser::failLlhttp(int llhttp_error) {
  const char* reason = llhttp_get_error_reason(asLlhttp(llhttpState()));
  if (reason == nullptr || *reason == '\0') reason = llhttp_errno_name(static_cast<llhttp_errno_t>(llhttp_error));
  return fail(protocolErrorStatus(), reason);  // llhttp's reasons are static strings
}

ParseResult MessageParser::execute(const char* data, size_t len) {
  switch (phase_) {
    case Phase::kHead:
      return executeHead(data, len);
    case Phase::kBody:
      return executeBody(data, len);
    case Phase::kTunnel: {
      ParseResult result;
      result.event = ParseEvent::kUpgrade;
      return result;
    }
    case Phase::kClosed:
      if (len == 0) return ParseResult{};
      return fail(protocolErrorStatus(), "data after the last message of the connection");
    case Phase::kFailed:
      break;
  }
  ParseResult result;
  result.event = ParseEvent::kError;
  result.error = error_;
  return result;
}

ParseResult MessageParser::executeHead(const char* data, size_t len) {
  const uint32_t bytes_before = head_guard_.bytes();
  const GuardResult guard = head_guard_.feed(data, len);
  if (guard.status == GuardStatus::kFailed) return failSyntax(guard.failure, guard.reason);
  if (guard.status == GuardStatus::kNeedMore) {
    ParseResult result;
    result.consumed = len;
    return result;
  }
  // The head contract (parser.h): the head's earlier bytes sit right before `data`.
  if (!parseHead(data - bytes_before, bytes_before + guard.consumed)) {
    ParseResult result;
    result.event = ParseEvent::kError;
    result.error = error_;
    return result;
  }
  phase_ = Phase::kBody;
  ParseResult result;
  result.event = ParseEvent::kHeadComplete;
  result.consumed = guard.consumed;
  return result;
}

bool MessageParser::parseHead(const char* head_start, size_t head_size) {
  if (direction_ == Direction::kRequest) {
    static_cast<RequestHead&>(head_).clear();
    // Decided before llhttp runs, from the guard's view of the request-line: llhttp would
    // refuse an unknown method with the same error as a malformed one, and RFC 9110 9.1
    // wants 501 for a well-formed method the server does not implement.
    const std::string_view method_text(head_start + head_guard_.startLineOffset(),
                                       head_guard_.methodLength());
    if (!methodFromName(method_text)) {
      fail(501, "method not implemented");
      return false;
    }
  } else {
    static_cast<ResponseHead&>(head_).clear();
  }

  head_start_ = head_start;
  head_size_ = head_size;
  start_line_span_ = {};
  field_open_ = false;
  value_open_ = false;
  head_end_reached_ = false;
  message_end_reached_ = false;

  llhttp_t* state = asLlhttp(llhttpState());
  llhttp_reset(state);  // keeps type, settings and data; forgets the previous message
  collecting_head_ = true;
  const llhttp_errno_t status = llhttp_execute(state, head_start, head_size);
  collecting_head_ = false;
  if (status != HPE_OK && status != HPE_PAUSED) {
    failLlhttp(status);
    return false;
  }
  if (status != HPE_PAUSED || !head_end_reached_ || llhttp_get_error_pos(state) != head_start + head_size) {
    fail(protocolErrorStatus(), "llhttp and the syntax guard disagree on the end of the head");
    return false;
  }
  llhttp_resume(state);
  return direction_ == Direction::kRequest ? finalizeRequestHead() : finalizeResponseHead();
}

bool MessageParser::finalizeRequestHead() {
  RequestHead& head = static_cast<RequestHead&>(head_);
  const llhttp_t* state = asLlhttp(llhttpState());
  auto reject = [this](uint16_t status, const char* reason) {
    fail(status, reason);
    return false;
  };

  head.version_major = head_guard_.versionMajor();
  head.version_minor = head_guard_.versionMinor();
  head.method_text = std::string_view(head_start_ + head_guard_.startLineOffset(), head_guard_.methodLength());
  const std::optional<Method> method = methodFromLlhttp(state->method);
  if (!method || methodName(*method) != head.method_text) {
    return reject(400, "llhttp and the syntax guard disagree on the method");
  }
  head.method = *method;
  head.target = start_line_span_;
  if (head.target.empty()) return reject(400, "llhttp and the syntax guard disagree on the request-target");

  const FieldFacts facts = collectFieldFacts(head);
  if (facts.connection_malformed) return reject(400, "invalid or too many Connection options");

  // Framing (RFC 9112 6.1, 6.3).
  if (facts.content_length_fields > 1) return reject(400, "more than one Content-Length field");
  if (facts.content_length_malformed) return reject(400, "invalid Content-Length");
  if (facts.codings.present) {
    if (head.version_minor == 0) return reject(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (facts.content_length_fields > 0) return reject(400, "both Content-Length and Transfer-Encoding");
    if (facts.codings.malformed) return reject(400, "invalid Transfer-Encoding");
    // RFC 9112 6.3: without chunked as the final coding the length cannot be determined (400,
    // first: that is the smuggling shape); a well-framed but unknown coding is 501 (6.1).
    if (facts.codings.chunked_count != 1 || !facts.codings.last_is_chunked) {
      return reject(400, "Transfer-Encoding does not end in chunked");
    }
    if (facts.codings.unknown) return reject(501, "transfer coding not implemented");
    head.chunked = true;
  }
  head.content_length = facts.content_length;

  // Host (RFC 9112 3.2).
  head.has_host_header = facts.host_fields > 0;
  if (facts.host_fields > 1) return reject(400, "more than one Host field");
  if (facts.host_fields == 0 && head.version_minor == 1) return reject(400, "missing Host field");
  if (head.has_host_header && !isValidAuthority(facts.host, /*require_port=*/false)) {
    return reject(400, "invalid Host field");
  }

  // request-target forms (RFC 9112 3.2.1-3.2.4).
  if (head.method == Method::kConnect) {
    if (!isValidAuthority(head.target, /*require_port=*/true)) {
      return reject(400, "CONNECT needs an authority-form target (host:port)");
    }
    if (head.chunked || head.content_length.value_or(0) > 0) return reject(400, "CONNECT request with a body");
    head.target_form = TargetForm::kAuthority;
    head.host = head.target;
  } else if (head.target == "*") {
    if (head.method != Method::kOptions) return reject(400, "asterisk-form target outside OPTIONS");
    head.target_form = TargetForm::kAsterisk;
    head.path = head.target;
    head.host = facts.host;
  } else if (head.target.front() == '/') {
    head.target_form = TargetForm::kOrigin;
    splitPathAndQuery(head.target, head);
    head.host = facts.host;
  } else {
    std::string_view authority;
    std::string_view path_and_query;
    if (!parseAbsoluteForm(head.target, authority, path_and_query)) {
      return reject(400, "invalid request-target");
    }
    if (head.has_host_header && !equalsIgnoreCase(authority, facts.host)) {
      return reject(400, "Host does not match the request-target's authority");
    }
    head.target_form = TargetForm::kAbsolute;
    splitPathAndQuery(path_and_query, head);
    head.host = authority;
  }

  // Second opinion: llhttp must have framed the body the same way.
  const bool llhttp_chunked = (state->flags & F_CHUNKED) != 0;
  const bool llhttp_length = (state->flags & F_CONTENT_LENGTH) != 0;
  if (llhttp_chunked != head.chunked || llhttp_length != head.content_length.has_value() ||
      (llhttp_length && state->content_length != *head.content_length)) {
    return reject(400, "llhttp and the parser disagree on the body framing");
  }

  if (head.chunked) {
    head.framing = BodyFraming::kChunked;
  } else if (head.content_length.value_or(0) > 0) {
    head.framing = BodyFraming::kContentLength;
  } else {
    head.framing = BodyFraming::kNone;
  }
  if (head.content_length.value_or(0) > limits_.max_body_bytes) {
    return reject(413, "request body larger than the limit");
  }

  head.keep_alive = persistentConnection(head);
  // RFC 9110 7.8: Upgrade is ignored in HTTP/1.0 requests.
  head.upgrade = head.method == Method::kConnect ||
                 (head.version_minor == 1 && facts.upgrade_field && head.connection.contains("upgrade"));
  // RFC 9110 10.1.1: Expect is ignored in HTTP/1.0 requests.
  head.expect_continue = head.version_minor == 1 && facts.expect_continue;

  body_remaining_ = head.framing == BodyFraming::kContentLength ? *head.content_length : 0;
  if (head.framing == BodyFraming::kChunked) chunked_guard_.reset(limits_.max_body_bytes, sectionLimits());
  return true;
}

bool MessageParser::finalizeResponseHead() {
  ResponseHead& head = static_cast<ResponseHead&>(head_);
  const llhttp_t* state = asLlhttp(llhttpState());
  auto reject = [this](const char* reason) {
    fail(502, reason);
    return false;
  };

  head.version_major = head_guard_.versionMajor();
  head.version_minor = head_guard_.versionMinor();
  head.status = head_guard_.statusCode();
  head.reason = start_line_span_;
  if (state->status_code != head.status) return reject("llhttp and the syntax guard disagree on the status");

  const FieldFacts facts = collectFieldFacts(head);
  if (facts.connection_malformed) return reject("invalid or too many Connection options in response");
  if (facts.content_length_fields > 1) return reject("more than one Content-Length field in response");
  if (facts.content_length_malformed) return reject("invalid Content-Length in response");
  head.content_length = facts.content_length;
  if (facts.codings.present) {
    if (head.version_minor == 0) return reject("Transfer-Encoding in an HTTP/1.0 response");
    if (facts.content_length_fields > 0) return reject("both Content-Length and Transfer-Encoding in response");
    if (facts.codings.malformed) return reject("invalid Transfer-Encoding in response");
    if (facts.codings.chunked_count > 1) return reject("chunked applied more than once in response");
    head.chunked = facts.codings.last_is_chunked;
  }

  const bool success = head.status >= 200 && head.status < 300;
  const bool tunnel_to_connect = request_method_ == Method::kConnect && success;
  if (head.status == 101) {
    // RFC 9110 15.2.2 and 7.8: only a requested upgrade, and the 101 must say to what.
    if (!upgrade_requested_) return reject("101 Switching Protocols without an upgrade request");
    if (!facts.upgrade_field || !head.connection.contains("upgrade")) {
      return reject("101 Switching Protocols without Upgrade and Connection: upgrade");
    }
  }
  head.upgrade = head.status == 101 || tunnel_to_connect;
  head.body_forbidden = request_method_ == Method::kHead || (head.status >= 100 && head.status < 200) ||
                        head.status == 204 || head.status == 304 || tunnel_to_connect;

  // Second opinion on what llhttp parsed; its own body decision is never used for
  // body_forbidden messages (their bodies are not fed to it).
  const bool llhttp_chunked = (state->flags & F_CHUNKED) != 0;
  const bool llhttp_length = (state->flags & F_CONTENT_LENGTH) != 0;
  if (llhttp_chunked != head.chunked || llhttp_length != head.content_length.has_value() ||
      (llhttp_length && state->content_length != *head.content_length)) {
    return reject("llhttp and the parser disagree on the response framing");
  }

  // RFC 9112 6.3, in its order.
  if (head.body_forbidden) {
    head.framing = BodyFraming::kNone;
  } else if (facts.codings.present) {
    head.framing = head.chunked ? BodyFraming::kChunked : BodyFraming::kUntilClose;
  } else if (head.content_length) {
    head.framing = *head.content_length > 0 ? BodyFraming::kContentLength : BodyFraming::kNone;
  } else {
    head.framing = BodyFraming::kUntilClose;
  }
  if (head.framing == BodyFraming::kContentLength && *head.content_length > limits_.max_body_bytes) {
    return reject("response body larger than the limit");
  }

  head.keep_alive = !head.upgrade && head.framing != BodyFraming::kUntilClose && persistentConnection(head);

  body_remaining_ = head.framing == BodyFraming::kContentLength ? *head.content_length : 0;
  body_bytes_ = 0;
  if (head.framing == BodyFraming::kChunked) chunked_guard_.reset(limits_.max_body_bytes, sectionLimits());
  return true;
}

ParseResult MessageParser::executeBody(const char* data, size_t len) {
  llhttp_t* state = asLlhttp(llhttpState());
  ParseResult result;
  switch (head_.framing) {
    case BodyFraming::kNone:
      return completeMessage(0);

    case BodyFraming::kContentLength: {
      if (len == 0) return result;
      const size_t expected = static_cast<size_t>(std::min<uint64_t>(len, body_remaining_));
      const bool ends_here = expected == body_remaining_;
      message_end_reached_ = false;
      const llhttp_errno_t status = llhttp_execute(state, data, len);
      if (status != HPE_OK && status != HPE_PAUSED) return failLlhttp(status);
      const size_t consumed = status == HPE_OK ? len : static_cast<size_t>(llhttp_get_error_pos(state) - data);
      const bool agrees = ends_here ? (status == HPE_PAUSED && message_end_reached_ && consumed == expected)
                                    : (status == HPE_OK && consumed == len);
      if (!agrees) return fail(protocolErrorStatus(), "llhttp and the parser disagree on the body length");
      body_remaining_ -= expected;
      if (ends_here) return completeMessage(expected);
      result.event = ParseEvent::kBodyData;
      result.consumed = len;
      result.body_wire_bytes = len;
      return result;
    }

    case BodyFraming::kChunked: {
      const GuardResult guard = chunked_guard_.feed(data, len);
      if (guard.status == GuardStatus::kFailed) return failSyntax(guard.failure, guard.reason);
      if (guard.consumed == 0) return result;
      message_end_reached_ = false;
      const llhttp_errno_t status = llhttp_execute(state, data, guard.consumed);
      if (status != HPE_OK && status != HPE_PAUSED) return failLlhttp(status);
      const bool ends_here = guard.status == GuardStatus::kDone;
      const bool agrees = ends_here ? (status == HPE_PAUSED && message_end_reached_ &&
                                       llhttp_get_error_pos(state) == data + guard.consumed)
                                    : status == HPE_OK;
      if (!agrees) return fail(protocolErrorStatus(), "llhttp and the chunked guard disagree on the body");
      if (ends_here) return completeMessage(guard.consumed);
      result.event = ParseEvent::kBodyData;
      result.consumed = guard.consumed;
      result.body_wire_bytes = guard.consumed;
      return result;
    }

    case BodyFraming::kUntilClose: {
      if (len == 0) return result;
      if (len > limits_.max_body_bytes - body_bytes_) return fail(502, "response body larger than the limit");
      const llhttp_errno_t status = llhttp_execute(state, data, len);
      if (status != HPE_OK) return failLlhttp(status);
      body_bytes_ += len;
      result.event = ParseEvent::kBodyData;
      result.consumed = len;
      result.body_wire_bytes = len;
      return result;
    }
  }
  return fail(protocolErrorStatus(), "internal: unknown body framing");
}

ParseResult MessageParser::completeMessage(size_t body_wire_bytes) {
  ParseResult result;
  result.event = ParseEvent::kMessageComplete;
  result.consumed = body_wire_bytes;
  result.body_wire_bytes = body_wire_bytes;

  const bool interim = direction_ == Direction::kResponse && static_cast<const ResponseHead&>(head_).isInterim();
  if (interim) {
    startNextMessage();  // the final response follows; the request context stays
  } else if (head_.upgrade) {
    result.event = ParseEvent::kUpgrade;
    phase_ = Phase::kTunnel;
  } else if (!head_.keep_alive) {
    phase_ = Phase::kClosed;
  } else {
    startNextMessage();
  }
  return result;
}

ParseResult MessageParser::finish() {
  switch (phase_) {
    case Phase::kHead:
      if (head_guard_.bytes() == 0) return ParseResult{};
      return fail(protocolErrorStatus(), "connection closed inside a message head");
    case Phase::kBody:
      if (head_.framing == BodyFraming::kNone) return completeMessage(0);
      if (head_.framing == BodyFraming::kUntilClose) {
        const llhttp_errno_t status = llhttp_finish(asLlhttp(llhttpState()));
        if (status != HPE_OK && status != HPE_PAUSED) return failLlhttp(status);
        ParseResult result = completeMessage(0);
        phase_ = Phase::kClosed;
        return result;
      }
      return fail(protocolErrorStatus(), "connection closed inside a message body");
    case Phase::kTunnel:
    case Phase::kClosed:
      return ParseResult{};
    case Phase::kFailed:
      break;
  }
  ParseResult result;
  result.event = ParseEvent::kError;
  result.error = error_;
  return result;
}

void MessageParser::relocateHead(const char* new_head_start) {
  if (head_start_ == nullptr || new_head_start == head_start_) return;
  // Integer arithmetic: the old and new places are different objects, so comparing their
  // pointers directly would be unspecified.
  const uintptr_t old_begin = reinterpret_cast<uintptr_t>(head_start_);
  const uintptr_t old_end = old_begin + head_size_;
  auto move = [&](std::string_view& view) {
    if (view.data() == nullptr) return;
    const uintptr_t at = reinterpret_cast<uintptr_t>(view.data());
    if (at < old_begin || at > old_end) return;
    view = std::string_view(new_head_start + (at - old_begin), view.size());
  };
  for (uint16_t i = 0; i < head_.header_count; ++i) {
    move(head_.headers[i].name);
    move(head_.headers[i].value);
  }
  for (uint8_t i = 0; i < head_.connection.count; ++i) move(head_.connection.tokens[i]);
  move(start_line_span_);
  if (direction_ == Direction::kRequest) {
    RequestHead& head = static_cast<RequestHead&>(head_);
    move(head.method_text);
    move(head.target);
    move(head.path);
    move(head.query);
    move(head.host);
  } else {
    move(static_cast<ResponseHead&>(head_).reason);
  }
  head_start_ = new_head_start;
}

}  // namespace detail

RequestParser::RequestParser(const ParserLimits& limits)
    : core_(detail::MessageParser::Direction::kRequest, limits, head_) {}

ResponseParser::ResponseParser(const ParserLimits& limits)
    : core_(detail::MessageParser::Direction::kResponse, limits, head_) {}

}  // namespace switchyard::http::http1
