#include "proxy/http/message.h"

#include <array>

namespace switchyard::http {
namespace {

// Indexed by Method; the order must match the enum (checked below).
constexpr std::array<std::string_view, 34> kMethodNames = {
    "DELETE",     "GET",      "HEAD",     "POST",       "PUT",       "CONNECT",  "OPTIONS",
    "TRACE",      "PATCH",    "COPY",     "LOCK",       "MKCOL",     "MOVE",     "PROPFIND",
    "PROPPATCH",  "SEARCH",   "UNLOCK",   "BIND",       "REBIND",    "UNBIND",   "ACL",
    "REPORT",     "MKACTIVITY", "CHECKOUT", "MERGE",    "MKCALENDAR", "LINK",    "UNLINK",
    "M-SEARCH",   "NOTIFY",   "SUBSCRIBE", "UNSUBSCRIBE", "PURGE",   "SOURCE",
};
static_assert(static_cast<size_t>(Method::kSource) + 1 == kMethodNames.size(),
              "kMethodNames must list every Method in enum order");

}  // namespace

std::string_view methodName(Method method) {
  const size_t index = static_cast<size_t>(method);
  return index < kMethodNames.size() ? kMethodNames[index] : std::string_view("UNKNOWN");
}

std::optional<Method> methodFromName(std::string_view name) {
  for (size_t i = 0; i < kMethodNames.size(); ++i) {
    if (kMethodNames[i] == name) return static_cast<Method>(i);
  }
  return std::nullopt;
}

bool isIdempotent(Method method) {
  switch (method) {
    case Method::kGet:
    case Method::kHead:
    case Method::kPut:
    case Method::kDelete:
    case Method::kOptions:
    case Method::kTrace:
      return true;
    default:
      return false;
  }
}

bool ConnectionTokens::contains(std::string_view token) const {
  for (uint8_t i = 0; i < count; ++i) {
    if (equalsIgnoreCase(tokens[i], token)) return true;
  }
  return false;
}

namespace {

const HeaderField* findField(std::span<const HeaderField> fields, std::string_view name) {
  for (const HeaderField& field : fields) {
    if (equalsIgnoreCase(field.name, name)) return &field;
  }
  return nullptr;
}

}  // namespace

const HeaderField* MessageHead::find(std::string_view name) const { return findField(fields(), name); }

void MessageHead::clearCommon() {
  version_major = 1;
  version_minor = 1;
  header_count = 0;
  content_length.reset();
  chunked = false;
  framing = BodyFraming::kNone;
  keep_alive = true;
  upgrade = false;
  connection.count = 0;
}

void RequestHead::clear() {
  clearCommon();
  method = Method::kGet;
  method_text = {};
  target = {};
  target_form = TargetForm::kOrigin;
  path = {};
  query = {};
  has_query = false;
  expect_continue = false;
  host = {};
  has_host_header = false;
}

void ResponseHead::clear() {
  clearCommon();
  status = 0;
  reason = {};
  body_forbidden = false;
}

bool isHopByHop(std::string_view name, const ConnectionTokens& connection) {
  // Checked by length first: most forwarded fields fail that test at once.
  switch (name.size()) {
    case 2:
      if (equalsIgnoreCase(name, "te")) return true;
      break;
    case 7:
      if (equalsIgnoreCase(name, "trailer") || equalsIgnoreCase(name, "upgrade")) return true;
      break;
    case 10:
      if (equalsIgnoreCase(name, "connection") || equalsIgnoreCase(name, "keep-alive")) return true;
      break;
    case 16:
      if (equalsIgnoreCase(name, "proxy-connection")) return true;
      break;
    default:
      break;
  }
  if (connection.count == 0) return false;
  // Never let a Connection option strip a field the forwarded body or routing depends on.
  if (equalsIgnoreCase(name, "content-length") || equalsIgnoreCase(name, "transfer-encoding") ||
      equalsIgnoreCase(name, "host")) {
    return false;
  }
  return connection.contains(name);
}

std::string_view statusReason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 102: return "Processing";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 207: return "Multi-Status";
    case 208: return "Already Reported";
    case 226: return "IM Used";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 305: return "Use Proxy";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 423: return "Locked";
    case 424: return "Failed Dependency";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 506: return "Variant Also Negotiates";
    case 507: return "Insufficient Storage";
    case 508: return "Loop Detected";
    case 510: return "Not Extended";
    case 511: return "Network Authentication Required";
    default: return "Unknown";
  }
}

}  // namespace switchyard::http
