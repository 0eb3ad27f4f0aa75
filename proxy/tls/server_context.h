// ServerContext: the TLS side of one listener, for one config snapshot.
//
// Owns one SSL_CTX per configured certificate (all with the listener's policy:
// versions, ciphers, ALPN, session cache, client-certificate verification), the SNI
// table that picks among them, and a reference to the listener's TicketKeys (which
// outlive snapshots so that tickets survive reloads). Built once per (re)load and
// shared by every worker: sessions are created from it concurrently, which OpenSSL
// allows, and algorithms are fetched once at build time rather than per handshake.
//
// Certificate and key files are read here, at start and on every reload; build()
// fails with a message naming the file and the reason, and the caller keeps the
// previous context (a broken renewal must not take a listener down).
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "proxy/tls/ticket_keys.h"

namespace switchyard::tls {

class ServerContext {
 public:
  // `keys`: the listener's ticket keys from the previous snapshot, or null to start
  // fresh. On failure returns null and sets `error`.
  static std::shared_ptr<ServerContext> build(const config::TlsConfig& tls,
                                              std::shared_ptr<TicketKeys> keys,
                                              std::string& error);
  ~ServerContext();
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  // A new server-side session (accept state); null only if OpenSSL is out of memory.
  SSL* newSession() const;

  const std::shared_ptr<TicketKeys>& ticketKeys() const { return keys_; }

  // SNI: the certificate for a server name (lower case, no trailing dot): an exact
  // name first, then "*.parent" for a name with exactly one more label; otherwise
  // the first certificate (the default).
  size_t certificateFor(std::string_view server_name) const;

 private:
  ServerContext() = default;
  static int onServerName(SSL* ssl, int* alert, void* arg);
  static int onAlpn(SSL* ssl, const unsigned char** out, unsigned char* outlen,
                    const unsigned char* in, unsigned int inlen, void* arg);

  std::vector<SSL_CTX*> contexts_;  // one per certificate, Config order
  // (pattern, certificate index); "*.x" patterns are stored as ".x".
  std::vector<std::pair<std::string, size_t>> exact_names_;
  std::vector<std::pair<std::string, size_t>> wildcard_suffixes_;
  std::shared_ptr<TicketKeys> keys_;
};

// The last OpenSSL error as text ("PEM routines::no start line"), and the queue cleared.
std::string lastOpenSslError();

// Whether `path` can be read; if not, sets `error` to "<what> <path>: <strerror>" (a
// missing file reads better that way than as OpenSSL's "system library" error).
bool readableFile(const std::string& path, const char* what, std::string& error);

}  // namespace switchyard::tls
