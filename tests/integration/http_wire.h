// The test side of the wire: blocking POSIX sockets and a small, lenient
// HTTP/1.1 reader, independent of proxy/http/ (a bug there must not hide
// itself by being on both ends of a test).
//
// Clients are plain threads with blocking sockets, so a test controls the
// exact bytes on the wire (split heads, pipelining, malformed framing) and
// every wait is bounded by a receive timeout: a proxy that hangs makes a
// test fail, never sit until Bazel's timeout.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchyard::itest {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

#if defined(__SANITIZE_THREAD__)
inline constexpr bool kTsan = true;
#else
inline constexpr bool kTsan = false;
#endif
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAsan = true;
#else
inline constexpr bool kAsan = false;
#endif
inline constexpr bool kSanitized = kTsan || kAsan;

// Bounds for "this must happen eventually" waits, stretched under the
// sanitizers. They bound correctness waits; they never measure speed.
inline Ms patience(Ms normal) { return kSanitized ? normal * 5 : normal; }

// FNV-1a 64: cheap, order-sensitive checksum of bodies on both ends.
inline constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
uint64_t fnv1a(std::string_view data, uint64_t h = kFnvOffset);

// Deterministic pseudo-random bytes (all 256 values occur) for bodies.
std::string patternBytes(size_t n, uint64_t seed);

// "a.b.c:port" for a bound socket's port on 127.0.0.1.
std::string loopback(uint16_t port);

// A parsed request or response, as received.
struct Message {
  // Requests.
  std::string method;
  std::string target;
  // Responses.
  int status = 0;
  std::string reason;
  std::string version;  // "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> headers;  // in order, as received
  std::string body;      // decoded (chunked framing removed)
  std::string raw_head;  // the head's bytes, up to and including the empty line
  bool chunked = false;

  // Case-insensitive lookups.
  bool has(std::string_view name) const;
  std::string header(std::string_view name) const;  // the first value, or ""
  size_t count(std::string_view name) const;
  std::vector<std::string> all(std::string_view name) const;
};

bool equalsIgnoreCase(std::string_view a, std::string_view b);
bool containsIgnoreCase(std::string_view haystack, std::string_view needle);

// A blocking socket with a read buffer. Every recv is bounded by the
// socket's SO_RCVTIMEO (setTimeout).
class Stream {
 public:
  explicit Stream(int fd = -1, std::atomic<uint64_t>* bytes_in = nullptr)
      : fd_(fd), bytes_in_(bytes_in) {}

  int fd() const { return fd_; }
  void setTimeout(Ms timeout);

  // One recv into the buffer: false on EOF, error or timeout (see eof()).
  bool fill();
  bool eof() const { return eof_; }
  bool timedOut() const { return timed_out_; }

  // Reads up to and including "\r\n\r\n" (or a bare "\n\n").
  bool readHead(std::string& head, size_t max_bytes = 1 << 20);
  bool readLine(std::string& line);  // without its CRLF
  bool readExact(size_t n, std::string& out);  // appends
  bool readToEof(std::string& out);            // appends; false on timeout/error
  // Buffered bytes not consumed yet.
  std::string_view pending() const { return std::string_view(buf_).substr(pos_); }
  std::string takePending();

  bool sendAll(std::string_view data);

 private:
  void compact();

  int fd_;
  std::atomic<uint64_t>* bytes_in_;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
  bool timed_out_ = false;
};

// Parses "HTTP/1.1 200 OK" / "GET / HTTP/1.1" plus field lines. Lenient:
// the proxy's strictness is what is under test, not this.
bool parseHead(std::string_view head, bool request, Message& out);

// Reads one message. Response bodies follow RFC 9112 6.3 (no body for HEAD,
// 1xx, 204, 304; chunked; Content-Length; else until EOF). Request bodies:
// chunked, Content-Length or none.
bool readResponse(Stream& s, Message& out, bool head_request = false);
bool readRequest(Stream& s, Message& out);

// A response in wire form with Content-Length.
std::string makeResponse(int status, std::string_view body,
                         const std::vector<std::pair<std::string, std::string>>& headers = {},
                         bool close = false);
// "GET <target> HTTP/1.1\r\nHost: <host>\r\n<extra>\r\n".
std::string makeGet(std::string_view target, std::string_view host = "example.com",
                    std::string_view extra_fields = "");

// Opens a blocking TCP connection to 127.0.0.1:port (or `ip`) with send and
// receive timeouts of `io_timeout`; -1 on failure.
int connectTo(uint16_t port, Ms io_timeout, const char* ip = "127.0.0.1");

// A test client: one connection, raw bytes out, parsed messages in.
class Client {
 public:
  explicit Client(uint16_t port, Ms io_timeout = patience(10s), const char* ip = "127.0.0.1");
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  Client(Client&& o) noexcept;

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  Stream& stream() { return stream_; }

  bool send(std::string_view bytes);
  // Reads the next response; status stays 0 when none could be read.
  Message response(bool head_request = false);
  // send(makeGet(...)) then response().
  Message get(std::string_view target, std::string_view host = "example.com",
              std::string_view extra_fields = "");
  // Waits until the peer closes (EOF or reset) within `within`; bytes that
  // arrive meanwhile are appended to *received. False on timeout.
  bool waitClosed(Ms within, std::string* received = nullptr);
  // True when nothing arrives (and no EOF) for `quiet`.
  bool staysSilent(Ms quiet);
  void shutdownWrite();
  void close();

 private:
  int fd_ = -1;
  Stream stream_;
};

// A port on 127.0.0.1 where nothing listens (bound, then closed).
uint16_t unusedPort();

}  // namespace switchyard::itest
