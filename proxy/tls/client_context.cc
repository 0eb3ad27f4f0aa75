#include "proxy/tls/client_context.h"

#include <openssl/x509v3.h>


#include "proxy/tls/server_context.h"  // lastOpenSslError, readableFile

namespace switchyard::tls {

std::shared_ptr<ClientContext> ClientContext::build(const config::UpstreamTlsConfig& tls,
                                                    std::string& error) {
  std::shared_ptr<ClientContext> self(new ClientContext());
  self->verify_ = tls.verify;
  self->server_name_ = tls.server_name;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    error = "cannot create a TLS context: " + lastOpenSslError();
    return nullptr;
  }
  self->ctx_ = ctx;
  SSL_CTX_set_min_proto_version(
      ctx, tls.min_version == config::TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_read_ahead(ctx, 1);
  static constexpr unsigned char kAlpn[] = "\x08http/1.1";
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn - 1);
  if (tls.verify) {
    if (tls.ca.empty()) {
      if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        error = "the system trust store: " + lastOpenSslError();
        return nullptr;
      }
    } else {
      if (!readableFile(tls.ca, "ca", error)) return nullptr;
      if (SSL_CTX_load_verify_locations(ctx, tls.ca.c_str(), nullptr) != 1) {
        error = "ca " + tls.ca + ": no usable CA certificate (" + lastOpenSslError() + ")";
        return nullptr;
      }
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (!tls.cert_path.empty()) {
    if (!readableFile(tls.cert_path, "cert", error) || !readableFile(tls.key_path, "key", error)) {
      return nullptr;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_path.c_str()) != 1) {
      error = "cert " + tls.cert_path + ": " + lastOpenSslError();
      return nullptr;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, tls.key_path.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
      error = "key " + tls.key_path + ": " + lastOpenSslError();
      return nullptr;
    }
  }
  return self;
}

ClientContext::~ClientContext() { SSL_CTX_free(ctx_); }

SSL* ClientContext::newSession(const config::HostPort& endpoint) const {
  SSL* ssl = SSL_new(ctx_);
  if (ssl == nullptr) return nullptr;
  SSL_set_connect_state(ssl);
  const bool is_ip = server_name_.empty() && endpoint.kind != config::HostKind::kName;
  const std::string& name = server_name_.empty() ? endpoint.host : server_name_;
  // SNI carries names only (RFC 6066 forbids IP literals).
  if (!is_ip) SSL_set_tlsext_host_name(ssl, name.c_str());
  if (verify_) {
    bool ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) == 1
                    : SSL_set1_host(ssl, name.c_str()) == 1;
    if (!ok) {
      SSL_free(ssl);
      return nullptr;
    }
  }
  return ssl;
}

}  // namespace switchyard::tls
