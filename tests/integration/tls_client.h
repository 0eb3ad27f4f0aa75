// TlsClient: a blocking OpenSSL client for the TLS integration tests, on the test
// thread (independent of the runtime under test). One connection: handshake with
// the options given, then HTTP/1.1 requests over it.
#pragma once

#include <openssl/ssl.h>

#include <string>

#include "tests/integration/http_wire.h"

namespace switchyard::itest {

struct TlsClientOptions {
  std::string sni;  // empty: no server_name extension
  std::string ca;   // verify the server against this CA; empty: no verification
  int min_version = TLS1_2_VERSION;
  int max_version = 0;  // 0: the newest
  std::string cert, key;          // a client certificate
  SSL_SESSION* resume = nullptr;  // try to resume this session
  bool offer_alpn = true;         // offer "h2,http/1.1"
};

class TlsClient {
 public:
  TlsClient(uint16_t port, const TlsClientOptions& options, Ms io_timeout = patience(10s));
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  bool handshakeOk() const { return handshake_ok_; }
  int fd() const { return fd_; }  // the raw socket, for tests that forge bytes
  const std::string& error() const { return error_; }
  bool resumed() const;
  int version() const;            // TLS1_2_VERSION, TLS1_3_VERSION
  std::string peerCommonName() const;
  bool peerMatches(const std::string& host) const;  // the certificate covers `host`
  std::string alpn() const;

  bool send(std::string_view bytes);
  // Reads one response with a Content-Length or chunked body; status 0 on failure
  // (error() says why).
  Message response();
  Message get(std::string_view target, std::string_view host);
  // One SSL_read: the plaintext of at most one TLS record (the client does not read
  // ahead), for tests about how responses are framed into records.
  std::string readOneRecord();
  // Appends exactly n raw bytes (after a response: a tunnel's bytes) to out.
  bool readExact(size_t n, std::string& out);
  // The session to resume later (call after a response: TLS 1.3 tickets come after
  // the handshake). The caller frees it (SSL_SESSION_free).
  SSL_SESSION* session() const;

 private:
  bool fill();

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool handshake_ok_ = false;
  std::string error_;
  std::string buf_;
};

}  // namespace switchyard::itest
