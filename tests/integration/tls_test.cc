// TLS termination and origination through the proxy, with real handshakes from a
// blocking OpenSSL client (tls_client.h) and certificates issued per test by a
// throwaway CA (tests/tls/test_pki.h):
//   SNI picks the certificate (exact, wildcard, default) and ALPN says http/1.1;
//   requests arrive at the origin with X-Forwarded-Proto: https; a 1 MiB body each way;
//   TLS 1.0 and 1.1 are refused; TLS 1.3 tickets resume, also across one key rotation
//   and a reload, and stop resuming once the key has rotated out; the TLS 1.2 session
//   cache resumes; mTLS takes a good client certificate and refuses none and a bad one;
//   plain HTTP on the TLS port gets no HTTP answer and is closed; a stalled handshake is
//   cut off by header_read; a reload swaps the certificate for new connections while an
//   open one keeps working, and a broken file keeps the old certificate; TLS to an
//   upstream is verified and refused with the wrong CA or name.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/integration/http_wire.h"
#include "tests/integration/origin.h"
#include "tests/integration/proxy_harness.h"
#include "tests/integration/tls_client.h"
#include "tests/tls/test_pki.h"

namespace switchyard::itest {
namespace {

using switchyard::testing::TestPki;

constexpr std::string_view kConfig = R"toml(
[log]
access = "off"

[[listener]]
name = "tls"
address = "127.0.0.1:0"
timeouts = { header_read = "{HEADER_READ}" }

[listener.tls]
certificates = [
  { cert = "{DEF_CERT}", key = "{DEF_KEY}" },
  { cert = "{A_CERT}", key = "{A_KEY}", server_names = ["a.test"] },
  { cert = "{B_CERT}", key = "{B_KEY}", server_names = ["*.b.test"] },
]
{TLS_EXTRA}

[[route]]
cluster = "origin"

[[cluster]]
name = "origin"
endpoints = ["{ORIGIN}"]
)toml";

struct Pki {
  TestPki ca;
  TestPki::Files def, a, b;
  explicit Pki(const std::string& dir)
      : ca(switchyard::testing::testDir(dir)),
        def(ca.issue("default", {"default.test"})),
        a(ca.issue("a", {"a.test"})),
        b(ca.issue("b", {"*.b.test"})) {}
};

std::string configFor(const Pki& pki, const Origin& origin, std::string tls_extra = "",
                      std::string header_read = "5s") {
  return fill(std::string(kConfig), {{"DEF_CERT", pki.def.cert},
                                     {"DEF_KEY", pki.def.key},
                                     {"A_CERT", pki.a.cert},
                                     {"A_KEY", pki.a.key},
                                     {"B_CERT", pki.b.cert},
                                     {"B_KEY", pki.b.key},
                                     {"TLS_EXTRA", tls_extra},
                                     {"HEADER_READ", header_read},
                                     {"ORIGIN", origin.address()}});
}

TlsClientOptions verifying(const Pki& pki, std::string sni) {
  TlsClientOptions o;
  o.sni = std::move(sni);
  o.ca = pki.ca.caCert();
  return o;
}

TEST(TlsTest, SniSelectsTheCertificateAndRequestsFlow) {
  Pki pki("sni");
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(pki, origin));
  ASSERT_TRUE(proxy.ok());

  TlsClient a(proxy.port(), verifying(pki, "a.test"));
  ASSERT_TRUE(a.handshakeOk()) << a.error();
  EXPECT_EQ(a.peerCommonName(), "a.test");
  EXPECT_EQ(a.alpn(), "http/1.1");  // offered h2 too: we choose what we speak
  Message m = a.get("/hello", "a.test");
  ASSERT_EQ(m.status, 200) << a.error();
  EXPECT_EQ(m.body, "origin GET /hello");
  // Keep-alive over TLS: a second request on the same session.
  EXPECT_EQ(a.get("/again", "a.test").status, 200);
  ASSERT_EQ(origin.received().size(), 2u);
  EXPECT_EQ(origin.received()[0].header("X-Forwarded-Proto"), "https");

  TlsClient wildcard(proxy.port(), verifying(pki, "x.b.test"));
  ASSERT_TRUE(wildcard.handshakeOk()) << wildcard.error();
  EXPECT_EQ(wildcard.peerCommonName(), "*.b.test");
  // A wildcard covers one label only: x.y.b.test gets the default.
  TlsClientOptions deep;
  deep.sni = "x.y.b.test";
  TlsClient two_labels(proxy.port(), deep);
  ASSERT_TRUE(two_labels.handshakeOk()) << two_labels.error();
  EXPECT_EQ(two_labels.peerCommonName(), "default.test");
  // Names are case-insensitive.
  TlsClientOptions upper;
  upper.sni = "A.TEST";
  TlsClient shouting(proxy.port(), upper);
  ASSERT_TRUE(shouting.handshakeOk()) << shouting.error();
  EXPECT_EQ(shouting.peerCommonName(), "a.test");
  // No SNI at all: the first certificate.
  TlsClient bare(proxy.port(), TlsClientOptions{});
  ASSERT_TRUE(bare.handshakeOk()) << bare.error();
  EXPECT_EQ(bare.peerCommonName(), "default.test");
  EXPECT_EQ(bare.get("/", "default.test").status, 200);
}

TEST(TlsTest, OneMiBBodiesBothWays) {
  Pki pki("bodies");
  const std::string big = patternBytes(1 << 20, 7);
  Origin origin(httpHandler([&big](const Message& req, OriginConn& conn) {
    if (req.target == "/download") return makeResponse(200, big);
    return echoResponse(req, conn);
  }));
  ProxyHarness proxy(configFor(pki, origin));
  ASSERT_TRUE(proxy.ok());
  TlsClient c(proxy.port(), verifying(pki, "a.test"));
  ASSERT_TRUE(c.handshakeOk()) << c.error();
  ASSERT_TRUE(c.send("POST /upload HTTP/1.1\r\nHost: a.test\r\nContent-Length: " +
                     std::to_string(big.size()) + "\r\n\r\n" + big));
  Message up = c.response();
  ASSERT_EQ(up.status, 200) << c.error();
  EXPECT_EQ(up.header("X-Request-Body-Hash"), hex(fnv1a(big)));
  Message down = c.get("/download", "a.test");
  ASSERT_EQ(down.status, 200) << c.error();
  EXPECT_EQ(fnv1a(down.body), fnv1a(big));
}

// An upgraded connection over TLS: the proxy's two tunnel Tasks share the client's
// TLS session (one reads, one writes), serialised inside transport::Stream.
TEST(TlsTest, UpgradedTunnelOverTls) {
  Pki pki("tunnel");
  Origin origin([](OriginConn& conn) {
    Message req;
    if (!conn.readRequest(req)) return;
    conn.send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    std::string pending = conn.stream.takePending();
    if (!pending.empty() && !conn.send(pending)) return;
    for (;;) {
      if (!conn.stream.fill()) break;
      if (!conn.send(conn.stream.takePending())) break;
    }
    ::shutdown(conn.stream.fd(), SHUT_WR);
  });
  ProxyHarness proxy(configFor(pki, origin));
  ASSERT_TRUE(proxy.ok());
  TlsClient c(proxy.port(), verifying(pki, "a.test"));
  ASSERT_TRUE(c.handshakeOk()) << c.error();
  ASSERT_TRUE(c.send("GET /ws HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"));
  Message switching = c.response();
  ASSERT_EQ(switching.status, 101) << c.error();
  for (int round = 0; round < 20; round++) {
    const std::string frame = patternBytes(100 + round * 3000, round);
    ASSERT_TRUE(c.send(frame)) << round;
    std::string echo;
    ASSERT_TRUE(c.readExact(frame.size(), echo)) << round << " " << c.error();
    EXPECT_EQ(fnv1a(echo), fnv1a(frame)) << round;
  }
  EXPECT_EQ(origin.requests(), 1);
}

// Clients that connect the instant a listener opens are served: at start (the first
// snapshot is published before accepting; a connection accepted earlier found no
// state and crashed the proxy) and on a reload that adds a listener (one accepted
// before the new snapshot was closed unanswered). Sixteen certificates make building
// the snapshot take long enough for a connecting client to land in that window.
TEST(TlsTest, ClientsConnectingTheMomentAListenerOpensAreServed) {
  Pki pki("opening");
  Origin origin(echoHandler());
  std::string certs;
  for (int i = 0; i < 16; i++) {
    certs += "  { cert = \"" + pki.a.cert + "\", key = \"" + pki.a.key + "\", server_names = [\"n" +
             std::to_string(i) + ".test\"] },\n";
  }
  const uint16_t tls_port = unusedPort();
  const uint16_t late_port = unusedPort();
  const std::string base = fill(R"toml(
[log]
access = "off"
[[listener]]
name = "tls"
address = "127.0.0.1:{PORT}"
[listener.tls]
certificates = [
{CERTS}]
{LATE}
[[route]]
cluster = "origin"
[[cluster]]
name = "origin"
endpoints = ["{ORIGIN}"]
)toml",
                                {{"PORT", std::to_string(tls_port)}, {"CERTS", certs},
                                 {"ORIGIN", origin.address()}});
  // Connects as soon as the port accepts (bounded), then asks for "/".
  auto firstClient = [](uint16_t port, bool tls, int& status) {
    return std::thread([port, tls, &status] {
      for (int i = 0; i < 20000 && status == 0; i++) {
        if (tls) {
          TlsClient c(port, TlsClientOptions{}, patience(5s));
          if (!c.handshakeOk()) {
            if (c.error() != "connect failed") status = -1;  // accepted, then dropped
            continue;
          }
          status = c.get("/", "a.test").status;
          if (status == 0) status = -1;
        } else {
          Client c(port, patience(5s));
          if (!c.connected()) continue;
          status = c.get("/").status;
          if (status == 0) status = -1;
        }
      }
    });
  };
  int first_status = 0;
  std::thread early = firstClient(tls_port, true, first_status);
  ProxyHarness proxy(fill(base, {{"LATE", ""}}));
  early.join();
  ASSERT_TRUE(proxy.ok());
  EXPECT_EQ(first_status, 200);

  int late_status = 0;
  std::thread late = firstClient(late_port, false, late_status);
  proxy.reload(fill(base, {{"LATE", "[[listener]]\nname = \"late\"\naddress = \"127.0.0.1:" +
                                        std::to_string(late_port) + "\""}}));
  late.join();
  EXPECT_EQ(late_status, 200);
}

// A small response's head and body leave in one write, so over TLS in one record
// (one encryption, one send) rather than two.
TEST(TlsTest, HeadAndSmallBodyShareOneRecord) {
  Pki pki("records");
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(pki, origin));
  ASSERT_TRUE(proxy.ok());
  TlsClient c(proxy.port(), verifying(pki, "a.test"));
  ASSERT_TRUE(c.handshakeOk()) << c.error();
  for (int i = 0; i < 3; i++) {
    ASSERT_TRUE(c.send(makeGet("/one-record", "a.test")));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let every record arrive
    const std::string record = c.readOneRecord();
    EXPECT_EQ(record.rfind("HTTP/1.1 200", 0), 0u) << record;
    EXPECT_NE(record.find("\r\n\r\norigin GET /one-record"), std::string::npos) << record;
  }
}

TEST(TlsTest, RefusesTls10And11) {
  Pki pki("versions");
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(pki, origin));
  ASSERT_TRUE(proxy.ok());
  for (int version : {TLS1_VERSION, TLS1_1_VERSION}) {
    TlsClientOptions old;
    old.min_version = version;
    old.max_version = version;
    TlsClient c(proxy.port(), old);
    EXPECT_FALSE(c.handshakeOk()) << "version " << std::hex << version;
  }
  TlsClientOptions tls12;
  tls12.max_version = TLS1_2_VERSION;
  TlsClient c12(proxy.port(), tls12);
  ASSERT_TRUE(c12.handshakeOk()) << c12.error();
  EXPECT_EQ(c12.version(), TLS1_2_VERSION);
  TlsClient c13(proxy.port(), TlsClientOptions{});
  ASSERT_TRUE(c13.handshakeOk()) << c13.error();
  EXPECT_EQ(c13.version(), TLS1_3_VERSION);
}

// Connects with `session` and says whether it was resumed (and the request worked).
bool resumes(uint16_t port, SSL_SESSION* session) {
  TlsClientOptions o;
  o.sni = "a.test";
  o.resume = session;
  TlsClient c(port, o);
  EXPECT_TRUE(c.handshakeOk()) << c.error();
  EXPECT_EQ(c.get("/", "a.test").status, 200) << c.error();
  return c.resumed();
}

TEST(TlsTest, Tls13TicketsResumeAcrossOneRotationAndAReloadNotThree) {
  Pki pki("tickets");
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(pki, origin));
  ASSERT_TRUE(proxy.ok());
  SSL_SESSION* session = nullptr;
  {
    TlsClientOptions o;
    o.sni = "a.test";
    TlsClient first(proxy.port(), o);
    ASSERT_TRUE(first.handshakeOk()) << first.error();
    ASSERT_EQ(first.get("/", "a.test").status, 200);  // tickets follow the handshake
    EXPECT_FALSE(first.resumed());
    EXPECT_EQ(first.version(), TLS1_3_VERSION);
    session = first.session();
  }
  ASSERT_NE(session, nullptr);
  EXPECT_TRUE(resumes(proxy.port(), session));

  auto keys = [&proxy] { return proxy.server().state()->listener_tls[0]->ticketKeys(); };
  keys()->rotate();
  EXPECT_TRUE(resumes(proxy.port(), session)) << "one rotation: the old key still opens";
  // A reload builds new contexts but keeps the listener's keys.
  proxy.reload(configFor(pki, origin, "session_timeout = \"10m\""));
  EXPECT_TRUE(resumes(proxy.port(), session)) << "after a reload";
  keys()->rotate();
  keys()->rotate();
  EXPECT_FALSE(resumes(proxy.port(), session)) << "its key rotated out";
  SSL_SESSION_free(session);
}

TEST(TlsTest, Tls12SessionCacheResumesWithoutTickets) {
  Pki pki("cache");
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(pki, origin, "session_tickets = false"));
  ASSERT_TRUE(proxy.ok());
  TlsClientOptions o;
  o.sni = "a.test";
  o.max_version = TLS1_2_VERSION;
  SSL_SESSION* session = nullptr;
  {
    TlsClient first(proxy.port(), o);
    ASSERT_TRUE(first.handshakeOk()) << first.error();
    ASSERT_EQ(first.get("/", "a.test").status, 200);
    session = first.session();
  }
  ASSERT_NE(session, nullptr);
  o.resume = session;
  TlsClient again(proxy.port(), o);
  ASSERT_TRUE(again.handshakeOk()) << again.error();
  EXPECT_TRUE(again.resumed());
  EXPECT_EQ(again.get("/", "a.test").status, 200);
  SSL_SESSION_free(session);
}

TEST(TlsTest, MutualTlsAcceptsAGoodClientCertificateOnly) {
  Pki pki("mtls");
  TestPki clients(switchyard::testing::testDir("mtls-clients"), "clients");
  const TestPki::Files good = clients.issue("good-client", {"client.test"});
  TestPki stranger(switchyard::testing::testDir("mtls-stranger"), "stranger");
  const TestPki::Files bad = stranger.issue("bad-client", {"client.test"});
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(pki, origin, "client_ca = \"" + clients.caCert() + "\""));
  ASSERT_TRUE(proxy.ok());

  TlsClientOptions with_good = verifying(pki, "a.test");
  with_good.cert = good.cert;
  with_good.key = good.key;
  TlsClient ok(proxy.port(), with_good);
  ASSERT_TRUE(ok.handshakeOk()) << ok.error();
  EXPECT_EQ(ok.get("/", "a.test").status, 200) << ok.error();

  // TLS 1.3 clients finish their side before the server checks the certificate: the
  // refusal shows on the first read at the latest. Nothing reaches the origin.
  const int before = origin.requests();
  TlsClient none(proxy.port(), verifying(pki, "a.test"));
  EXPECT_FALSE(none.handshakeOk() && none.get("/", "a.test").status != 0);
  TlsClientOptions with_bad = verifying(pki, "a.test");
  with_bad.cert = bad.cert;
  with_bad.key = bad.key;
  TlsClient refused(proxy.port(), with_bad);
  EXPECT_FALSE(refused.handshakeOk() && refused.get("/", "a.test").status != 0);
  EXPECT_EQ(origin.requests(), before);
}

TEST(TlsTest, PlainHttpOnTheTlsPortIsClosedWithoutAnAnswer) {
  Pki pki("plain");
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(pki, origin));
  ASSERT_TRUE(proxy.ok());
  Client c(proxy.port());
  ASSERT_TRUE(c.send(makeGet("/", "a.test")));
  std::string received;
  ASSERT_TRUE(c.waitClosed(patience(5s), &received));
  // Whatever came back (a TLS alert at most) is not HTTP.
  EXPECT_EQ(received.find("HTTP/"), std::string::npos);
  EXPECT_EQ(origin.requests(), 0);
}

// A record cut short (its header promises 64 bytes, 10 come, then EOF) ends the
// connection without an HTTP answer, and nothing reaches the origin.
TEST(TlsTest, ATruncatedRecordClosesTheConnection) {
  Pki pki("truncated");
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(pki, origin));
  ASSERT_TRUE(proxy.ok());
  // The client's own close_notify at the end would meet a closed socket.
  ::signal(SIGPIPE, SIG_IGN);
  TlsClient c(proxy.port(), verifying(pki, "a.test"));
  ASSERT_TRUE(c.handshakeOk()) << c.error();
  const std::string forged = std::string("\x17\x03\x03\x00\x40", 5) + std::string(10, 'x');
  ASSERT_EQ(::send(c.fd(), forged.data(), forged.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(forged.size()));
  ::shutdown(c.fd(), SHUT_WR);
  Stream raw(c.fd());
  raw.setTimeout(patience(5s));
  std::string rest;
  EXPECT_TRUE(raw.readToEof(rest) || raw.eof()) << "the proxy closed the connection";
  EXPECT_EQ(rest.find("HTTP/"), std::string::npos);
  EXPECT_EQ(origin.requests(), 0);
}

TEST(TlsTest, AStalledHandshakeIsCutOffByHeaderRead) {
  Pki pki("stall");
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(pki, origin, "", "300ms"));
  ASSERT_TRUE(proxy.ok());
  Client silent(proxy.port());
  Client partial(proxy.port());
  // The first bytes of a ClientHello record, then nothing.
  ASSERT_TRUE(partial.send(std::string("\x16\x03\x01\x02\x00\x01", 6)));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.waitClosed(patience(5s)));
  EXPECT_TRUE(partial.waitClosed(patience(5s)));
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, std::chrono::milliseconds(250));
  EXPECT_LT(waited, patience(std::chrono::seconds(4)));
}

TEST(TlsTest, ReloadSwapsTheCertificateAndKeepsOpenConnections) {
  Pki pki("reload");
  const TestPki::Files renewed = pki.ca.issue("a-renewed", {"a.test", "renewed.a.test"});
  Origin origin(echoHandler());
  ProxyHarness proxy(configFor(pki, origin));
  ASSERT_TRUE(proxy.ok());

  TlsClient open(proxy.port(), verifying(pki, "a.test"));
  ASSERT_TRUE(open.handshakeOk()) << open.error();
  ASSERT_EQ(open.get("/", "a.test").status, 200);

  Pki swapped = pki;
  swapped.a = renewed;
  std::vector<std::string> log = proxy.reload(configFor(swapped, origin));
  for (const auto& line : log) EXPECT_EQ(line.find("tls"), std::string::npos) << line;
  TlsClient fresh(proxy.port(), verifying(pki, "a.test"));
  ASSERT_TRUE(fresh.handshakeOk()) << fresh.error();
  EXPECT_TRUE(fresh.peerMatches("renewed.a.test")) << "the renewed certificate";
  EXPECT_FALSE(open.peerMatches("renewed.a.test"));
  EXPECT_EQ(fresh.get("/", "a.test").status, 200);
  EXPECT_EQ(open.get("/still", "a.test").status, 200) << "the open connection survives";

  // A broken renewal: the file is missing. The running certificate stays.
  Pki broken = pki;
  broken.a.cert = pki.a.cert + ".missing";
  log = proxy.reload(configFor(broken, origin));
  bool reported = false;
  for (const auto& line : log) {
    reported = reported || (line.find(broken.a.cert) != std::string::npos &&
                            line.find("No such file") != std::string::npos &&
                            line.find("keeping the previous certificates") != std::string::npos);
  }
  EXPECT_TRUE(reported) << ::testing::PrintToString(log);
  TlsClient after(proxy.port(), verifying(pki, "a.test"));
  ASSERT_TRUE(after.handshakeOk()) << after.error();
  EXPECT_TRUE(after.peerMatches("renewed.a.test"));
  EXPECT_EQ(after.get("/", "a.test").status, 200);
}

TEST(TlsTest, AMissingCertificateAtStartIsFatal) {
  Pki pki("fatal");
  Origin origin(echoHandler());
  Pki broken = pki;
  broken.b.key = "/nonexistent/b.key";
  const std::string toml = configFor(broken, origin);
  auto config = loadConfig(toml);
  ASSERT_NE(config, nullptr);
  const std::vector<std::string> errors = server::checkTlsFiles(*config);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("listener \"tls\" tls: key /nonexistent/b.key: No such file"),
            std::string::npos)
      << errors[0];
}

// Upstream TLS: the proxy connects to its own TLS listener with [cluster.tls] (one
// runtime per process, so one proxy plays both parts): edge (plain) -> cluster
// "secure" over TLS -> listener "tls" -> the origin.
constexpr std::string_view kUpstreamConfig = R"toml(
[log]
access = "off"

[[listener]]
name = "tls"
address = "127.0.0.1:{TLS_PORT}"
[listener.tls]
certificates = [{ cert = "{DEF_CERT}", key = "{DEF_KEY}" }, { cert = "{A_CERT}", key = "{A_KEY}", server_names = ["a.test"] }]

[[listener]]
name = "edge"
address = "127.0.0.1:0"

[[route]]
listener = "edge"
cluster = "secure"

[[route]]
listener = "tls"
cluster = "origin"

[[cluster]]
name = "secure"
endpoints = ["127.0.0.1:{TLS_PORT}"]
timeouts = { connect = "2s" }
[cluster.tls]
ca = "{CA}"
{NAME}

[[cluster]]
name = "origin"
endpoints = ["{ORIGIN}"]
)toml";

TEST(TlsTest, UpstreamTlsIsVerifiedAndRefusedWithTheWrongCaOrName) {
  Pki pki("upstream");
  TestPki other(switchyard::testing::testDir("upstream-other"), "other");
  Origin origin(echoHandler());
  const std::string tls_port = std::to_string(unusedPort());
  auto configWith = [&](const std::string& ca, const std::string& name) {
    return fill(std::string(kUpstreamConfig), {{"TLS_PORT", tls_port},
                                               {"DEF_CERT", pki.def.cert},
                                               {"DEF_KEY", pki.def.key},
                                               {"A_CERT", pki.a.cert},
                                               {"A_KEY", pki.a.key},
                                               {"CA", ca},
                                               {"NAME", name},
                                               {"ORIGIN", origin.address()}});
  };
  ProxyHarness proxy(configWith(pki.ca.caCert(), "server_name = \"a.test\""));
  ASSERT_TRUE(proxy.ok());
  {
    Client c(proxy.port("edge"));
    Message m = c.get("/through", "example.com");
    ASSERT_EQ(m.status, 200);
    EXPECT_EQ(m.body, "origin GET /through");
    // Pooled: the second request reuses the upstream TLS connection.
    EXPECT_EQ(c.get("/again", "example.com").status, 200);
    ASSERT_EQ(origin.received().size(), 2u);
    EXPECT_EQ(origin.received()[0].header("X-Forwarded-Proto"), "https");
    EXPECT_EQ(origin.received()[0].header("X-Origin-Conn"), origin.received()[1].header("X-Origin-Conn"));
  }
  const int served = origin.requests();
  proxy.reload(configWith(other.caCert(), "server_name = \"a.test\""));
  {
    Client c(proxy.port("edge"));
    Message m = c.get("/wrong-ca", "example.com");
    EXPECT_EQ(m.status, 502);
    EXPECT_EQ(m.body, "upstream TLS handshake failed\n");
  }
  // No server_name: an IP endpoint is verified by IP, which no certificate here has.
  proxy.reload(configWith(pki.ca.caCert(), ""));
  {
    Client c(proxy.port("edge"));
    EXPECT_EQ(c.get("/wrong-name", "example.com").status, 502);
  }
  EXPECT_EQ(origin.requests(), served);
}

}  // namespace
}  // namespace switchyard::itest
