// rt::net: TCP and signals for Tasks, in blocking style on the netpoller.
//
// Owns sockets' lifetimes: every object closes its fd on every path
// (destructor included), so a connection cannot leak. Operations that would
// block park the calling Task on the netpoller (never the thread) until
// ready, the deadline passes, or another Task interrupt()s the object.
// Errors are std::error_code; the conditions callers distinguish:
//   net::errc::eof                 orderly close by the peer (read returned 0)
//   std::errc::timed_out           the deadline passed
//   std::errc::connection_reset    RST from the peer (ECONNRESET, EPIPE)
//   std::errc::connection_refused  nobody listens (connect)
//   std::errc::operation_canceled  interrupt()ed or closed meanwhile
//   net::errc::host_not_found      resolve: the name has no address
//   net::errc::resolver_failed     resolve: getaddrinfo failed otherwise
// Other failures carry the errno in std::generic_category().
// Deadlines are absolute CLOCK_MONOTONIC times (steady_clock); kNoDeadline
// waits forever. One Task reads and one Task writes a TcpConn at a time
// (they may be different Tasks); close() belongs to the owner, interrupt()
// may come from anyone. interrupt() is final, as Go's Close-from-another-
// goroutine: afterwards every operation on the object fails with
// operation_canceled, and only close() remains to be done.
//
// Sockets are opened, used and closed while the runtime runs (inside
// rt::run): the netpoller lives only that long, so an object must not
// outlive rt::run while it still holds an fd. Operations that may wait
// (read, write, accept, connect, wait) are for Tasks; called from a plain
// thread they fail with operation_not_permitted instead of waiting.
//
// Platforms: Linux (>= 4.18) only so far. net.cc uses accept4,
// SOCK_NONBLOCK and TCP_KEEPIDLE (Linux); SignalReader is a
// signalfd (signal_linux.cc): the self-pipe version for the BSDs is not
// written yet.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "runtime/netpoll/poll_desc.h"

namespace rt::net {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;
inline constexpr Deadline kNoDeadline = Deadline::max();

enum class errc { eof = 1, host_not_found = 2, resolver_failed = 3 };
const std::error_category& category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), category()}; }

// An IPv4 or IPv6 address and port.
struct Address {
  sockaddr_storage storage{};
  socklen_t len = 0;
  int family() const { return storage.ss_family; }
  uint16_t port() const;
  std::string toString() const;  // "1.2.3.4:80", "[::1]:80"
  // Parses a numeric "host:port" / "[v6]:port" (no DNS, no IPv6 zone);
  // nullopt for anything else ("localhost:80", a missing or bad port).
  static std::optional<Address> parse(std::string_view host_port);
};

// Resolves "host:port" (names through getaddrinfo inside rt::blocking, so
// a slow resolver does not stall the P). Numeric hosts skip the resolver.
// The port may be a number or a service name. Appends to `out`.
std::error_code resolve(std::string_view host_port, std::vector<Address>& out);

class TcpConn {
 public:
  TcpConn() = default;
  ~TcpConn();
  TcpConn(TcpConn&& o) noexcept;
  TcpConn& operator=(TcpConn&& o) noexcept;
  TcpConn(const TcpConn&) = delete;
  TcpConn& operator=(const TcpConn&) = delete;

  // Takes ownership of a connected socket (made non-blocking here); on
  // failure the fd is closed.
  static TcpConn adopt(int fd, std::error_code& ec);

  bool valid() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  // Reads at most n bytes; returns the count (> 0) or sets ec (eof at end).
  // n == 0 returns 0 at once.
  size_t read(void* buf, size_t n, std::error_code& ec);
  // Writes all n bytes (looping over short writes) or sets ec; returns the
  // count written before an error.
  size_t write(const void* buf, size_t n, std::error_code& ec);
  // Writes all the iovecs' bytes, gathering (writev).
  size_t writev(const iovec* iov, int iovcnt, std::error_code& ec);

  // For protocol layers that drive the socket themselves (TLS): one
  // attempt that never parks. tryRead returns the count (> 0) or sets ec:
  // eof, std::errc::resource_unavailable_try_again when the receive queue
  // is empty (known from the last short read without a syscall, as read()
  // knows it), or the error. tryWrite returns the count sent (maybe short), or 0 with ec
  // set (resource_unavailable_try_again when the send buffer is full).
  size_t tryRead(void* buf, size_t n, std::error_code& ec);
  size_t tryWrite(const void* buf, size_t n, std::error_code& ec);
  // Park until the socket is readable (writable), the read (write)
  // deadline passes, or interrupt(). A readiness wake-up is not a promise
  // of bytes: the caller retries and may wait again.
  std::error_code waitReadable();
  std::error_code waitWritable();

  // Deadlines for subsequent reads / writes.
  void setReadDeadline(Deadline d) { read_deadline_ = d; }
  void setWriteDeadline(Deadline d) { write_deadline_ = d; }
  void setDeadline(Deadline d) { read_deadline_ = write_deadline_ = d; }

  std::error_code setNoDelay(bool on);
  std::error_code setKeepAlive(bool on, std::chrono::seconds idle = std::chrono::seconds(60));
  std::error_code shutdownWrite();  // half-close: the peer reads eof
  std::error_code shutdownRead();

  // Starts fn(arg) in a new Task when data (or eof) arrives, and holds no
  // Task meanwhile: an idle keep-alive connection then costs only this
  // object. One-shot: re-arm after each use. No Task may be reading the
  // connection while it is armed, and an armed object must not move (the
  // hook keeps `arg`, typically this object's owner).
  void armOnReadable(void (*fn)(void* arg), void* arg);
  // Cancels the hook: true if it was still armed (fn will not run), false
  // if fn's Task has started or is about to (it then owns the connection).
  bool disarmOnReadable();

  // Wakes a Task blocked on this connection with operation_canceled.
  void interrupt();
  void close();

  // Empty (len 0) if the socket has none.
  Address localAddress() const;
  Address peerAddress() const;

 private:
  friend class TcpListener;
  friend TcpConn connect(const Address& addr, Deadline deadline, std::error_code& ec);
  TcpConn(int fd, internal::PollDesc* pd) : fd_(fd), pd_(pd) {}

  int fd_ = -1;
  internal::PollDesc* pd_ = nullptr;
  Deadline read_deadline_ = kNoDeadline;
  Deadline write_deadline_ = kNoDeadline;
  // The receive queue was empty when last looked at (a short read before
  // any FIN, or EAGAIN): the next read waits for an edge first instead
  // of paying a syscall that would only say EAGAIN (net.cc, read()).
  bool read_drained_ = false;
};

// Connects to `addr` within `deadline`. TCP_NODELAY is set, as on accepted
// sockets (and as Go does).
TcpConn connect(const Address& addr, Deadline deadline, std::error_code& ec);
// Resolves host:port and tries each address in turn until `deadline`.
TcpConn connect(std::string_view host_port, Deadline deadline, std::error_code& ec);

struct ListenOptions {
  int backlog = 4096;
  bool reuse_port = false;   // SO_REUSEPORT
  bool v6_only = false;      // IPV6_V6ONLY for "[::]:port"
};

class TcpListener {
 public:
  TcpListener() = default;
  ~TcpListener();
  TcpListener(TcpListener&& o) noexcept;
  TcpListener& operator=(TcpListener&& o) noexcept;
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  // Binds (SO_REUSEADDR always) and listens. The host_port form takes a
  // numeric address or the first address a name resolves to.
  static TcpListener bind(const Address& addr, const ListenOptions& opts, std::error_code& ec);
  static TcpListener bind(std::string_view host_port, const ListenOptions& opts,
                          std::error_code& ec);
  // Adopts an inherited listening socket (systemd socket activation, a
  // re-exec'd parent): made non-blocking and registered here. Takes
  // ownership on every path: on failure the fd is closed.
  static TcpListener adopt(int fd, std::error_code& ec);

  bool valid() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  Address localAddress() const;

  // Waits for a connection until `deadline`. The accepted socket is
  // non-blocking, close-on-exec, with TCP_NODELAY set.
  TcpConn accept(Deadline deadline, std::error_code& ec);
  TcpConn accept(std::error_code& ec) { return accept(kNoDeadline, ec); }

  void interrupt();
  void close();

 private:
  int fd_ = -1;
  internal::PollDesc* pd_ = nullptr;
};

// Signals as ordinary runtime events: a signalfd (Linux) read through the
// netpoller. The signals must be in Options::notify_signals, so that every
// runtime thread has them blocked from the start; the constructor fails
// with invalid_argument for a signal the calling thread does not block.
// Only process-directed signals are seen (kill(pid), the shell, systemd):
// a thread-directed one (raise(), pthread_kill) stays pending on its
// thread, where a signalfd read from another thread cannot see it.
class SignalReader {
 public:
  explicit SignalReader(const std::vector<int>& signals, std::error_code& ec);
  ~SignalReader();
  SignalReader(const SignalReader&) = delete;
  SignalReader& operator=(const SignalReader&) = delete;

  // The next signal number, or nullopt with ec set (timed out, interrupted).
  // One Task waits at a time.
  std::optional<int> wait(Deadline deadline, std::error_code& ec);
  void interrupt();

 private:
  int fd_ = -1;
  internal::PollDesc* pd_ = nullptr;
};

}  // namespace rt::net

namespace std {
template <>
struct is_error_code_enum<rt::net::errc> : true_type {};
}  // namespace std
