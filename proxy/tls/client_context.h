// ClientContext: TLS towards one cluster's endpoints, for one config snapshot.
//
// Owns one SSL_CTX with the cluster's trust store (its CA file or the system's),
// verification, minimum version, ALPN "http/1.1" and optional client certificate.
// Shared by every worker; newSession() sets per-endpoint SNI and the name (or IP
// address) the certificate must carry. Upstream TLS connections are pooled like plain
// ones, so handshakes are rare and not resumed.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "config/config.h"

namespace switchyard::tls {

class ClientContext {
 public:
  // Reads the CA and client-certificate files; on failure null and `error`.
  static std::shared_ptr<ClientContext> build(const config::UpstreamTlsConfig& tls,
                                              std::string& error);
  ~ClientContext();
  ClientContext(const ClientContext&) = delete;
  ClientContext& operator=(const ClientContext&) = delete;

  // A new client-side session (connect state) for `endpoint`; null if out of memory.
  SSL* newSession(const config::HostPort& endpoint) const;

 private:
  ClientContext() = default;
  SSL_CTX* ctx_ = nullptr;
  bool verify_ = true;
  std::string server_name_;  // configured override, or empty
};

}  // namespace switchyard::tls
