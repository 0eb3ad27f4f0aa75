// PROXY protocol on a TLS listener: the header comes in clear before the TLS handshake,
// and the proxy must read exactly the header and leave the ClientHello in the socket
// (v1 and v2 headers, each immediately followed by the handshake in the same segment
// stream). The address then reaches X-Forwarded-For as on a plain listener.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "tests/integration/origin.h"
#include "tests/integration/proxy_harness.h"
#include "tests/tls/test_pki.h"

namespace switchyard::itest {
namespace {

using switchyard::testing::TestPki;

// Connects, sends `preamble` in clear, then speaks TLS and sends one GET; returns the
// response bytes (empty on failure).
std::string getOverTlsAfter(uint16_t port, const std::string& preamble) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = SSL_new(ctx);
    // The ClientHello is produced into memory first and sent in the same send() as the
    // preamble, so that the proxy's first read sees both: a reader that takes more than
    // the header would swallow the start of the handshake.
    BIO* mem_in = BIO_new(BIO_s_mem());
    BIO* mem_out = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl, mem_in, mem_out);
    SSL_connect(ssl);  // wants to read: the ClientHello is in mem_out
    char* hello = nullptr;
    const long hello_len = BIO_get_mem_data(mem_out, &hello);
    const std::string first = preamble + std::string(hello, static_cast<size_t>(hello_len));
    const bool sent = ::send(fd, first.data(), first.size(), MSG_NOSIGNAL) ==
                      static_cast<ssize_t>(first.size());
    BIO* sock = BIO_new_socket(fd, BIO_NOCLOSE);
    SSL_set_bio(ssl, sock, sock);  // frees the memory BIOs; the handshake goes on
    if (sent && SSL_connect(ssl) == 1) {
      const std::string get = "GET /tls HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n";
      SSL_write(ssl, get.data(), static_cast<int>(get.size()));
      char buf[4096];
      for (int i = 0; i < 100; i++) {
        const int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
      }
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
  }
  ::close(fd);
  return out;
}

TEST(ProxyProtocolTlsTest, HeaderBeforeTheHandshakeIsReadExactly) {
  TestPki ca(switchyard::testing::testDir("pp_tls"));
  const TestPki::Files cert = ca.issue("server", {"example.com"});
  Origin origin{echoHandler()};
  ProxyHarness proxy(fill(R"toml(
[log]
access = "off"

[[listener]]
name = "tls"
address = "127.0.0.1:0"
proxy_protocol = true

[listener.tls]
certificates = [{ cert = "{CERT}", key = "{KEY}" }]

[[route]]
cluster = "origin"

[[cluster]]
name = "origin"
endpoints = ["{ORIGIN}"]
)toml",
                          {{"CERT", cert.cert}, {"KEY", cert.key}, {"ORIGIN", origin.address()}}));
  ASSERT_TRUE(proxy.ok());

  const std::string v1 = getOverTlsAfter(proxy.port(), "PROXY TCP4 203.0.113.9 127.0.0.1 5 443\r\n");
  EXPECT_EQ(v1.substr(0, 12), "HTTP/1.1 200") << v1;
  std::string v2("\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c", 16);
  v2 += std::string("\xc6\x33\x64\x07\x7f\x00\x00\x01\x00\x05\x01\xbb", 12);  // 198.51.100.7
  const std::string r2 = getOverTlsAfter(proxy.port(), v2);
  EXPECT_EQ(r2.substr(0, 12), "HTTP/1.1 200") << r2;

  auto seen = origin.received();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].header("X-Forwarded-For"), "203.0.113.9");
  EXPECT_EQ(seen[0].header("X-Forwarded-Proto"), "https");
  EXPECT_EQ(seen[1].header("X-Forwarded-For"), "198.51.100.7");
}

}  // namespace
}  // namespace switchyard::itest
