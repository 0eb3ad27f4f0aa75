#include "tests/integration/http_wire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace switchyard::itest {

uint64_t fnv1a(std::string_view data, uint64_t h) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string patternBytes(size_t n, uint64_t seed) {
  std::string out(n, '\0');
  uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<char>(x >> 24);
  }
  return out;
}

std::string loopback(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool containsIgnoreCase(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (size_t i = 0; i + needle.size() <= haystack.size(); i++) {
    if (equalsIgnoreCase(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

bool Message::has(std::string_view name) const { return count(name) > 0; }

std::string Message::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (equalsIgnoreCase(n, name)) return v;
  }
  return "";
}

size_t Message::count(std::string_view name) const {
  size_t c = 0;
  for (const auto& h : headers) c += equalsIgnoreCase(h.first, name) ? 1 : 0;
  return c;
}

std::vector<std::string> Message::all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [n, v] : headers) {
    if (equalsIgnoreCase(n, name)) out.push_back(v);
  }
  return out;
}

// --- Stream ------------------------------------------------------------------

void Stream::setTimeout(Ms timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void Stream::compact() {
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
}

bool Stream::fill() {
  if (fd_ < 0 || eof_) return false;
  compact();
  char tmp[64 * 1024];
  for (;;) {
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n > 0) {
      buf_.append(tmp, static_cast<size_t>(n));
      if (bytes_in_ != nullptr) bytes_in_->fetch_add(static_cast<uint64_t>(n));
      return true;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      timed_out_ = true;
    } else {
      eof_ = true;  // reset: treated as the end of the stream
    }
    return false;
  }
}

bool Stream::readHead(std::string& head, size_t max_bytes) {
  for (;;) {
    std::string_view p = pending();
    size_t end = p.find("\r\n\r\n");
    size_t len = end == std::string_view::npos ? 0 : end + 4;
    if (size_t lf = p.find("\n\n"); lf != std::string_view::npos && (len == 0 || lf + 2 < len)) {
      len = lf + 2;
    }
    if (len > 0) {
      head.assign(p.substr(0, len));
      pos_ += len;
      return true;
    }
    if (p.size() > max_bytes) return false;
    if (!fill()) return false;
  }
}

bool Stream::readLine(std::string& line) {
  for (;;) {
    std::string_view p = pending();
    size_t lf = p.find('\n');
    if (lf != std::string_view::npos) {
      size_t len = lf;
      if (len > 0 && p[len - 1] == '\r') len--;
      line.assign(p.substr(0, len));
      pos_ += lf + 1;
      return true;
    }
    if (!fill()) return false;
  }
}

bool Stream::readExact(size_t n, std::string& out) {
  while (n > 0) {
    if (pos_ == buf_.size() && !fill()) return false;
    size_t take = std::min(n, buf_.size() - pos_);
    out.append(buf_, pos_, take);
    pos_ += take;
    n -= take;
  }
  return true;
}

bool Stream::readToEof(std::string& out) {
  for (;;) {
    out.append(pending());
    pos_ = buf_.size();
    if (!fill()) return eof_;
  }
}

std::string Stream::takePending() {
  std::string out(pending());
  pos_ = buf_.size();
  return out;
}

bool Stream::sendAll(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// --- Parsing -----------------------------------------------------------------

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool readChunked(Stream& s, std::string& body) {
  for (;;) {
    std::string line;
    if (!s.readLine(line)) return false;
    size_t semi = line.find(';');
    std::string size_text(trim(line.substr(0, semi)));
    if (size_text.empty()) return false;
    char* end = nullptr;
    unsigned long long size = std::strtoull(size_text.c_str(), &end, 16);
    if (end == nullptr || *end != '\0') return false;
    if (size == 0) {
      for (;;) {  // trailer section
        if (!s.readLine(line)) return false;
        if (line.empty()) return true;
      }
    }
    if (!s.readExact(size, body)) return false;
    if (!s.readLine(line) || !line.empty()) return false;
  }
}

bool readBody(Stream& s, Message& m, bool request, bool no_body) {
  if (no_body) return true;
  if (containsIgnoreCase(m.header("Transfer-Encoding"), "chunked")) {
    m.chunked = true;
    return readChunked(s, m.body);
  }
  if (m.has("Content-Length")) {
    return s.readExact(std::strtoull(m.header("Content-Length").c_str(), nullptr, 10), m.body);
  }
  if (request) return true;
  return s.readToEof(m.body);
}

}  // namespace

bool parseHead(std::string_view head, bool request, Message& out) {
  out = Message{};
  out.raw_head.assign(head);
  size_t eol = head.find('\n');
  if (eol == std::string_view::npos) return false;
  std::string_view start = trim(head.substr(0, eol));
  head.remove_prefix(eol + 1);
  size_t sp1 = start.find(' ');
  if (sp1 == std::string_view::npos) return false;
  if (request) {
    size_t sp2 = start.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return false;
    out.method.assign(start.substr(0, sp1));
    out.target.assign(start.substr(sp1 + 1, sp2 - sp1 - 1));
    out.version.assign(start.substr(sp2 + 1));
  } else {
    out.version.assign(start.substr(0, sp1));
    std::string_view rest = start.substr(sp1 + 1);
    out.status = std::atoi(std::string(rest.substr(0, 3)).c_str());
    if (rest.size() > 4) out.reason.assign(rest.substr(4));
  }
  while (!head.empty()) {
    eol = head.find('\n');
    std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 1);
    line = trim(line);
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    out.headers.emplace_back(std::string(line.substr(0, colon)),
                             std::string(trim(line.substr(colon + 1))));
  }
  return true;
}

bool readResponse(Stream& s, Message& out, bool head_request) {
  std::string head;
  if (!s.readHead(head) || !parseHead(head, false, out)) return false;
  const bool no_body = head_request || (out.status >= 100 && out.status < 200) ||
                       out.status == 204 || out.status == 304;
  return readBody(s, out, false, no_body);
}

bool readRequest(Stream& s, Message& out) {
  std::string head;
  if (!s.readHead(head) || !parseHead(head, true, out)) return false;
  return readBody(s, out, true, false);
}

std::string makeResponse(int status, std::string_view body,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         bool close) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " X\r\n";
  for (const auto& [n, v] : headers) out += n + ": " + v + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  out.append(body);
  return out;
}

std::string makeGet(std::string_view target, std::string_view host,
                    std::string_view extra_fields) {
  std::string out = "GET ";
  out.append(target);
  out += " HTTP/1.1\r\nHost: ";
  out.append(host);
  out += "\r\n";
  out.append(extra_fields);
  out += "\r\n";
  return out;
}

int connectTo(uint16_t port, Ms io_timeout, const char* ip) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  ::inet_pton(AF_INET, ip, &sa.sin_addr);
  Stream tmp(fd);
  tmp.setTimeout(io_timeout);  // also bounds connect() (SO_SNDTIMEO)
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// --- Client ------------------------------------------------------------------

Client::Client(uint16_t port, Ms io_timeout, const char* ip)
    : fd_(connectTo(port, io_timeout, ip)), stream_(fd_) {}

Client::~Client() { close(); }

Client::Client(Client&& o) noexcept : fd_(o.fd_), stream_(std::move(o.stream_)) {
  o.fd_ = -1;
  o.stream_ = Stream();
}

bool Client::send(std::string_view bytes) { return fd_ >= 0 && stream_.sendAll(bytes); }

Message Client::response(bool head_request) {
  Message m;
  if (fd_ < 0 || !readResponse(stream_, m, head_request)) m.status = 0;
  return m;
}

Message Client::get(std::string_view target, std::string_view host,
                    std::string_view extra_fields) {
  if (!send(makeGet(target, host, extra_fields))) return Message{};
  return response();
}

bool Client::waitClosed(Ms within, std::string* received) {
  if (fd_ < 0) return true;
  if (received != nullptr) *received += stream_.takePending();
  const auto deadline = Clock::now() + within;
  for (;;) {
    if (stream_.eof()) return true;
    auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    if (stream_.fill()) {
      std::string bytes = stream_.takePending();
      if (received != nullptr) *received += bytes;
    } else if (stream_.eof()) {
      return true;
    }
  }
}

bool Client::staysSilent(Ms quiet) {
  if (!stream_.pending().empty()) return false;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(quiet.count())) == 0;
}

void Client::shutdownWrite() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

void Client::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  stream_ = Stream();
}

uint16_t unusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  ::close(fd);
  return ntohs(sa.sin_port);
}

}  // namespace switchyard::itest
