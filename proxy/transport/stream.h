// Stream: one connection's bytes, over plain TCP or over TLS.
//
// Owns the socket (an rt::net::TcpConn) and, for TLS, the OpenSSL session on top of
// it. The proxy's connection code reads and writes Streams and never learns which
// kind it has; a plain Stream is the TcpConn with one predictable branch per call.
//
// TLS runs OpenSSL over a BIO that calls the TcpConn's non-parking tryRead/tryWrite:
// OpenSSL answers WANT_READ / WANT_WRITE and the Task parks on the netpoller *outside*
// the OpenSSL call (waitReadable/waitWritable, bounded by the TcpConn's deadlines). So
// no thread ever blocks in OpenSSL, and two Tasks may use one session at once (the
// two directions of a tunnel) under a lock that is never held across a park.
//
// Same contract as TcpConn otherwise: one reader and one writer at a time, error
// codes as rt::net's (a TLS protocol failure is std::errc::protocol_error; a peer
// that closes without close_notify is eof), close() by the owner.
#pragma once

#include <openssl/ssl.h>
#include <sys/uio.h>

#include <memory>
#include <system_error>

#include "runtime/net/net.h"
#include "runtime/sync/sync.h"

namespace switchyard::transport {

class Stream {
 public:
  Stream() = default;
  // Plain TCP.
  explicit Stream(rt::net::TcpConn conn) : tcp_(std::move(conn)) {}
  // TLS over `conn`: takes ownership of `ssl` (in accept or connect state, from a
  // tls::ServerContext or ClientContext). Call handshake() before reading.
  Stream(rt::net::TcpConn conn, SSL* ssl);
  ~Stream();
  // Turns a plain Stream into a TLS one over the same socket (an accepted connection
  // learns whether its listener speaks TLS in its own Task, not the accept loop's).
  void startTls(SSL* ssl);
  Stream(Stream&& o) noexcept = default;
  Stream& operator=(Stream&& o) noexcept {
    if (this != &o) {
      close();
      tcp_ = std::move(o.tcp_);
      tls_ = std::move(o.tls_);
    }
    return *this;
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  bool valid() const { return tls_ ? tls_->conn.valid() : tcp_.valid(); }
  bool isTls() const { return tls_ != nullptr; }
  int fd() const { return tcp().fd(); }
  SSL* ssl() const { return tls_ ? tls_->ssl : nullptr; }

  // TLS only (a no-op success for plain): completes the handshake by the current
  // read/write deadlines. Failure: protocol_error (bad or plain-text client, version
  // or certificate refused), timed_out, eof (peer left), or the socket's error.
  std::error_code handshake();
  // After a successful handshake: whether the session was resumed.
  bool resumed() const;

  size_t read(void* buf, size_t n, std::error_code& ec);
  size_t write(const void* buf, size_t n, std::error_code& ec);
  size_t writev(const iovec* iov, int iovcnt, std::error_code& ec);

  void setReadDeadline(rt::net::Deadline d) { tcp().setReadDeadline(d); }
  void setWriteDeadline(rt::net::Deadline d) { tcp().setWriteDeadline(d); }
  void setDeadline(rt::net::Deadline d) { tcp().setDeadline(d); }
  std::error_code setNoDelay(bool on) { return tcp().setNoDelay(on); }

  // Half-close: TLS sends close_notify first (best effort, never waits).
  std::error_code shutdownWrite();

  // As TcpConn's. The hook sees socket bytes only: arm it after a read() that timed
  // out at once (the caller's "nothing pending" probe), which for TLS means OpenSSL
  // has no complete record left either.
  void armOnReadable(void (*fn)(void* arg), void* arg) { tcp().armOnReadable(fn, arg); }
  bool disarmOnReadable() { return tcp().disarmOnReadable(); }

  void interrupt() { tcp().interrupt(); }
  // Closes the socket and frees the TLS session (sending close_notify if it can
  // without waiting).
  void close();

  rt::net::Address peerAddress() const { return tcp().peerAddress(); }
  rt::net::Address localAddress() const { return tcp().localAddress(); }

  // The TLS part, boxed so its address is stable for OpenSSL's BIO when the Stream
  // moves. Public only for the BIO callbacks in stream.cc.
  struct Tls {
    rt::net::TcpConn conn;
    SSL* ssl = nullptr;          // owns the BIO
    bool eof = false;            // the socket read returned end of stream
    std::error_code io_error;    // the socket error behind OpenSSL's last failure
    rt::Mutex mu;                // OpenSSL calls from a tunnel's two Tasks, one at a time
  };

 private:
  rt::net::TcpConn& tcp() { return tls_ ? tls_->conn : tcp_; }
  const rt::net::TcpConn& tcp() const { return tls_ ? tls_->conn : tcp_; }
  enum class Op { kRead, kWrite, kHandshake };
  // Runs one OpenSSL operation to completion, parking on WANT_READ/WANT_WRITE.
  size_t tlsCall(Op op, void* buf, size_t n, std::error_code& ec);

  rt::net::TcpConn tcp_;  // plain streams
  std::unique_ptr<Tls> tls_;
};

}  // namespace switchyard::transport
