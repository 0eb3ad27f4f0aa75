// The real switchyard binary, as an operator runs it: --version, --check
// (exit 0 for a valid file, 1 with file:line:col for an invalid one), then
// a server on a temporary config with port 0 (the bound port is read from
// its log line), reloaded by SIGHUP (a valid file changes the answer, an
// invalid one keeps the running config) and stopped by SIGTERM (exit 0
// within a few seconds). Only processes started here are signalled, by pid.
#include <signal.h>

#include <gtest/gtest.h>

#include "tests/integration/origin.h"

#include <cstdlib>
#include <regex>
#include <thread>

#include "tests/integration/http_wire.h"
#include "tests/integration/process.h"
#include "tests/integration/proxy_harness.h"
#include "tests/tls/test_pki.h"

namespace switchyard::itest {
namespace {

constexpr std::string_view kServeConfig = R"toml([admin]
address = "127.0.0.1:0"

[log]
access = "off"

[runtime]
workers = 2

[[listener]]
name = "main"
address = "127.0.0.1:0"
timeouts = { idle = "30s" }

[[route]]
name = "hello"
direct_response = { status = 200, body = "{BODY}" }
)toml";

TEST(BinaryTest, Version) {
  Process p({"--version"});
  ASSERT_TRUE(p.started());
  EXPECT_EQ(p.wait(patience(10s)), 0);
  EXPECT_EQ(p.out().rfind("switchyard ", 0), 0u) << p.out();
}

TEST(BinaryTest, UnknownArgumentExits2) {
  Process p({"--frobnicate"});
  ASSERT_TRUE(p.started());
  EXPECT_EQ(p.wait(patience(10s)), 2);
  EXPECT_NE(p.err().find("usage:"), std::string::npos) << p.err();
}

TEST(BinaryTest, CheckAcceptsAValidFile) {
  const std::string path = tempPath("valid.toml");
  writeFile(path, fill(std::string(kServeConfig), {{"BODY", "ok"}}));
  Process p({"--check", "-c", path});
  ASSERT_TRUE(p.started());
  EXPECT_EQ(p.wait(patience(10s)), 0) << p.err();
  EXPECT_NE(p.out().find("is ok"), std::string::npos) << p.out();
}

TEST(BinaryTest, CheckRefusesAnInvalidFileWithPositions) {
  const std::string path = tempPath("invalid.toml");
  writeFile(path,
            "[[listener]]\n"
            "name = \"main\"\n"
            "address = \"8080\"\n"             // line 3: not host:port
            "\n"
            "[[route]]\n"
            "cluster = \"nowhere\"\n");        // line 6: no such cluster
  Process p({"--check", "-c", path});
  ASSERT_TRUE(p.started());
  EXPECT_EQ(p.wait(patience(10s)), 1);
  const std::string err = p.err();
  EXPECT_TRUE(std::regex_search(err, std::regex(std::regex_replace(
                                         path, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                                     R"(:3:\d+: listener\[0\]\.address)")))
      << err;
  EXPECT_TRUE(std::regex_search(err, std::regex(R"(:6:\d+: route\[0\]\.cluster)"))) << err;
  EXPECT_NE(err.find("is invalid"), std::string::npos) << err;
}

TEST(BinaryTest, ServesReloadsOnSighupAndDrainsOnSigterm) {
  const std::string path = tempPath("serve.toml");
  writeFile(path, fill(std::string(kServeConfig), {{"BODY", "first"}}));
  Process p({"-c", path});
  ASSERT_TRUE(p.started());
  const uint16_t port = p.waitForPort("main", patience(10s));
  ASSERT_NE(port, 0) << p.err();

  Client kept(port);  // a keep-alive connection across every step below
  EXPECT_EQ(kept.get("/").body, "first");

  // A valid change: new requests (also on the kept connection) see it.
  writeFile(path, fill(std::string(kServeConfig), {{"BODY", "second"}}));
  p.signal(SIGHUP);
  ASSERT_TRUE(p.waitForErr(std::regex("reloaded "), patience(10s))) << p.err();
  EXPECT_EQ(kept.get("/").body, "second");
  EXPECT_EQ(Client(port).get("/").body, "second");

  // An invalid file: logged with its position, the running config stays.
  writeFile(path, "[[listener]]\nname = \"main\"\naddress = \"nonsense\"\n");
  p.signal(SIGHUP);
  ASSERT_TRUE(p.waitForErr(std::regex("keeping the running configuration"), patience(10s)))
      << p.err();
  EXPECT_TRUE(std::regex_search(p.err(), std::regex(R"(reload failed: .*:3:\d+:)"))) << p.err();
  EXPECT_EQ(kept.get("/").body, "second");
  EXPECT_EQ(Client(port).get("/").body, "second");
  EXPECT_EQ(p.errCount("reloaded "), 1u);

  // SIGTERM: the idle connection is closed, the process exits 0.
  const auto start = Clock::now();
  p.signal(SIGTERM);
  EXPECT_TRUE(kept.waitClosed(patience(3s)));
  EXPECT_EQ(p.wait(patience(5s)), 0) << p.err();
  EXPECT_LT(Clock::now() - start, patience(5s));
  EXPECT_NE(p.err().find("draining"), std::string::npos) << p.err();
  Client after(port, 1s);
  EXPECT_FALSE(after.connected());
}

// One sample's value from a Prometheus text exposition, or -1.
double metricValue(const std::string& text, const std::string& series) {
  size_t pos = 0;
  while ((pos = text.find(series, pos)) != std::string::npos) {
    const bool line_start = pos == 0 || text[pos - 1] == '\n';
    const size_t after = pos + series.size();
    if (line_start && after < text.size() && text[after] == ' ') {
      return std::stod(text.substr(after + 1, text.find('\n', after) - after - 1));
    }
    pos = after;
  }
  return -1;
}

std::string scrape(uint16_t admin_port) {
  Client c(admin_port);
  return c.get("/metrics").body;
}

constexpr std::string_view kMetricsConfig = R"toml([admin]
address = "127.0.0.1:0"

[log]
access = "off"

[runtime]
workers = {WORKERS}

[[listener]]
name = "main"
address = "127.0.0.1:0"

[[route]]
name = "hello"
path_exact = "/"
direct_response = { status = 200, body = "hi" }
)toml";

// Issue 7's contract, end to end on the real binary: counters move by the
// number of requests sent, per code class, and the runtime metrics follow a
// SIGHUP that changes workers.
TEST(BinaryTest, MetricsCountRequestsAndFollowReloads) {
  const std::string path = tempPath("metrics.toml");
  writeFile(path, fill(std::string(kMetricsConfig), {{"WORKERS", "1"}}));
  Process p({"-c", path});
  ASSERT_TRUE(p.started());
  const uint16_t port = p.waitForPort("main", patience(10s));
  ASSERT_NE(port, 0) << p.err();
  const uint16_t admin = p.waitForPort("admin", patience(10s));
  ASSERT_NE(admin, 0) << p.err();

  const std::string ok_series =
      "switchyard_http_requests_total{listener=\"main\",route=\"hello\",cluster=\"\",code=\"2xx\"}";
  const std::string miss_series =
      "switchyard_http_requests_total{listener=\"main\",route=\"\",cluster=\"\",code=\"4xx\"}";
  const std::string before = scrape(admin);
  const double ok_before = std::max(0.0, metricValue(before, ok_series));
  EXPECT_EQ(metricValue(before, "switchyard_runtime_workers"), 1) << before;

  Client c(port);
  constexpr int kRequests = 25;
  for (int i = 0; i < kRequests; i++) EXPECT_EQ(c.get("/").body, "hi");
  EXPECT_EQ(c.get("/missing").status, 404);

  const std::string after = scrape(admin);
  EXPECT_EQ(metricValue(after, ok_series) - ok_before, kRequests) << after;
  EXPECT_EQ(metricValue(after, miss_series), 1) << after;
  EXPECT_GE(metricValue(after, "switchyard_downstream_connections_total{listener=\"main\"}"), 1);

  writeFile(path, fill(std::string(kMetricsConfig), {{"WORKERS", "2"}}));
  p.signal(SIGHUP);
  ASSERT_TRUE(p.waitForErr(std::regex("reloaded "), patience(10s))) << p.err();
  const std::string reloaded = scrape(admin);
  EXPECT_EQ(metricValue(reloaded, "switchyard_runtime_workers"), 2) << reloaded;
  EXPECT_EQ(metricValue(reloaded, "switchyard_config_reloads_total{result=\"success\"}"), 1);
  // Counters survive the reload.
  EXPECT_EQ(metricValue(reloaded, ok_series) - ok_before, kRequests) << reloaded;

  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(patience(5s)), 0) << p.err();
}

constexpr std::string_view kPoolConfig = R"toml([admin]
address = "127.0.0.1:0"

[log]
access = "off"

[runtime]
workers = 1

[[listener]]
name = "main"
address = "127.0.0.1:0"

[[route]]
cluster = "origin"

[[cluster]]
name = "origin"
endpoints = ["{ORIGIN}"]
)toml";

// upstream_connections{cluster,state}: after sequential keep-alive requests
// through one worker, exactly one upstream connection sits idle in the pool
// and none is active.
TEST(BinaryTest, UpstreamConnectionGaugeFollowsThePool) {
  Origin origin(echoHandler());
  const std::string path = tempPath("pool.toml");
  writeFile(path, fill(std::string(kPoolConfig), {{"ORIGIN", origin.address()}}));
  Process p({"-c", path});
  ASSERT_TRUE(p.started());
  const uint16_t port = p.waitForPort("main", patience(10s));
  ASSERT_NE(port, 0) << p.err();
  const uint16_t admin = p.waitForPort("admin", patience(10s));
  ASSERT_NE(admin, 0) << p.err();

  Client c(port);
  for (int i = 0; i < 5; i++) EXPECT_EQ(c.get("/x").status, 200);
  const std::string text = scrape(admin);
  EXPECT_EQ(metricValue(text, "switchyard_upstream_connections{cluster=\"origin\",state=\"idle\"}"),
            1)
      << text;
  EXPECT_EQ(
      metricValue(text, "switchyard_upstream_connections{cluster=\"origin\",state=\"active\"}"), 0)
      << text;
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(patience(5s)), 0) << p.err();
}

constexpr std::string_view kTlsConfig = R"toml([admin]
address = "127.0.0.1:0"

[log]
access = "off"

[[listener]]
name = "secure"
address = "127.0.0.1:0"

[listener.tls]
certificates = [{ cert = "{CERT}", key = "{KEY}", server_names = ["a.test"] }]

[[route]]
name = "hello"
direct_response = { status = 200, body = "over tls\n" }
)toml";

// Runs `openssl s_client` (Debian's openssl package) with `input` on stdin, bounded by
// timeout(1); returns its stdout and stderr.
std::string sClient(uint16_t port, const std::string& extra, const std::string& input) {
  const std::string dir = tempPath("");
  const std::string in = tempPath("s_client.in");
  writeFile(in, input);
  const std::string cmd = "timeout 10 openssl s_client -connect 127.0.0.1:" +
                          std::to_string(port) + " " + extra + " -ign_eof < " + in + " 2>&1";
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (f == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  ::pclose(f);
  return out;
}

// The real binary terminating TLS for `openssl s_client`, and counting handshakes
// by result; --check reads the certificate files.
TEST(BinaryTest, TerminatesTlsForOpensslSClientAndCountsHandshakes) {
  if (std::system("openssl version > /dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl binary";
  switchyard::testing::TestPki pki(tempPath("binary-pki"));
  const auto cert = pki.issue("a", {"a.test"});
  const std::string path = tempPath("tls.toml");
  writeFile(path, fill(std::string(kTlsConfig), {{"CERT", cert.cert}, {"KEY", cert.key}}));

  // --check loads the files: a key that does not exist is an error naming it.
  const std::string broken = tempPath("tls-broken.toml");
  writeFile(broken, fill(std::string(kTlsConfig), {{"CERT", cert.cert}, {"KEY", cert.key + ".gone"}}));
  {
    Process check({"--check", "-c", broken});
    EXPECT_EQ(check.wait(patience(10s)), 1);
    EXPECT_NE(check.err().find(cert.key + ".gone: No such file or directory"), std::string::npos)
        << check.err();
  }

  Process p({"-c", path});
  ASSERT_TRUE(p.started());
  const uint16_t port = p.waitForPort("secure", patience(10s));
  ASSERT_NE(port, 0) << p.err();
  const uint16_t admin = p.waitForPort("admin", patience(10s));
  ASSERT_NE(admin, 0) << p.err();

  const std::string request = "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n";
  const std::string out = sClient(port, "-servername a.test -tls1_3 -verify_return_error -CAfile " +
                                            pki.caCert() + " -alpn http/1.1",
                                  request);
  EXPECT_NE(out.find("Verification: OK"), std::string::npos) << out;
  EXPECT_NE(out.find("ALPN protocol: http/1.1"), std::string::npos) << out;
  EXPECT_NE(out.find("HTTP/1.1 200 OK"), std::string::npos) << out;
  EXPECT_NE(out.find("over tls"), std::string::npos) << out;
  // TLS 1.1 is refused.
  const std::string old = sClient(port, "-tls1_1 -cipher DEFAULT@SECLEVEL=0", request);
  EXPECT_EQ(old.find("HTTP/1.1"), std::string::npos) << old;
  // Plain HTTP on the TLS port: closed, counted as a failed handshake.
  {
    Client plain(port);
    ASSERT_TRUE(plain.send(request));
    std::string got;
    EXPECT_TRUE(plain.waitClosed(patience(5s), &got));
    EXPECT_EQ(got.find("HTTP/"), std::string::npos);
  }
  const std::string metrics = scrape(admin);
  EXPECT_EQ(metricValue(metrics, "switchyard_tls_handshakes_total{listener=\"secure\",result=\"success\"}"), 1)
      << metrics;
  EXPECT_EQ(metricValue(metrics, "switchyard_tls_handshakes_total{listener=\"secure\",result=\"failure\"}"), 2)
      << metrics;

  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(patience(5s)), 0) << p.err();
}

}  // namespace
}  // namespace switchyard::itest
