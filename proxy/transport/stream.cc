#include "proxy/transport/stream.h"

#include <openssl/bio.h>
#include <openssl/err.h>

namespace switchyard::transport {
namespace {

using Tls = Stream::Tls;

const std::error_code kWouldBlock = std::make_error_code(std::errc::resource_unavailable_try_again);

int bioRead(BIO* bio, char* buf, size_t n, size_t* got) {
  auto* t = static_cast<Tls*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  std::error_code ec;
  const size_t r = t->conn.tryRead(buf, n, ec);
  if (!ec) {
    *got = r;
    return 1;
  }
  if (ec == kWouldBlock) {
    BIO_set_retry_read(bio);
  } else if (ec == rt::net::errc::eof) {
    t->eof = true;
  } else {
    t->io_error = ec;
  }
  return 0;
}

int bioWrite(BIO* bio, const char* buf, size_t n, size_t* sent) {
  auto* t = static_cast<Tls*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  std::error_code ec;
  const size_t w = t->conn.tryWrite(buf, n, ec);
  if (!ec) {
    *sent = w;
    return 1;
  }
  if (ec == kWouldBlock) {
    BIO_set_retry_write(bio);
  } else {
    t->io_error = ec;
  }
  return 0;
}

long bioCtrl(BIO* bio, int cmd, long /*num*/, void* /*ptr*/) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;  // nothing is buffered here: every write goes to the socket
    case BIO_CTRL_EOF:
      // With SSL_OP_IGNORE_UNEXPECTED_EOF, OpenSSL asks this to tell a peer's plain
      // close (treated as the end of the stream) from a failed read.
      return static_cast<Tls*>(BIO_get_data(bio))->eof ? 1 : 0;
    default:
      return 0;
  }
}

int bioCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

BIO_METHOD* bioMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "switchyard tcp");
    BIO_meth_set_read_ex(m, bioRead);
    BIO_meth_set_write_ex(m, bioWrite);
    BIO_meth_set_ctrl(m, bioCtrl);
    BIO_meth_set_create(m, bioCreate);
    return m;
  }();
  return method;
}

}  // namespace

Stream::Stream(rt::net::TcpConn conn, SSL* ssl) : tcp_(std::move(conn)) { startTls(ssl); }

void Stream::startTls(SSL* ssl) {
  tls_ = std::make_unique<Tls>();
  tls_->conn = std::move(tcp_);
  tls_->ssl = ssl;
  BIO* bio = BIO_new(bioMethod());
  if (bio == nullptr) {
    // Out of memory: a Stream whose every TLS call fails.
    SSL_free(ssl);
    tls_->ssl = nullptr;
    return;
  }
  BIO_set_data(bio, tls_.get());
  SSL_set_bio(ssl, bio, bio);  // one BIO both ways; the SSL owns it
}

Stream::~Stream() { close(); }

std::error_code Stream::handshake() {
  if (!tls_) return {};
  std::error_code ec;
  tlsCall(Op::kHandshake, nullptr, 0, ec);
  return ec;
}

bool Stream::resumed() const { return tls_ && tls_->ssl && SSL_session_reused(tls_->ssl) == 1; }

size_t Stream::read(void* buf, size_t n, std::error_code& ec) {
  if (!tls_) return tcp_.read(buf, n, ec);
  ec.clear();
  if (n == 0) return 0;
  return tlsCall(Op::kRead, buf, n, ec);
}

size_t Stream::write(const void* buf, size_t n, std::error_code& ec) {
  if (!tls_) return tcp_.write(buf, n, ec);
  ec.clear();
  if (n == 0) return 0;
  return tlsCall(Op::kWrite, const_cast<void*>(buf), n, ec);
}

size_t Stream::writev(const iovec* iov, int iovcnt, std::error_code& ec) {
  if (!tls_) return tcp_.writev(iov, iovcnt, ec);
  // One record per piece: TLS has no gathering write. A caller that wants one record
  // for several pieces copies them into one buffer itself (Exchange::writeClient does,
  // for a response head and a small body).
  size_t done = 0;
  ec.clear();
  for (int i = 0; i < iovcnt && !ec; i++) done += write(iov[i].iov_base, iov[i].iov_len, ec);
  return done;
}

size_t Stream::tlsCall(Op op, void* buf, size_t n, std::error_code& ec) {
  Tls& t = *tls_;
  if (t.ssl == nullptr) {
    ec = std::make_error_code(std::errc::not_enough_memory);
    return 0;
  }
  // Each round is one OpenSSL call that cannot park; between rounds the Task parks
  // on the socket. Bounded by the deadlines: every wait either times out or sees an
  // edge, and an edge means the socket has something for OpenSSL.
  for (;;) {
    int status = 0;
    size_t done = 0;
    int error = SSL_ERROR_NONE;
    std::error_code io_error;
    bool eof = false;
    {
      std::lock_guard<rt::Mutex> lock(t.mu);
      t.io_error.clear();
      switch (op) {
        case Op::kRead: status = SSL_read_ex(t.ssl, buf, n, &done); break;
        case Op::kWrite: status = SSL_write_ex(t.ssl, buf, n, &done); break;
        case Op::kHandshake: status = SSL_do_handshake(t.ssl); break;
      }
      if (status != 1) {
        error = SSL_get_error(t.ssl, status);
        // The queue would otherwise carry this failure into an unrelated later call
        // on the same thread.
        if (error == SSL_ERROR_SSL || error == SSL_ERROR_SYSCALL) ERR_clear_error();
      }
      io_error = t.io_error;
      eof = t.eof;
    }
    switch (error) {
      case SSL_ERROR_NONE:
        return done;
      case SSL_ERROR_WANT_READ:
        if ((ec = t.conn.waitReadable())) return 0;
        continue;
      case SSL_ERROR_WANT_WRITE:
        if ((ec = t.conn.waitWritable())) return 0;
        continue;
      case SSL_ERROR_ZERO_RETURN:
        ec = rt::net::errc::eof;
        return 0;
      default:
        if (io_error) {
          ec = io_error;
        } else if (eof) {
          ec = rt::net::errc::eof;  // the peer left mid-record or mid-handshake
        } else {
          ec = std::make_error_code(std::errc::protocol_error);
        }
        return 0;
    }
  }
}

std::error_code Stream::shutdownWrite() {
  if (tls_ && tls_->ssl != nullptr) {
    std::lock_guard<rt::Mutex> lock(tls_->mu);
    SSL_shutdown(tls_->ssl);  // queues and tries to send close_notify; never waits
    ERR_clear_error();
  }
  return tcp().shutdownWrite();
}

void Stream::close() {
  if (!tls_) {
    tcp_.close();
    return;
  }
  if (tls_->ssl != nullptr) {
    // close_notify if the handshake finished and the socket takes it now; a peer that
    // misses it sees a plain close, which HTTP framing makes unambiguous.
    if (SSL_is_init_finished(tls_->ssl) && !tls_->io_error) SSL_shutdown(tls_->ssl);
    ERR_clear_error();
    SSL_free(tls_->ssl);
    tls_->ssl = nullptr;
  }
  tls_->conn.close();
}

}  // namespace switchyard::transport
