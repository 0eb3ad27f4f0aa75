#include "proxy/http/http1/writer.h"

#include <cstring>

#include "proxy/http/date.h"

namespace switchyard::http::http1 {
namespace {

// Appends to a fixed buffer; once something does not fit, everything after is dropped and
// finish() says so.
class HeadBuilder {
 public:
  explicit HeadBuilder(std::span<char> out) : out_(out) {}

  void append(std::string_view text) {
    if (overflow_ || text.size() > out_.size() - size_) {
      overflow_ = true;
      return;
    }
    if (!text.empty()) std::memcpy(out_.data() + size_, text.data(), text.size());
    size_ += text.size();
  }

  void appendDecimal(uint64_t value) {
    char digits[20];
    size_t count = 0;
    do {
      digits[sizeof(digits) - 1 - count] = static_cast<char>('0' + value % 10);
      value /= 10;
      ++count;
    } while (value != 0 && count < sizeof(digits));
    append(std::string_view(digits + sizeof(digits) - count, count));
  }

  void appendField(std::string_view name, std::string_view value) {
    append(name);
    append(": ");
    append(value);
    append("\r\n");
  }

  void appendVia(uint8_t version_major, uint8_t version_minor, std::string_view pseudonym) {
    append("Via: ");
    appendDecimal(version_major);
    append(".");
    appendDecimal(version_minor);
    append(" ");
    append(pseudonym);
    append("\r\n");
  }

  std::optional<size_t> finish() const {
    if (overflow_) return std::nullopt;
    return size_;
  }

 private:
  std::span<char> out_;
  size_t size_ = 0;
  bool overflow_ = false;
};

bool isForwardingField(std::string_view name) {
  return equalsIgnoreCase(name, "x-forwarded-for") || equalsIgnoreCase(name, "x-forwarded-proto") ||
         equalsIgnoreCase(name, "x-forwarded-host");
}

// RFC 9110 tchar: what a Forwarded parameter value may be without quotes.
bool isTchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A Forwarded parameter value (RFC 7239 4): a token as is, else a quoted-string. An IPv6
// address in for= must be bracketed (and hence quoted): `for="[2001:db8::1]"`.
void appendForwardedValue(HeadBuilder& builder, std::string_view value, bool ipv6) {
  bool token = !value.empty() && !ipv6;
  for (char c : value) token = token && isTchar(c);
  if (token) {
    builder.append(value);
    return;
  }
  builder.append(ipv6 ? "\"[" : "\"");
  for (char c : value) {
    if (c == '"' || c == '\\') builder.append("\\");
    builder.append(std::string_view(&c, 1));
  }
  builder.append(ipv6 ? "]\"" : "\"");
}

// The origin-form target for the upstream (RFC 9112 3.2.1/3.2.2).
void appendUpstreamTarget(HeadBuilder& builder, const RequestHead& head) {
  if (head.target_form != TargetForm::kAbsolute) {
    builder.append(head.target);
    return;
  }
  // path and query are contiguous in the target: send from the path to the end.
  const char* path_begin = head.path.data();
  const size_t path_offset = static_cast<size_t>(path_begin - head.target.data());
  const std::string_view path_and_query = head.target.substr(path_offset);
  if (head.path.empty()) builder.append("/");
  builder.append(path_and_query);
}

}  // namespace

std::optional<size_t> writeRequestHead(std::span<char> out, const RequestHead& head,
                                       const RequestWriteOptions& options) {
  HeadBuilder builder(out);
  const bool http10 = options.version_minor == 0;
  const bool upgrading = options.upgrade && head.upgrade && !http10;

  builder.append(head.method_text);
  builder.append(" ");
  appendUpstreamTarget(builder, head);
  builder.append(http10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");

  if (!head.has_host_header) {
    builder.appendField("Host", head.host.empty() ? options.host_fallback : head.host);
  }

  bool has_forwarded_for = false;
  bool has_forwarded = false;
  for (const HeaderField& field : head.fields()) {
    if (isHopByHop(field.name, head.connection)) {
      if (!(upgrading && equalsIgnoreCase(field.name, "upgrade"))) continue;
    }
    if (options.forwarded_rfc7239 && equalsIgnoreCase(field.name, "forwarded")) {
      has_forwarded = has_forwarded ||
                      (options.keep_received_forwarded_for && !field.value.empty());
      continue;  // merged into ours below
    }
    if (isForwardingField(field.name)) {
      if (options.keep_received_forwarded_for && !field.value.empty() &&
          equalsIgnoreCase(field.name, "x-forwarded-for")) {
        has_forwarded_for = true;
      }
      continue;
    }
    builder.appendField(field.name, field.value);
  }

  // One X-Forwarded-For: the received values in order, then the client.
  if (options.x_forwarded && (has_forwarded_for || !options.client_address.empty())) {
    builder.append("X-Forwarded-For: ");
    bool first = true;
    for (const HeaderField& field : head.fields()) {
      if (!has_forwarded_for) break;
      if (field.value.empty() || !equalsIgnoreCase(field.name, "x-forwarded-for")) continue;
      if (!first) builder.append(", ");
      builder.append(field.value);
      first = false;
    }
    if (!options.client_address.empty()) {
      if (!first) builder.append(", ");
      builder.append(options.client_address);
    }
    builder.append("\r\n");
  }
  if (options.x_forwarded) {
    if (!options.forwarded_proto.empty()) {
      builder.appendField("X-Forwarded-Proto", options.forwarded_proto);
    }
    if (!head.host.empty()) builder.appendField("X-Forwarded-Host", head.host);
  }
  // One Forwarded field: the received elements in order, then ours.
  if (options.forwarded_rfc7239) {
    builder.append("Forwarded: ");
    for (const HeaderField& field : head.fields()) {
      if (!has_forwarded) break;
      if (field.value.empty() || !equalsIgnoreCase(field.name, "forwarded")) continue;
      builder.append(field.value);
      builder.append(", ");
    }
    const char* sep = "";
    if (!options.client_address.empty()) {
      builder.append("for=");
      appendForwardedValue(builder, options.client_address,
                           options.client_address.find(':') != std::string_view::npos);
      sep = ";";
    }
    if (!options.forwarded_proto.empty()) {
      builder.append(sep);
      builder.append("proto=");
      appendForwardedValue(builder, options.forwarded_proto, false);
      sep = ";";
    }
    if (!head.host.empty()) {
      builder.append(sep);
      builder.append("host=");
      appendForwardedValue(builder, head.host, false);
      sep = ";";
    }
    if (*sep == '\0') builder.append("for=unknown");  // an element needs a pair
    builder.append("\r\n");
  }
  builder.appendVia(head.version_major, head.version_minor, options.via_pseudonym);

  if (upgrading) {
    builder.append("Connection: upgrade\r\n");
  } else if (options.close) {
    builder.append("Connection: close\r\n");
  } else if (http10) {
    builder.append("Connection: keep-alive\r\n");  // HTTP/1.0 persists only when asked
  }
  builder.append("\r\n");
  return builder.finish();
}

std::optional<size_t> writeResponseHead(std::span<char> out, const ResponseHead& head,
                                        const ResponseWriteOptions& options) {
  HeadBuilder builder(out);
  const bool switching = head.status == 101;

  builder.append("HTTP/1.1 ");
  builder.appendDecimal(head.status);
  builder.append(" ");
  builder.append(head.reason.empty() ? statusReason(head.status) : head.reason);
  builder.append("\r\n");

  for (const HeaderField& field : head.fields()) {
    if (isHopByHop(field.name, head.connection)) {
      if (!(switching && equalsIgnoreCase(field.name, "upgrade"))) continue;
    }
    builder.appendField(field.name, field.value);
  }
  builder.appendVia(head.version_major, head.version_minor, options.via_pseudonym);

  if (switching) {
    builder.append("Connection: upgrade\r\n");
  } else if (head.isInterim() || head.upgrade) {
    // Interim responses and a tunnel's 2xx say nothing about persistence.
  } else if (!options.keep_alive) {
    builder.append("Connection: close\r\n");
  } else if (options.client_version_minor == 0) {
    builder.append("Connection: keep-alive\r\n");
  }
  builder.append("\r\n");
  return builder.finish();
}

std::optional<size_t> writeSimpleResponse(std::span<char> out, const SimpleResponse& response) {
  HeadBuilder builder(out);
  const int status = response.status;
  const bool has_content = !((status >= 100 && status < 200) || status == 204 || status == 304);

  builder.append("HTTP/1.1 ");
  builder.appendDecimal(static_cast<uint64_t>(status < 0 ? 0 : status));
  builder.append(" ");
  builder.append(response.reason.empty() ? statusReason(status) : response.reason);
  builder.append("\r\n");

  if (response.date_unix_seconds != SimpleResponse::kNoDate) {
    HttpDate date;
    if (response.date_unix_seconds == SimpleResponse::kDateNow) {
      date = currentHttpDate();
    } else {
      formatHttpDate(response.date_unix_seconds, date);
    }
    builder.appendField("Date", std::string_view(date.data(), date.size()));
  }
  if (has_content) {
    if (!response.content_type.empty()) builder.appendField("Content-Type", response.content_type);
    builder.append("Content-Length: ");
    builder.appendDecimal(response.body.size());
    builder.append("\r\n");
  }
  builder.append(response.keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
  builder.append("\r\n");
  if (has_content && !response.head_request) builder.append(response.body);
  return builder.finish();
}

std::optional<size_t> writeSimpleResponse(std::span<char> out, int status, std::string_view reason,
                                          std::string_view body, bool keep_alive) {
  SimpleResponse response;
  response.status = status;
  response.reason = reason;
  response.body = body;
  response.keep_alive = keep_alive;
  return writeSimpleResponse(out, response);
}

}  // namespace switchyard::http::http1
