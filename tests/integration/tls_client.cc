#include "tests/integration/tls_client.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdlib>

namespace switchyard::itest {
namespace {

std::string opensslError() {
  char buf[256];
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no OpenSSL error";
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

}  // namespace

TlsClient::TlsClient(uint16_t port, const TlsClientOptions& o, Ms io_timeout) {
  fd_ = connectTo(port, io_timeout);
  if (fd_ < 0) {
    error_ = "connect failed";
    return;
  }
  ctx_ = SSL_CTX_new(TLS_client_method());
  // Level 0: let the client offer what old clients offer (TLS 1.0/1.1), so that the
  // refusal under test is the server's.
  SSL_CTX_set_security_level(ctx_, 0);
  SSL_CTX_set_min_proto_version(ctx_, o.min_version);
  if (o.max_version != 0) SSL_CTX_set_max_proto_version(ctx_, o.max_version);
  if (o.max_version != 0 && o.max_version < TLS1_2_VERSION) {
    SSL_CTX_set_cipher_list(ctx_, "DEFAULT:@SECLEVEL=0");
  }
  if (!o.ca.empty()) {
    SSL_CTX_load_verify_locations(ctx_, o.ca.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  }
  if (!o.cert.empty()) {
    SSL_CTX_use_certificate_chain_file(ctx_, o.cert.c_str());
    SSL_CTX_use_PrivateKey_file(ctx_, o.key.c_str(), SSL_FILETYPE_PEM);
  }
  if (o.offer_alpn) {
    static constexpr unsigned char kProtos[] = "\x02h2\x08http/1.1";
    SSL_CTX_set_alpn_protos(ctx_, kProtos, sizeof kProtos - 1);
  }
  // No client cache: freeing the context would flush it, and a flushed session is
  // marked unresumable even though the test still holds it.
  SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  if (!o.sni.empty()) {
    SSL_set_tlsext_host_name(ssl_, o.sni.c_str());
    if (!o.ca.empty()) SSL_set1_host(ssl_, o.sni.c_str());
  }
  if (o.resume != nullptr) SSL_set_session(ssl_, o.resume);
  if (SSL_connect(ssl_) == 1) {
    handshake_ok_ = true;
  } else {
    error_ = "handshake: " + opensslError();
  }
}

TlsClient::~TlsClient() {
  // close_notify first: OpenSSL refuses to resume a session whose connection was
  // dropped without one.
  if (ssl_ != nullptr && handshake_ok_) SSL_shutdown(ssl_);
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
}

bool TlsClient::resumed() const { return ssl_ != nullptr && SSL_session_reused(ssl_) == 1; }
int TlsClient::version() const { return ssl_ != nullptr ? SSL_version(ssl_) : 0; }

std::string TlsClient::peerCommonName() const {
  if (ssl_ == nullptr) return {};
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (cert == nullptr) return {};
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  X509_free(cert);
  return cn;
}

bool TlsClient::peerMatches(const std::string& host) const {
  if (ssl_ == nullptr) return false;
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (cert == nullptr) return false;
  const bool ok = X509_check_host(cert, host.c_str(), host.size(), 0, nullptr) == 1;
  X509_free(cert);
  return ok;
}

std::string TlsClient::alpn() const {
  const unsigned char* p = nullptr;
  unsigned int len = 0;
  if (ssl_ != nullptr) SSL_get0_alpn_selected(ssl_, &p, &len);
  return std::string(reinterpret_cast<const char*>(p), p != nullptr ? len : 0);
}

bool TlsClient::send(std::string_view bytes) {
  size_t written = 0;
  if (!handshake_ok_) return false;
  if (SSL_write_ex(ssl_, bytes.data(), bytes.size(), &written) != 1) {
    error_ = "write: " + opensslError();
    return false;
  }
  return written == bytes.size();
}

bool TlsClient::fill() {
  char chunk[16384];
  size_t got = 0;
  if (SSL_read_ex(ssl_, chunk, sizeof chunk, &got) != 1) {
    error_ = "read: SSL error " + std::to_string(SSL_get_error(ssl_, 0)) + " " + opensslError();
    return false;
  }
  buf_.append(chunk, got);
  return true;
}

Message TlsClient::response() {
  Message m;
  if (!handshake_ok_) return m;
  size_t end;
  for (int i = 0; i < 1000 && (end = buf_.find("\r\n\r\n")) == std::string::npos; i++) {
    if (!fill()) return m;
  }
  if ((end = buf_.find("\r\n\r\n")) == std::string::npos) return m;
  Message parsed;
  if (!parseHead(std::string_view(buf_).substr(0, end + 4), false, parsed)) {
    error_ = "unparsable head";
    return m;
  }
  buf_.erase(0, end + 4);
  const size_t length = static_cast<size_t>(std::atoll(parsed.header("content-length").c_str()));
  for (int i = 0; i < 100000 && buf_.size() < length; i++) {
    if (!fill()) return m;
  }
  parsed.body = buf_.substr(0, length);
  buf_.erase(0, length);
  return parsed;
}

Message TlsClient::get(std::string_view target, std::string_view host) {
  if (!send(makeGet(target, host))) return {};
  return response();
}

std::string TlsClient::readOneRecord() {
  const size_t before = buf_.size();
  if (!fill()) return {};
  std::string record = buf_.substr(before);
  buf_.resize(before);
  return record;
}

bool TlsClient::readExact(size_t n, std::string& out) {
  for (int i = 0; i < 100000 && buf_.size() < n; i++) {
    if (!fill()) return false;
  }
  if (buf_.size() < n) return false;
  out.append(buf_, 0, n);
  buf_.erase(0, n);
  return true;
}

SSL_SESSION* TlsClient::session() const { return ssl_ != nullptr ? SSL_get1_session(ssl_) : nullptr; }

}  // namespace switchyard::itest
