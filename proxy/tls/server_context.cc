#include "proxy/tls/server_context.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace switchyard::tls {
namespace {

// One session-id context for every listener: resumption across our own listeners is
// harmless (the same certificate policy), and OpenSSL refuses to resume a session
// with client verification on unless a context is set.
constexpr unsigned char kSessionIdContext[] = "switchyard";

int protocolVersion(config::TlsVersion v) {
  return v == config::TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

SSL_CTX* newContext(const config::TlsConfig& tls, std::string& error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    error = "cannot create a TLS context: " + lastOpenSslError();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, protocolVersion(tls.min_version));
  uint64_t options = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                     SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF;
  if (!tls.session_tickets) options |= SSL_OP_NO_TICKET;
  SSL_CTX_set_options(ctx, options);
  // Buffers go back to OpenSSL's freelist while a connection is idle (an idle TLS
  // connection then holds no 16 KiB record buffers), and a retried write may come from
  // a different address of the same bytes.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Read whole socket buffers, not one record header then its body: half the reads.
  SSL_CTX_set_read_ahead(ctx, 1);
  if (SSL_CTX_set_cipher_list(ctx, tls.ciphers.c_str()) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, tls.ciphersuites.c_str()) != 1) {
    error = "cipher list rejected: " + lastOpenSslError();
    SSL_CTX_free(ctx);
    return nullptr;
  }
  SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext - 1);
  if (tls.session_cache_size > 0) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, static_cast<long>(tls.session_cache_size));
  } else {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  }
  SSL_CTX_set_timeout(
      ctx, static_cast<long>(
               std::chrono::duration_cast<std::chrono::seconds>(tls.session_timeout).count()));
  if (!tls.session_tickets) SSL_CTX_set_num_tickets(ctx, 0);
  if (!tls.client_ca.empty()) {
    if (!readableFile(tls.client_ca, "client_ca", error)) {
      SSL_CTX_free(ctx);
      return nullptr;
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca.c_str());
    if (names == nullptr ||
        SSL_CTX_load_verify_locations(ctx, tls.client_ca.c_str(), nullptr) != 1) {
      if (names != nullptr) sk_X509_NAME_pop_free(names, X509_NAME_free);
      error = "client_ca " + tls.client_ca + ": no usable CA certificate (" +
              lastOpenSslError() + ")";
      SSL_CTX_free(ctx);
      return nullptr;
    }
    SSL_CTX_set_client_CA_list(ctx, names);
    int mode = SSL_VERIFY_PEER;
    if (tls.client_verify == config::ClientVerify::kRequire) {
      mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
    SSL_CTX_set_verify(ctx, mode, nullptr);
  }
  return ctx;
}

bool loadCertificate(SSL_CTX* ctx, const config::TlsCertificate& cert, std::string& error) {
  if (!readableFile(cert.cert_path, "certificate", error)) return false;
  if (!readableFile(cert.key_path, "key", error)) return false;
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.cert_path.c_str()) != 1) {
    error = "certificate " + cert.cert_path + ": " + lastOpenSslError();
    return false;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, cert.key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    error = "key " + cert.key_path + ": " + lastOpenSslError();
    return false;
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    error = "key " + cert.key_path + " does not match certificate " + cert.cert_path;
    ERR_clear_error();
    return false;
  }
  return true;
}

}  // namespace

bool readableFile(const std::string& path, const char* what, std::string& error) {
  if (::access(path.c_str(), R_OK) == 0) return true;
  error = std::string(what) + " " + path + ": " + std::strerror(errno);
  return false;
}

std::string lastOpenSslError() {
  const unsigned long code = ERR_peek_last_error();
  std::string text;
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    // "error:0480006C:PEM routines::no start line": keep what follows the code.
    text = buf;
    const size_t colon = text.find(':', text.find(':') + 1);
    if (text.starts_with("error:") && colon != std::string::npos) text = text.substr(colon + 1);
  } else {
    text = "unknown OpenSSL error";
  }
  ERR_clear_error();
  return text;
}

std::shared_ptr<ServerContext> ServerContext::build(const config::TlsConfig& tls,
                                                    std::shared_ptr<TicketKeys> keys,
                                                    std::string& error) {
  std::shared_ptr<ServerContext> self(new ServerContext());
  if (keys == nullptr) {
    keys = std::make_shared<TicketKeys>(tls.session_ticket_rotation);
  } else {
    keys->setRotation(tls.session_ticket_rotation);
  }
  self->keys_ = std::move(keys);
  for (size_t i = 0; i < tls.certificates.size(); i++) {
    SSL_CTX* ctx = newContext(tls, error);
    if (ctx == nullptr) return nullptr;
    self->contexts_.push_back(ctx);  // freed by the destructor from here on
    if (!loadCertificate(ctx, tls.certificates[i], error)) return nullptr;
    if (tls.session_tickets) self->keys_->install(ctx);
    SSL_CTX_set_alpn_select_cb(ctx, &ServerContext::onAlpn, nullptr);
    for (const std::string& name : tls.certificates[i].server_names) {
      if (name.starts_with("*.")) {
        self->wildcard_suffixes_.emplace_back(name.substr(1), i);
      } else {
        self->exact_names_.emplace_back(name, i);
      }
    }
  }
  if (self->contexts_.empty()) {
    error = "no certificate configured";
    return nullptr;
  }
  // Only the first context sees the ClientHello's server name; it switches the
  // session to the right one.
  SSL_CTX_set_tlsext_servername_callback(self->contexts_[0], &ServerContext::onServerName);
  SSL_CTX_set_tlsext_servername_arg(self->contexts_[0], self.get());
  return self;
}

ServerContext::~ServerContext() {
  for (SSL_CTX* ctx : contexts_) SSL_CTX_free(ctx);
}

SSL* ServerContext::newSession() const {
  SSL* ssl = SSL_new(contexts_[0]);
  if (ssl != nullptr) SSL_set_accept_state(ssl);
  return ssl;
}

size_t ServerContext::certificateFor(std::string_view name) const {
  for (const auto& [exact, index] : exact_names_) {
    if (exact == name) return index;
  }
  // "*.example.com" covers "a.example.com", not "example.com" or "a.b.example.com".
  const size_t dot = name.find('.');
  if (dot != std::string_view::npos && dot > 0) {
    const std::string_view parent = name.substr(dot);
    for (const auto& [suffix, index] : wildcard_suffixes_) {
      if (suffix == parent) return index;
    }
  }
  return 0;
}

int ServerContext::onServerName(SSL* ssl, int* /*alert*/, void* arg) {
  const auto* self = static_cast<const ServerContext*>(arg);
  const char* sent = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (sent == nullptr || self->contexts_.size() == 1) return SSL_TLSEXT_ERR_OK;
  // Host names are at most 253 bytes; longer ones match nothing and get the default.
  char lower[256];
  size_t n = 0;
  for (; sent[n] != '\0' && n < sizeof lower; n++) {
    const char c = sent[n];
    lower[n] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  if (n == sizeof lower) return SSL_TLSEXT_ERR_OK;
  if (n > 0 && lower[n - 1] == '.') n--;
  const size_t index = self->certificateFor(std::string_view(lower, n));
  if (index != 0) SSL_set_SSL_CTX(ssl, self->contexts_[index]);
  return SSL_TLSEXT_ERR_OK;
}

int ServerContext::onAlpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen,
                          const unsigned char* in, unsigned int inlen, void* /*arg*/) {
  // We speak HTTP/1.1 only: choose it if offered; otherwise choose nothing and carry
  // on (a client offering only h2 then falls back or gives up, its call).
  static constexpr unsigned char kHttp11[] = "http/1.1";
  for (unsigned int i = 0; i < inlen;) {
    const unsigned int len = in[i];
    if (i + 1 + len > inlen) break;
    if (len == sizeof kHttp11 - 1 && std::memcmp(in + i + 1, kHttp11, len) == 0) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace switchyard::tls
