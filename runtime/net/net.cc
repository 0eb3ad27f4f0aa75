// rt::net TCP: sockets whose would-block waits park the Task on the
// netpoller (Go's internal/poll.FD on top of runtime/netpoll.go).
//
// Every socket is non-blocking and close-on-exec from birth (SOCK_NONBLOCK|
// SOCK_CLOEXEC, accept4), and registered with the poller once for its life
// (edge-triggered: no re-arming syscall per operation). An operation tries
// the syscall first and waits only on EAGAIN, so a read that finds data
// costs one syscall and no scheduler work. Each object closes its fd on
// every path, its destructor included; a constructor-like function that
// fails half-way closes what it opened before returning the error.
//
// Reads skip the syscall that would say EAGAIN. Go's read loop is "read;
// on EAGAIN park; read again": a request/response connection pays a
// useless read per message. Here a read that returns fewer bytes than it
// asked for marks the receive queue empty (TCP copies everything queued,
// backlog included, up to the size asked), so the next read parks first
// and reads once an edge arrives: the rule nginx applies to edge-triggered
// epoll. That is safe because epoll (edge-triggered) reports each arrival
// of data after the kernel queued it, and the poll descriptor remembers an
// edge that found no waiter (kReady): data that came after the short read
// either already left kReady behind or will wake the parked reader. Two
// exceptions: a read that fills its buffer proves nothing, and neither does
// a short read once the poller has seen the peer's FIN (EPOLLRDHUP), since
// recv hands over the last data and reports the end only on the next call
// while the FIN's edge may already be spent. Then the next read tries the
// syscall; a stale kReady costs one EAGAIN read, Go's price. Two reads per
// round trip fewer than Go in BM_TcpEcho (docs/PERFORMANCE.md).
//
// An earlier version learned the queue's length from TCP_INQ instead: its
// recvmsg with a control message cost about 2% of a proxied request's CPU
// more than recv (msghdr and iovec copies, put_cmsg), for the same answer.
// (One case differs: a read stops short at TCP urgent data, which HTTP
// never sends; such a sender stalls only its own connection, until its
// timeout.)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "runtime/net/fd_wait.h"
#include "runtime/net/net.h"

namespace rt::net {
namespace {

using internal::IoMode;
using internal::PollDesc;

class NetCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "rt.net"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::eof: return "end of file";
      case errc::host_not_found: return "host not found";
      case errc::resolver_failed: return "name resolution failed";
    }
    return "unknown rt.net error";
  }
};

std::error_code canceled() { return std::make_error_code(std::errc::operation_canceled); }
std::error_code badFd() { return std::make_error_code(std::errc::bad_file_descriptor); }
// Why no operation may start on a socket: closed, or interrupt()ed (which is final,
// as Go's prepareRead). Empty when it may.
std::error_code unusable(int fd, const PollDesc* pd) {
  if (fd < 0) return badFd();
  if (detail::interrupted(pd)) return canceled();
  return {};
}
std::error_code lastErrno() { return detail::errnoCode(errno); }

std::error_code setNonBlocking(int fd) {
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0) return lastErrno();
  if ((fl & O_NONBLOCK) == 0 && ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return lastErrno();
  return {};
}

std::error_code setIntOption(int fd, int level, int name, int value) {
  if (::setsockopt(fd, level, name, &value, sizeof value) < 0) return lastErrno();
  return {};
}

// The data-path syscalls without libc's cancellation-point wrappers: glibc
// brackets recvmsg/sendto/sendmsg with pthread_enable/disable_asynccancel
// once a process has threads (about 3% of BM_TcpEcho's CPU), and nothing
// here uses pthread_cancel. Sanitizer builds keep the libc calls, whose
// interceptors check and annotate the buffers.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
ssize_t sysRecv(int fd, void* b, size_t n) { return ::recv(fd, b, n, 0); }
ssize_t sysSend(int fd, const void* b, size_t n) { return ::send(fd, b, n, MSG_NOSIGNAL); }
ssize_t sysSendmsg(int fd, const msghdr* m) { return ::sendmsg(fd, m, MSG_NOSIGNAL); }
#else
ssize_t sysRecv(int fd, void* b, size_t n) {
  return ::syscall(SYS_recvfrom, fd, b, n, 0, nullptr, nullptr);
}
ssize_t sysSend(int fd, const void* b, size_t n) {
  return ::syscall(SYS_sendto, fd, b, n, MSG_NOSIGNAL, nullptr, 0);
}
ssize_t sysSendmsg(int fd, const msghdr* m) { return ::syscall(SYS_sendmsg, fd, m, MSG_NOSIGNAL); }
#endif

// Options every connection gets (accepted or dialled): no Nagle delay.
// A failure only costs speed.
void setConnOptions(int fd) { (void)setIntOption(fd, IPPROTO_TCP, TCP_NODELAY, 1); }

// Whether a read of `got` bytes out of `asked` emptied the receive queue: a
// short read did, unless the peer's FIN (or an error) waits behind the data
// (see the top of this file).
bool shortReadDrained(size_t got, size_t asked, const internal::PollDesc* pd) {
  return got < asked && !internal::pollReadHangup(pd);
}

// Splits "host:port" or "[host]:port". The host of the unbracketed form
// may not contain ':' (a bare IPv6 address is ambiguous).
bool splitHostPort(std::string_view hp, std::string_view& host, std::string_view& port,
                   bool& bracketed) {
  bracketed = !hp.empty() && hp.front() == '[';
  if (bracketed) {
    const size_t close = hp.find(']');
    if (close == std::string_view::npos || close + 1 >= hp.size() || hp[close + 1] != ':') {
      return false;
    }
    host = hp.substr(1, close - 1);
    port = hp.substr(close + 2);
  } else {
    const size_t colon = hp.rfind(':');
    if (colon == std::string_view::npos) return false;
    host = hp.substr(0, colon);
    port = hp.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return false;
  }
  return !port.empty();
}

std::optional<uint16_t> parsePort(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) return std::nullopt;
  return static_cast<uint16_t>(v);
}

Address addressOf(int fd, bool peer) {
  Address a;
  a.len = sizeof a.storage;
  auto* sa = reinterpret_cast<sockaddr*>(&a.storage);
  const int r = peer ? ::getpeername(fd, sa, &a.len) : ::getsockname(fd, sa, &a.len);
  if (r < 0) a = Address{};
  return a;
}

// Closes on scope exit unless released: the "no fd leaks" rule for the
// functions below that open a socket and then may fail.
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
  int release() { return std::exchange(fd, -1); }
};

}  // namespace

const std::error_category& category() {
  static const NetCategory c;
  return c;
}

// ---- Address ----

uint16_t Address::port() const {
  if (family() == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  }
  if (family() == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  }
  return 0;
}

std::string Address::toString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&storage);
    ::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(port());
  }
  if (family() == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    ::inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
    return "[" + std::string(buf) + "]:" + std::to_string(port());
  }
  return "";
}

std::optional<Address> Address::parse(std::string_view host_port) {
  std::string_view host, port_text;
  bool bracketed = false;
  if (!splitHostPort(host_port, host, port_text, bracketed)) return std::nullopt;
  const std::optional<uint16_t> port = parsePort(port_text);
  if (!port) return std::nullopt;
  char text[INET6_ADDRSTRLEN];
  if (host.empty() || host.size() >= sizeof text) return std::nullopt;
  std::memcpy(text, host.data(), host.size());
  text[host.size()] = '\0';
  Address a;
  if (!bracketed) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&a.storage);
    if (::inet_pton(AF_INET, text, &sin->sin_addr) != 1) return std::nullopt;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(*port);
    a.len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    if (::inet_pton(AF_INET6, text, &sin6->sin6_addr) != 1) return std::nullopt;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(*port);
    a.len = sizeof(sockaddr_in6);
  }
  return a;
}

std::error_code resolve(std::string_view host_port, std::vector<Address>& out) {
  if (std::optional<Address> a = Address::parse(host_port)) {
    out.push_back(*a);
    return {};
  }
  std::string_view host_v, port_v;
  bool bracketed = false;
  if (!splitHostPort(host_port, host_v, port_v, bracketed) || host_v.empty()) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  const std::string host(host_v), port(port_v);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  addrinfo* res = nullptr;
  // getaddrinfo may read files and talk to a DNS server for seconds: in a
  // Task it runs as a blocking call, so sysmon hands the P to another M.
  auto lookup = [&] { return ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); };
  const int rc = rt::inTask() ? rt::blocking(lookup) : lookup();
  if (rc != 0) {
    switch (rc) {
      case EAI_NONAME:
#ifdef EAI_NODATA
      case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
      case EAI_ADDRFAMILY:
#endif
        return make_error_code(errc::host_not_found);
      case EAI_SERVICE:
        return std::make_error_code(std::errc::invalid_argument);
      case EAI_SYSTEM:
        return lastErrno();
      default:
        return make_error_code(errc::resolver_failed);
    }
  }
  const size_t first = out.size();
  for (const addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    Address a;
    std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
    a.len = ai->ai_addrlen;
    const bool dup = std::any_of(out.begin() + static_cast<ptrdiff_t>(first), out.end(),
                                 [&](const Address& b) {
                                   return b.len == a.len && std::memcmp(&b.storage, &a.storage,
                                                                        a.len) == 0;
                                 });
    if (!dup) out.push_back(a);
  }
  ::freeaddrinfo(res);
  if (out.size() == first) return make_error_code(errc::host_not_found);
  return {};
}

// ---- TcpConn ----

TcpConn::~TcpConn() { close(); }

TcpConn::TcpConn(TcpConn&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      pd_(std::exchange(o.pd_, nullptr)),
      read_deadline_(o.read_deadline_),
      write_deadline_(o.write_deadline_),
      read_drained_(o.read_drained_) {}

TcpConn& TcpConn::operator=(TcpConn&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = std::exchange(o.fd_, -1);
    pd_ = std::exchange(o.pd_, nullptr);
    read_deadline_ = o.read_deadline_;
    write_deadline_ = o.write_deadline_;
    read_drained_ = o.read_drained_;
  }
  return *this;
}

TcpConn TcpConn::adopt(int fd, std::error_code& ec) {
  ec.clear();
  if (fd < 0) {
    ec = badFd();
    return {};
  }
  FdGuard guard{fd};
  if ((ec = setNonBlocking(fd))) return {};
  PollDesc* pd = internal::pollOpen(fd, ec);
  if (pd == nullptr) return {};
  return TcpConn(guard.release(), pd);
}

size_t TcpConn::read(void* buf, size_t n, std::error_code& ec) {
  if ((ec = unusable(fd_, pd_))) return 0;
  if (n == 0) return 0;
  for (;;) {
    // Queue empty at the last look: wait for an edge before reading (see
    // the top of this file).
    if (read_drained_ && (ec = detail::waitFd(pd_, IoMode::kRead, read_deadline_))) return 0;
    const ssize_t r = sysRecv(fd_, buf, n);
    if (r > 0) {
      read_drained_ = shortReadDrained(static_cast<size_t>(r), n, pd_);
      return static_cast<size_t>(r);
    }
    if (r == 0) {
      read_drained_ = false;
      ec = make_error_code(errc::eof);
      return 0;
    }
    const int e = errno;
    // EINTR: the edge (if we waited for one) is consumed, so read again
    // without waiting.
    read_drained_ = e == EAGAIN || e == EWOULDBLOCK;
    if (e == EINTR || read_drained_) continue;
    ec = detail::errnoCode(e);
    return 0;
  }
}

size_t TcpConn::tryRead(void* buf, size_t n, std::error_code& ec) {
  if ((ec = unusable(fd_, pd_))) return 0;
  if (n == 0) return 0;
  if (read_drained_) {
    ec = std::make_error_code(std::errc::resource_unavailable_try_again);
    return 0;
  }
  for (;;) {
    const ssize_t r = sysRecv(fd_, buf, n);
    if (r > 0) {
      read_drained_ = shortReadDrained(static_cast<size_t>(r), n, pd_);
      return static_cast<size_t>(r);
    }
    if (r == 0) {
      ec = make_error_code(errc::eof);
      return 0;
    }
    const int e = errno;
    if (e == EINTR) continue;
    if (e == EAGAIN || e == EWOULDBLOCK) {
      read_drained_ = true;
      ec = std::make_error_code(std::errc::resource_unavailable_try_again);
      return 0;
    }
    ec = detail::errnoCode(e);
    return 0;
  }
}

size_t TcpConn::tryWrite(const void* buf, size_t n, std::error_code& ec) {
  if ((ec = unusable(fd_, pd_))) return 0;
  for (;;) {
    const ssize_t r = sysSend(fd_, buf, n);
    if (r >= 0) return static_cast<size_t>(r);
    const int e = errno;
    if (e == EINTR) continue;
    ec = e == EAGAIN || e == EWOULDBLOCK
             ? std::make_error_code(std::errc::resource_unavailable_try_again)
             : detail::errnoCode(e);
    return 0;
  }
}

std::error_code TcpConn::waitReadable() {
  if (std::error_code ec = unusable(fd_, pd_)) return ec;
  if (std::error_code ec = detail::waitFd(pd_, IoMode::kRead, read_deadline_)) return ec;
  read_drained_ = false;  // an edge came: the next tryRead pays the syscall
  return {};
}

std::error_code TcpConn::waitWritable() {
  if (std::error_code ec = unusable(fd_, pd_)) return ec;
  return detail::waitFd(pd_, IoMode::kWrite, write_deadline_);
}

size_t TcpConn::write(const void* buf, size_t n, std::error_code& ec) {
  if ((ec = unusable(fd_, pd_))) return 0;
  const char* p = static_cast<const char*>(buf);
  size_t done = 0;
  while (done < n) {
    // MSG_NOSIGNAL: a peer that went away is EPIPE here, not SIGPIPE.
    const ssize_t r = sysSend(fd_, p + done, n - done);
    if (r >= 0) {
      done += static_cast<size_t>(r);
      continue;
    }
    const int e = errno;
    if (e == EINTR) continue;
    if (e != EAGAIN && e != EWOULDBLOCK) {
      ec = detail::errnoCode(e);
      return done;
    }
    if ((ec = detail::waitFd(pd_, IoMode::kWrite, write_deadline_))) return done;
  }
  return done;
}

size_t TcpConn::writev(const iovec* iov, int iovcnt, std::error_code& ec) {
  // The caller's array is const: each sendmsg takes a copy of the next (at
  // most kBatch) entries, the first trimmed by what was already sent. On
  // the stack, so a gathering write allocates nothing whatever iovcnt is;
  // more entries than kBatch just take more than one sendmsg.
  constexpr int kBatch = 64;
  if ((ec = unusable(fd_, pd_))) return 0;
  size_t done = 0;
  int i = 0;       // first entry not fully sent
  size_t off = 0;  // bytes of iov[i] already sent
  for (;;) {
    while (i < iovcnt && off >= iov[i].iov_len) {
      off = 0;
      i++;
    }
    if (i >= iovcnt) return done;
    iovec local[kBatch];
    int cnt = 0;
    for (int j = i; j < iovcnt && cnt < kBatch; j++, cnt++) {
      const size_t skip = j == i ? off : 0;
      local[cnt].iov_base = static_cast<char*>(iov[j].iov_base) + skip;
      local[cnt].iov_len = iov[j].iov_len - skip;
    }
    msghdr msg{};
    msg.msg_iov = local;
    msg.msg_iovlen = static_cast<size_t>(cnt);
    const ssize_t r = sysSendmsg(fd_, &msg);
    if (r >= 0) {
      done += static_cast<size_t>(r);
      size_t left = static_cast<size_t>(r);
      while (left > 0) {
        const size_t avail = iov[i].iov_len - off;
        if (left < avail) {
          off += left;
          left = 0;
        } else {
          left -= avail;
          off = 0;
          i++;
        }
      }
      continue;
    }
    const int e = errno;
    if (e == EINTR) continue;
    if (e != EAGAIN && e != EWOULDBLOCK) {
      ec = detail::errnoCode(e);
      return done;
    }
    if ((ec = detail::waitFd(pd_, IoMode::kWrite, write_deadline_))) return done;
  }
}

std::error_code TcpConn::setNoDelay(bool on) {
  if (fd_ < 0) return badFd();
  return setIntOption(fd_, IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0);
}

std::error_code TcpConn::setKeepAlive(bool on, std::chrono::seconds idle) {
  if (fd_ < 0) return badFd();
  if (std::error_code ec = setIntOption(fd_, SOL_SOCKET, SO_KEEPALIVE, on ? 1 : 0)) return ec;
  if (!on) return {};
  // As Go's setKeepAlivePeriod: the idle time and the probe interval alike.
  const int secs = static_cast<int>(std::clamp<int64_t>(idle.count(), 1, 32767));
  if (std::error_code ec = setIntOption(fd_, IPPROTO_TCP, TCP_KEEPIDLE, secs)) return ec;
  return setIntOption(fd_, IPPROTO_TCP, TCP_KEEPINTVL, secs);
}

std::error_code TcpConn::shutdownWrite() {
  if (fd_ < 0) return badFd();
  if (::shutdown(fd_, SHUT_WR) < 0) return lastErrno();
  return {};
}

std::error_code TcpConn::shutdownRead() {
  if (fd_ < 0) return badFd();
  read_drained_ = false;  // reads now end at once (eof)
  if (::shutdown(fd_, SHUT_RD) < 0) return lastErrno();
  return {};
}

void TcpConn::armOnReadable(void (*fn)(void* arg), void* arg) {
  if (pd_ == nullptr) return;
  // The hook consumes the edge it starts on: its Task must read first.
  read_drained_ = false;
  internal::pollArmOnReadable(pd_, fn, arg);
}

bool TcpConn::disarmOnReadable() {
  return pd_ != nullptr && internal::pollDisarmOnReadable(pd_);
}

void TcpConn::interrupt() {
  if (pd_ != nullptr) internal::pollEvict(pd_);
}

void TcpConn::close() {
  if (fd_ < 0) return;
  // Deregister before closing: the fd number may be reused at once by
  // another thread's socket(), which must not inherit this registration.
  if (pd_ != nullptr) internal::pollClose(pd_);
  // Not retried on EINTR: on Linux the fd is released whatever close returns.
  ::close(fd_);
  fd_ = -1;
  pd_ = nullptr;
  read_drained_ = false;
}

Address TcpConn::localAddress() const { return fd_ < 0 ? Address{} : addressOf(fd_, false); }
Address TcpConn::peerAddress() const { return fd_ < 0 ? Address{} : addressOf(fd_, true); }

// ---- connect ----

TcpConn connect(const Address& addr, Deadline deadline, std::error_code& ec) {
  ec.clear();
  if (addr.len == 0 || (addr.family() != AF_INET && addr.family() != AF_INET6)) {
    ec = std::make_error_code(std::errc::address_family_not_supported);
    return {};
  }
  const int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) {
    ec = lastErrno();
    return {};
  }
  FdGuard guard{fd};
  PollDesc* pd = internal::pollOpen(fd, ec);
  if (pd == nullptr) return {};
  TcpConn conn(guard.release(), pd);  // closes on every return below but the last
  setConnOptions(fd);

  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr.storage), addr.len) == 0) {
    return conn;
  }
  const int e = errno;
  // EINTR: the handshake goes on in the kernel; wait for it as for
  // EINPROGRESS (connect must not be called again).
  if (e != EINPROGRESS && e != EALREADY && e != EINTR) {
    ec = detail::errnoCode(e);
    return {};
  }
  for (;;) {
    if ((ec = detail::waitFd(pd, IoMode::kWrite, deadline))) return {};
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
      ec = lastErrno();
      return {};
    }
    if (err == EINPROGRESS || err == EALREADY || err == EINTR) continue;
    if (err != 0) {
      ec = detail::errnoCode(err);
      return {};
    }
    // SO_ERROR 0 is also what a socket that has not finished says, and the
    // registration itself reports an edge (a fresh socket is "writable"):
    // connected only if it has a peer, as Go's connect loop checks.
    sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen) == 0) return conn;
  }
}

TcpConn connect(std::string_view host_port, Deadline deadline, std::error_code& ec) {
  std::vector<Address> addrs;
  if ((ec = resolve(host_port, addrs))) return {};
  for (const Address& a : addrs) {
    TcpConn c = connect(a, deadline, ec);
    if (!ec) return c;
    if (ec == std::errc::timed_out || ec == std::errc::operation_not_permitted) break;
  }
  return {};
}

// ---- TcpListener ----

TcpListener::~TcpListener() { close(); }

TcpListener::TcpListener(TcpListener&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), pd_(std::exchange(o.pd_, nullptr)) {}

TcpListener& TcpListener::operator=(TcpListener&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = std::exchange(o.fd_, -1);
    pd_ = std::exchange(o.pd_, nullptr);
  }
  return *this;
}

TcpListener TcpListener::bind(const Address& addr, const ListenOptions& opts,
                              std::error_code& ec) {
  ec.clear();
  if (addr.len == 0 || (addr.family() != AF_INET && addr.family() != AF_INET6)) {
    ec = std::make_error_code(std::errc::address_family_not_supported);
    return {};
  }
  const int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) {
    ec = lastErrno();
    return {};
  }
  FdGuard guard{fd};
  if ((ec = setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1))) return {};
  if (opts.reuse_port && (ec = setIntOption(fd, SOL_SOCKET, SO_REUSEPORT, 1))) return {};
  if (addr.family() == AF_INET6 &&
      (ec = setIntOption(fd, IPPROTO_IPV6, IPV6_V6ONLY, opts.v6_only ? 1 : 0))) {
    return {};
  }
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr.storage), addr.len) < 0 ||
      ::listen(fd, opts.backlog) < 0) {
    ec = lastErrno();
    return {};
  }
  TcpListener ln;
  ln.pd_ = internal::pollOpen(fd, ec);
  if (ln.pd_ == nullptr) return {};
  ln.fd_ = guard.release();
  return ln;
}

TcpListener TcpListener::bind(std::string_view host_port, const ListenOptions& opts,
                              std::error_code& ec) {
  std::vector<Address> addrs;
  if ((ec = resolve(host_port, addrs))) return {};
  return bind(addrs.front(), opts, ec);
}

TcpListener TcpListener::adopt(int fd, std::error_code& ec) {
  ec.clear();
  if (fd < 0) {
    ec = badFd();
    return {};
  }
  FdGuard guard{fd};
  int listening = 0;
  socklen_t len = sizeof listening;
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0) {
    ec = lastErrno();
    return {};
  }
  if (listening == 0) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return {};
  }
  if ((ec = setNonBlocking(fd))) return {};
  TcpListener ln;
  ln.pd_ = internal::pollOpen(fd, ec);
  if (ln.pd_ == nullptr) return {};
  ln.fd_ = guard.release();
  return ln;
}

Address TcpListener::localAddress() const {
  return fd_ < 0 ? Address{} : addressOf(fd_, false);
}

TcpConn TcpListener::accept(Deadline deadline, std::error_code& ec) {
  ec.clear();
  if (fd_ < 0) {
    ec = badFd();
    return {};
  }
  if (detail::interrupted(pd_)) {
    ec = canceled();
    return {};
  }
  for (;;) {
    const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      FdGuard guard{fd};
      setConnOptions(fd);
      PollDesc* pd = internal::pollOpen(fd, ec);
      if (pd == nullptr) return {};
      return TcpConn(guard.release(), pd);
    }
    const int e = errno;
    // A connection reset while it sat in the queue: take the next (as Go).
    if (e == EINTR || e == ECONNABORTED) continue;
    if (e != EAGAIN && e != EWOULDBLOCK) {
      ec = detail::errnoCode(e);
      return {};
    }
    if ((ec = detail::waitFd(pd_, IoMode::kRead, deadline))) return {};
  }
}

void TcpListener::interrupt() {
  if (pd_ != nullptr) internal::pollEvict(pd_);
}

void TcpListener::close() {
  if (fd_ < 0) return;
  if (pd_ != nullptr) internal::pollClose(pd_);
  ::close(fd_);
  fd_ = -1;
  pd_ = nullptr;
}

}  // namespace rt::net
