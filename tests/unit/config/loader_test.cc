// The loader: valid files become the expected snapshot; every invalid file is reported
// at the exact line, column and key path, with a message that says what was expected.
#include "config/loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "config/units.h"

namespace switchyard::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Every test pins the CPUs the process may use, so results do not depend on the machine.
LoadOptions fourCpus() {
  LoadOptions options;
  options.allowed_cpus = std::vector<int>{0, 1, 2, 3};
  return options;
}

// A valid listener, for cases about other sections. Appended at the end of a case's
// text so that the case's own line numbers stay as written.
constexpr std::string_view kListener = "\n[[listener]]\nname = \"l\"\naddress = \"127.0.0.1:8000\"\n";

std::string withListener(std::string_view text) { return std::string(text) + std::string(kListener); }

LoadResult load(std::string_view text) { return loadConfigString(text, "test.toml", fourCpus()); }

// ---- Valid files -----------------------------------------------------------------------

TEST(LoaderValid, MinimalFileGetsEveryDefault) {
  const LoadResult result = load(kListener);
  ASSERT_TRUE(result.ok()) << result.errorReport();
  const Config& config = *result.config();

  EXPECT_EQ(config.source_name, "test.toml");
  EXPECT_EQ(config.source_text, kListener);
  EXPECT_EQ(config.hash, contentHash(kListener));

  EXPECT_FALSE(config.runtime.workers.has_value());
  EXPECT_TRUE(config.runtime.cpu_affinity.empty());
  EXPECT_EQ(config.runtime.affinity_mode, AffinityMode::kSpread);
  EXPECT_EQ(config.runtime.poller_handoff_interval, milliseconds{10});
  EXPECT_EQ(config.runtime.netpoll_batch, 512);
  EXPECT_EQ(config.runtime.stack_size, 64u * 1024);
  EXPECT_EQ(config.runtime.schedtrace, seconds{0});
  EXPECT_FALSE(config.runtime.scheddetail);

  EXPECT_EQ(config.admin.address, (HostPort{"127.0.0.1", 9901, HostKind::kIpv4}));
  EXPECT_EQ(config.log.access_target, AccessLogTarget::kStdout);
  EXPECT_EQ(config.log.access_format, AccessLogFormat::kJson);
  EXPECT_EQ(config.log.level, LogLevel::kInfo);
  EXPECT_EQ(config.process.drain_timeout, seconds{30});

  ASSERT_EQ(config.listeners.size(), 1u);
  const ListenerConfig& listener = config.listeners[0];
  EXPECT_EQ(listener.name, "l");
  EXPECT_EQ(listener.address, (HostPort{"127.0.0.1", 8000, HostKind::kIpv4}));
  EXPECT_FALSE(listener.tls.has_value());
  EXPECT_EQ(listener.limits.max_connections, 10000u);
  EXPECT_EQ(listener.limits.max_header_bytes, 64u * 1024);
  EXPECT_FALSE(listener.limits.max_body_bytes.has_value());
  EXPECT_EQ(listener.timeouts.header_read, seconds{10});
  EXPECT_EQ(listener.timeouts.idle, seconds{60});
  EXPECT_EQ(listener.timeouts.request, seconds{0});
  EXPECT_TRUE(config.routes.empty());
  EXPECT_TRUE(config.clusters.empty());
}

TEST(LoaderValid, EveryKeyIsRead) {
  const std::string text = R"(
[runtime]
workers = 3
cpu_affinity = "1-3"
affinity_mode = "pin"
poller_handoff_interval = "250us"
netpoll_batch = 64
stack_size = "128KiB"
schedtrace = "1s"
scheddetail = true

[admin]
address = "[::1]:0"

[log]
access = "/var/log/switchyard/access.log"
access_format = "combined"
level = "debug"

[[listener]]
name = "tls"
address = "0.0.0.0:443"
tls = { certificates = [
  { cert = "a.pem", key = "a.key", server_names = ["A.Example", "*.a.example"] },
  { cert = "b.pem", key = "b.key" },
], min_version = "1.3", ciphers = "ECDHE-RSA-AES128-GCM-SHA256", ciphersuites = "TLS_AES_128_GCM_SHA256", session_tickets = false, session_ticket_rotation = "2h", session_cache_size = 0, session_timeout = "10m", client_ca = "ca.pem", client_verify = "optional" }
limits = { max_connections = 5, max_header_bytes = 2048, max_body_bytes = "1MB" }
timeouts = { header_read = "1s", idle = "1m30s", request = "2m" }

[[listener]]
name = "v6"
address = "[::]:443"

[[route]]
listener = "tls"
host = "*.Example.com"
path_exact = "/x"
cluster = "second"

[[route]]
name = "fixed"
direct_response = { status = 503, body = "down\n" }

[[cluster]]
name = "first"
endpoints = ["a.internal:1"]

[[cluster]]
name = "second"
endpoints = ["10.0.0.1:80", "[2001:db8::1]:8080", "svc.internal:81"]
balancer = "consistent_hash"
hash_key = "header:X-User"
timeouts = { connect = "100ms", response_header = "0s", idle = "5s" }
pool = { max_idle_per_worker = 0 }
tls = { ca = "up-ca.pem", verify = false, server_name = "API.internal", min_version = "1.3", cert = "c.pem", key = "c.key" }
)";
  const LoadResult result = load(text);
  ASSERT_TRUE(result.ok()) << result.errorReport();
  const Config& config = *result.config();

  EXPECT_EQ(config.runtime.workers, 3);
  EXPECT_EQ(config.runtime.cpu_affinity, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(config.runtime.affinity_mode, AffinityMode::kPin);
  EXPECT_EQ(config.runtime.poller_handoff_interval, std::chrono::microseconds{250});
  EXPECT_EQ(config.runtime.netpoll_batch, 64);
  EXPECT_EQ(config.runtime.stack_size, 128u * 1024);
  EXPECT_EQ(config.runtime.schedtrace, seconds{1});
  EXPECT_TRUE(config.runtime.scheddetail);

  EXPECT_EQ(config.admin.address, (HostPort{"::1", 0, HostKind::kIpv6}));
  EXPECT_EQ(config.log.access_target, AccessLogTarget::kFile);
  EXPECT_EQ(config.log.access_path, "/var/log/switchyard/access.log");
  EXPECT_EQ(config.log.access_format, AccessLogFormat::kCombined);
  EXPECT_EQ(config.log.level, LogLevel::kDebug);

  ASSERT_EQ(config.listeners.size(), 2u);
  const ListenerConfig& tls = config.listeners[0];
  ASSERT_TRUE(tls.tls.has_value());
  ASSERT_EQ(tls.tls->certificates.size(), 2u);
  EXPECT_EQ(tls.tls->certificates[0].cert_path, "a.pem");
  EXPECT_EQ(tls.tls->certificates[0].key_path, "a.key");
  EXPECT_EQ(tls.tls->certificates[0].server_names,
            (std::vector<std::string>{"a.example", "*.a.example"}));
  EXPECT_TRUE(tls.tls->certificates[1].server_names.empty());
  EXPECT_EQ(tls.tls->min_version, TlsVersion::kTls13);
  EXPECT_EQ(tls.tls->ciphers, "ECDHE-RSA-AES128-GCM-SHA256");
  EXPECT_EQ(tls.tls->ciphersuites, "TLS_AES_128_GCM_SHA256");
  EXPECT_FALSE(tls.tls->session_tickets);
  EXPECT_EQ(tls.tls->session_ticket_rotation, std::chrono::hours{2});
  EXPECT_EQ(tls.tls->session_cache_size, 0u);
  EXPECT_EQ(tls.tls->session_timeout, std::chrono::minutes{10});
  EXPECT_EQ(tls.tls->client_ca, "ca.pem");
  EXPECT_EQ(tls.tls->client_verify, ClientVerify::kOptional);
  EXPECT_EQ(tls.limits.max_connections, 5u);
  EXPECT_EQ(tls.limits.max_header_bytes, 2048u);
  EXPECT_EQ(tls.limits.max_body_bytes, 1'000'000u);
  EXPECT_EQ(tls.timeouts.header_read, seconds{1});
  EXPECT_EQ(tls.timeouts.idle, seconds{90});
  EXPECT_EQ(tls.timeouts.request, seconds{120});
  // 0.0.0.0:443 and [::]:443 are the usual dual-stack pair, not a conflict.
  EXPECT_EQ(config.listeners[1].address, (HostPort{"::", 443, HostKind::kIpv6}));

  ASSERT_EQ(config.routes.size(), 2u);
  const RouteConfig& first = config.routes[0];
  EXPECT_EQ(first.name, "route[0]");
  EXPECT_EQ(first.listener, "tls");
  EXPECT_EQ(first.host, "*.example.com");
  EXPECT_EQ(first.path_match, PathMatch::kExact);
  EXPECT_EQ(first.path, "/x");
  ASSERT_TRUE(std::holds_alternative<ClusterTarget>(first.action));
  EXPECT_EQ(std::get<ClusterTarget>(first.action).cluster, "second");
  EXPECT_EQ(std::get<ClusterTarget>(first.action).cluster_index, 1u);
  const RouteConfig& fixed = config.routes[1];
  EXPECT_EQ(fixed.name, "fixed");
  EXPECT_FALSE(fixed.listener.has_value());
  EXPECT_FALSE(fixed.host.has_value());
  EXPECT_EQ(fixed.path_match, PathMatch::kPrefix);
  EXPECT_EQ(fixed.path, "/");
  ASSERT_TRUE(std::holds_alternative<DirectResponse>(fixed.action));
  EXPECT_EQ(std::get<DirectResponse>(fixed.action).status, 503);
  EXPECT_EQ(std::get<DirectResponse>(fixed.action).body, "down\n");

  ASSERT_EQ(config.clusters.size(), 2u);
  EXPECT_EQ(config.clusters[0].balancer, BalancerKind::kRoundRobin);
  EXPECT_EQ(config.clusters[0].hash_key.source, HashKey::Source::kClientIp);
  EXPECT_EQ(config.clusters[0].timeouts.connect, seconds{5});
  EXPECT_EQ(config.clusters[0].timeouts.response_header, seconds{30});
  EXPECT_EQ(config.clusters[0].timeouts.idle, seconds{60});
  EXPECT_EQ(config.clusters[0].pool.max_idle_per_worker, 32);
  const ClusterConfig& second = config.clusters[1];
  EXPECT_EQ(second.endpoints,
            (std::vector<HostPort>{{"10.0.0.1", 80, HostKind::kIpv4},
                                   {"2001:db8::1", 8080, HostKind::kIpv6},
                                   {"svc.internal", 81, HostKind::kName}}));
  EXPECT_EQ(second.balancer, BalancerKind::kConsistentHash);
  EXPECT_FALSE(config.clusters[0].tls.has_value());
  ASSERT_TRUE(second.tls.has_value());
  EXPECT_EQ(second.tls->ca, "up-ca.pem");
  EXPECT_FALSE(second.tls->verify);
  EXPECT_EQ(second.tls->server_name, "api.internal");
  EXPECT_EQ(second.tls->min_version, TlsVersion::kTls13);
  EXPECT_EQ(second.tls->cert_path, "c.pem");
  EXPECT_EQ(second.tls->key_path, "c.key");
  EXPECT_EQ(second.hash_key.source, HashKey::Source::kHeader);
  EXPECT_EQ(second.hash_key.header, "X-User");
  EXPECT_EQ(second.timeouts.connect, milliseconds{100});
  EXPECT_EQ(second.timeouts.response_header, seconds{0});
  EXPECT_EQ(second.timeouts.idle, seconds{5});
  EXPECT_EQ(second.pool.max_idle_per_worker, 0);

  EXPECT_EQ(config.findListener("v6"), &config.listeners[1]);
  EXPECT_EQ(config.findCluster("first"), &config.clusters[0]);
  EXPECT_EQ(config.findCluster("missing"), nullptr);
}

// Smaller valid variations, each a boundary or an alternative spelling.
TEST(LoaderValid, AcceptsBoundariesAndAlternatives) {
  const std::vector<std::string> cases = {
      "[runtime]\nworkers = 1\nnetpoll_batch = 1\nstack_size = \"16KiB\"\n"
      "poller_handoff_interval = \"50us\"\n",
      "[runtime]\nworkers = 256\nnetpoll_batch = 65536\nstack_size = \"64MiB\"\n"
      "poller_handoff_interval = \"1s\"\n",
      "[runtime]\nstack_size = 65536\n",           // sizes may be plain integers
      "[runtime]\naffinity_mode = \"none\"\n",     // none without cpu_affinity
      "[runtime]\ncpu_affinity = \"3,0-2,1\"\n",   // every allowed CPU, any order
      "[runtime]\nschedtrace = \"1ms\"\n",
      "[log]\naccess = \"off\"\n",
      "[log]\naccess = \"stderr\"\nlevel = \"error\"\n",
      "[admin]\naddress = \"0.0.0.0:9901\"\n",     // different port from the listener
      "[[route]]\ndirect_response = { status = 204 }\n",
      "[[route]]\ndirect_response = { status = 304, body = \"\" }\n",
      "[[cluster]]\nname = \"c\"\nendpoints = [\"a:1\"]\nbalancer = \"consistent_hash\"\n",
      "[[cluster]]\nname = \"c\"\nendpoints = [\"a:1\"]\nbalancer = \"consistent_hash\"\n"
      "hash_key = \"client_ip\"\n",
      // Two routes that differ only in their listener, host or match kind.
      "[[route]]\npath_prefix = \"/a\"\ndirect_response = { status = 200 }\n"
      "[[route]]\npath_exact = \"/a\"\ndirect_response = { status = 200 }\n"
      "[[route]]\nhost = \"x.example\"\npath_prefix = \"/a\"\ndirect_response = { status = 200 }\n"
      "[[route]]\nlistener = \"l\"\npath_prefix = \"/a\"\ndirect_response = { status = 200 }\n",
  };
  for (const std::string& text : cases) {
    const LoadResult result = load(withListener(text));
    EXPECT_TRUE(result.ok()) << text << "\n" << result.errorReport();
  }
  // Port 0 (any free port) may repeat: the kernel gives each listener its own port.
  const LoadResult ephemeral = load(
      "[[listener]]\nname = \"a\"\naddress = \"127.0.0.1:0\"\n"
      "[[listener]]\nname = \"b\"\naddress = \"127.0.0.1:0\"\n");
  EXPECT_TRUE(ephemeral.ok()) << ephemeral.errorReport();
}

// ---- Invalid files: one problem each, located exactly -----------------------------------

struct InvalidCase {
  std::string description;
  std::string text;
  int line;
  int column;
  std::string key_path;
  std::string message;
};

void expectSingleError(const InvalidCase& c) {
  SCOPED_TRACE(c.description);
  const LoadResult result = load(c.text);
  ASSERT_FALSE(result.ok()) << c.text;
  ASSERT_EQ(result.errors().size(), 1u) << result.errorReport();
  const ConfigError& error = result.errors()[0];
  EXPECT_EQ(error.file, "test.toml");
  EXPECT_EQ(error.line, c.line);
  EXPECT_EQ(error.column, c.column);
  EXPECT_EQ(error.key_path, c.key_path);
  EXPECT_EQ(error.message, c.message);
}

TEST(LoaderValid, ProcessDrainTimeout) {
  for (const auto& [text, want] : std::vector<std::pair<std::string, std::chrono::nanoseconds>>{
           {"[process]\ndrain_timeout = \"0s\"\n", seconds{0}},
           {"[process]\ndrain_timeout = \"1500ms\"\n", milliseconds{1500}},
           {"[process]\ndrain_timeout = \"1h\"\n", std::chrono::hours{1}},
       }) {
    const LoadResult result = load(withListener(text));
    ASSERT_TRUE(result.ok()) << text << result.errorReport();
    EXPECT_EQ(result.config()->process.drain_timeout, want) << text;
  }
}

TEST(LoaderInvalid, RuntimeSection) {
  const std::vector<InvalidCase> cases = {
      {"misspelt key", withListener("[runtime]\nwokers = 4\n"), 2, 1, "runtime.wokers",
       R"(unknown key "wokers" in [runtime] (did you mean "workers"?))"},
      {"transposed letters are one edit", withListener("[runtime]\nwrokers = 4\n"), 2, 1,
       "runtime.wrokers", R"(unknown key "wrokers" in [runtime] (did you mean "workers"?))"},
      {"unknown key far from any", withListener("[runtime]\nthreads = 4\n"), 2, 1,
       "runtime.threads",
       "unknown key \"threads\" in [runtime] (expected one of: workers, cpu_affinity, "
       "affinity_mode, poller_handoff_interval, netpoll_batch, stack_size, schedtrace, "
       "scheddetail)"},
      {"workers as string", withListener("[runtime]\nworkers = \"4\"\n"), 2, 11,
       "runtime.workers", R"(expected an integer in 1..256, got string "4")"},
      {"workers zero", withListener("[runtime]\nworkers = 0\n"), 2, 11, "runtime.workers",
       "expected an integer in 1..256, got 0"},
      {"workers too many", withListener("[runtime]\nworkers = 257\n"), 2, 11, "runtime.workers",
       "expected an integer in 1..256, got 257"},
      {"netpoll_batch float", withListener("[runtime]\nnetpoll_batch = 1.5\n"), 2, 17,
       "runtime.netpoll_batch", "expected an integer in 1..65536, got float 1.5"},
      {"netpoll_batch too big", withListener("[runtime]\nnetpoll_batch = 65537\n"), 2, 17,
       "runtime.netpoll_batch", "expected an integer in 1..65536, got 65537"},
      {"reversed cpuset", withListener("[runtime]\ncpu_affinity = \"3-1\"\n"), 2, 16,
       "runtime.cpu_affinity",
       R"(expected a cpuset list such as "0-3,8", got "3-1" (range 3-1 is reversed))"},
      {"cpuset as array", withListener("[runtime]\ncpu_affinity = [0, 1]\n"), 2, 16,
       "runtime.cpu_affinity", "expected a string, got an array"},
      {"CPUs outside the allowed set", withListener("[runtime]\ncpu_affinity = \"2-5\"\n"), 2, 16,
       "runtime.cpu_affinity",
       R"(CPUs 4-5 are not usable by this process (expected a subset of "0-3"))"},
      {"one CPU outside the allowed set", withListener("[runtime]\ncpu_affinity = \"0,9\"\n"), 2,
       16, "runtime.cpu_affinity",
       R"(CPU 9 is not usable by this process (expected a subset of "0-3"))"},
      {"cpu_affinity with mode none",
       withListener("[runtime]\naffinity_mode = \"none\"\ncpu_affinity = \"0\"\n"), 3, 16,
       "runtime.cpu_affinity",
       R"(cpu_affinity has no effect with affinity_mode = "none" (set affinity_mode to "spread" or "pin", or remove cpu_affinity))"},
      {"affinity mode typo", withListener("[runtime]\naffinity_mode = \"sprad\"\n"), 2, 17,
       "runtime.affinity_mode",
       R"(expected "none", "spread" or "pin", got "sprad" (did you mean "spread"?))"},
      {"affinity mode unknown", withListener("[runtime]\naffinity_mode = \"pinned\"\n"), 2, 17,
       "runtime.affinity_mode", R"(expected "none", "spread" or "pin", got "pinned")"},
      {"handoff interval as integer",
       withListener("[runtime]\npoller_handoff_interval = 10\n"), 2, 27,
       "runtime.poller_handoff_interval",
       R"(expected a duration string such as "10ms" or "2s", got integer 10)"},
      {"handoff interval without unit",
       withListener("[runtime]\npoller_handoff_interval = \"10\"\n"), 2, 27,
       "runtime.poller_handoff_interval",
       R"(expected a duration such as "250us", "10ms", "2s" or "1m", got "10" (missing unit: ns, us, ms, s, m or h))"},
      {"handoff interval too long",
       withListener("[runtime]\npoller_handoff_interval = \"2s\"\n"), 2, 27,
       "runtime.poller_handoff_interval", R"(expected a duration in 50us..1s, got "2s")"},
      {"handoff interval too short",
       withListener("[runtime]\npoller_handoff_interval = \"49us\"\n"), 2, 27,
       "runtime.poller_handoff_interval", R"(expected a duration in 50us..1s, got "49us")"},
      {"stack too small", withListener("[runtime]\nstack_size = \"8KiB\"\n"), 2, 14,
       "runtime.stack_size", R"(expected a size in 16KiB..64MiB, got "8KiB")"},
      {"stack too large", withListener("[runtime]\nstack_size = \"65MiB\"\n"), 2, 14,
       "runtime.stack_size", R"(expected a size in 16KiB..64MiB, got "65MiB")"},
      {"stack not page aligned", withListener("[runtime]\nstack_size = \"65537\"\n"), 2, 14,
       "runtime.stack_size", R"(expected a multiple of 4KiB, got "65537")"},
      {"stack integer not page aligned", withListener("[runtime]\nstack_size = 20000\n"), 2, 14,
       "runtime.stack_size", "expected a multiple of 4KiB, got 20000"},
      {"stack negative integer", withListener("[runtime]\nstack_size = -1\n"), 2, 14,
       "runtime.stack_size",
       R"(expected a size such as "16KiB" or a number of bytes, got integer -1)"},
      {"stack bad unit", withListener("[runtime]\nstack_size = \"64k\"\n"), 2, 14,
       "runtime.stack_size",
       R"(expected a size such as "512", "16KiB" or "1MiB", got "64k" (unknown unit "k": use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB))"},
      {"schedtrace too frequent", withListener("[runtime]\nschedtrace = \"500us\"\n"), 2, 14,
       "runtime.schedtrace", R"(expected "0s" (off) or a duration of at least 1ms, got "500us")"},
      {"scheddetail as string", withListener("[runtime]\nscheddetail = \"yes\"\n"), 2, 15,
       "runtime.scheddetail", R"(expected true or false, got string "yes")"},
      {"runtime not a table", withListener("runtime = 3\n"), 1, 11, "runtime",
       "expected a table ([runtime]), got integer 3"},
  };
  for (const InvalidCase& c : cases) expectSingleError(c);
}

TEST(LoaderInvalid, TopLevelAdminAndLog) {
  const std::vector<InvalidCase> cases = {
      {"misspelt section", withListener("[runtme]\nworkers = 1\n"), 1, 2, "runtme",
       R"(unknown key "runtme" at the top level (did you mean "runtime"?))"},
      {"plural section", withListener("[[listeners]]\nname = \"x\"\n"), 1, 3, "listeners",
       R"(unknown key "listeners" at the top level (did you mean "listener"?))"},
      {"admin with host name", withListener("[admin]\naddress = \"localhost:9901\"\n"), 2, 11,
       "admin.address",
       R"(expected "host:port", got "localhost:9901" (an IP address is required here, such as "127.0.0.1" or "[::1]"; host names are accepted only in cluster endpoints))"},
      {"admin address as integer", withListener("[admin]\naddress = 9901\n"), 2, 11,
       "admin.address", R"(expected "host:port", got integer 9901)"},
      {"admin unknown key", withListener("[admin]\nadress = \"127.0.0.1:1\"\n"), 2, 1,
       "admin.adress", R"(unknown key "adress" in [admin] (did you mean "address"?))"},
      {"admin on a listener's address", withListener("[admin]\naddress = \"127.0.0.1:8000\"\n"),
       2, 11, "admin.address",
       "address 127.0.0.1:8000 conflicts with listener[0] on 127.0.0.1:8000 (line 6)"},
      {"listener on the default admin address",
       "[[listener]]\nname = \"l\"\naddress = \"127.0.0.1:9901\"\n", 3, 11, "listener[0].address",
       "address 127.0.0.1:9901 conflicts with the default admin address 127.0.0.1:9901 "
       "(set [admin] address to move it)"},
      {"empty access log", withListener("[log]\naccess = \"\"\n"), 2, 10, "log.access",
       R"(expected "stdout", "stderr", "off" or a file path, got "")"},
      {"access format", withListener("[log]\naccess_format = \"clf\"\n"), 2, 17,
       "log.access_format", R"(expected "json" or "combined", got "clf")"},
      {"log level", withListener("[log]\nlevel = \"warning\"\n"), 2, 9, "log.level",
       R"(expected "trace", "debug", "info", "warn" or "error", got "warning")"},
      {"log level typo", withListener("[log]\nlevel = \"inf\"\n"), 2, 9, "log.level",
       R"(expected "trace", "debug", "info", "warn" or "error", got "inf" (did you mean "info"?))"},
      {"drain_timeout above an hour", withListener("[process]\ndrain_timeout = \"2h\"\n"), 2, 17,
       "process.drain_timeout", R"(expected "0s" (off) or a duration in 1ms..1h, got "2h")"},
      {"process unknown key", withListener("[process]\ndrain = \"1s\"\n"), 2, 1,
       "process.drain", R"(unknown key "drain" in [process] (expected one of: drain_timeout))"},
      {"no listener at all", "[admin]\naddress = \"127.0.0.1:1\"\n", 0, 0, "listener",
       "at least one [[listener]] is required"},
      {"empty listener array", "listener = []\n", 1, 12, "listener",
       "expected at least one [[listener]], got an empty array"},
      {"listener as a single table", "[listener]\nname = \"l\"\naddress = \"127.0.0.1:1\"\n", 1, 1,
       "listener", "expected an array of tables: write [[listener]], not [listener]"},
      {"listener as a string", "listener = \"l\"\n", 1, 12, "listener",
       R"(expected an array of tables ([[listener]]), got string "l")"},
      {"listener element not a table", "listener = [1]\n", 1, 13, "listener[0]",
       "expected a table, got integer 1"},
  };
  for (const InvalidCase& c : cases) expectSingleError(c);
}

TEST(LoaderInvalid, ListenerSection) {
  const std::string two_listeners_head = "[[listener]]\nname = \"a\"\naddress = \"127.0.0.1:8000\"\n";
  const std::vector<InvalidCase> cases = {
      {"the example from the issue", "[[listener]]\nname = \"public\"\naddress = \"8080\"\n", 3, 11,
       "listener[0].address", R"(expected "host:port", got "8080")"},
      {"missing name", "[[listener]]\naddress = \"127.0.0.1:1\"\n", 1, 1, "listener[0].name",
       R"(missing required key "name")"},
      {"missing address", "[[listener]]\nname = \"l\"\n", 1, 1, "listener[0].address",
       R"(missing required key "address")"},
      {"name with a space", "[[listener]]\nname = \"my listener\"\naddress = \"127.0.0.1:1\"\n", 2,
       8, "listener[0].name",
       R"(expected a name of 1..64 letters, digits, '_', '.' or '-', got "my listener")"},
      {"unknown key with suggestion", withListener("[[listener]]\nnmae = \"x\"\nname = \"y\"\naddress = \"127.0.0.1:2\"\n"),
       2, 1, "listener[0].nmae", R"(unknown key "nmae" in [[listener]] (did you mean "name"?))"},
      {"duplicate name", two_listeners_head + "[[listener]]\nname = \"a\"\naddress = \"127.0.0.1:8001\"\n",
       5, 8, "listener[1].name", R"(listener name "a" is already used by listener[0] (line 2))"},
      {"duplicate address", two_listeners_head + "[[listener]]\nname = \"b\"\naddress = \"127.0.0.1:8000\"\n",
       6, 11, "listener[1].address",
       "address 127.0.0.1:8000 conflicts with listener[0] on 127.0.0.1:8000 (line 3)"},
      {"wildcard overlaps a specific address",
       two_listeners_head + "[[listener]]\nname = \"b\"\naddress = \"0.0.0.0:8000\"\n", 6, 11,
       "listener[1].address",
       "address 0.0.0.0:8000 conflicts with listener[0] on 127.0.0.1:8000 (line 3)"},
      {"equal IPv6 spelt differently",
       "[[listener]]\nname = \"a\"\naddress = \"[::1]:80\"\n[[listener]]\nname = \"b\"\naddress = \"[0::1]:80\"\n",
       6, 11, "listener[1].address", "address [::1]:80 conflicts with listener[0] on [::1]:80 (line 3)"},
      {"tls not a table", withListener("[[listener]]\nname = \"t\"\naddress = \"127.0.0.1:2\"\ntls = true\n"),
       4, 7, "listener[0].tls", "expected a table ([listener.tls]), got boolean true"},
      {"tls without certificates",
       withListener("[[listener]]\nname = \"t\"\naddress = \"127.0.0.1:2\"\n[listener.tls]\n"), 4, 1,
       "listener[0].tls.certificates", R"(missing required key "certificates")"},
      {"tls with no certificate",
       withListener("[[listener]]\nname = \"t\"\naddress = \"127.0.0.1:2\"\n[listener.tls]\ncertificates = []\n"),
       5, 16, "listener[0].tls.certificates", "expected at least one certificate, got an empty array"},
      {"certificate not a table",
       withListener("[[listener]]\nname = \"t\"\naddress = \"127.0.0.1:2\"\n[listener.tls]\ncertificates = [\"a.pem\"]\n"),
       5, 17, "listener[0].tls.certificates[0]",
       R"(expected a table such as { cert = "a.pem", key = "a.key" }, got string "a.pem")"},
      {"empty cert path",
       withListener("[[listener]]\nname = \"t\"\naddress = \"127.0.0.1:2\"\n[listener.tls]\n"
                    "certificates = [{ cert = \"\", key = \"a.key\" }]\n"),
       5, 26, "listener[0].tls.certificates[0].cert", R"(expected a non-empty string, got "")"},
      {"missing key path",
       withListener("[[listener]]\nname = \"t\"\naddress = \"127.0.0.1:2\"\n[listener.tls]\n"
                    "certificates = [{ cert = \"a.pem\" }]\n"),
       5, 17, "listener[0].tls.certificates[0].key", R"(missing required key "key")"},
      {"misspelt certificate key",
       withListener("[[listener]]\nname = \"t\"\naddress = \"127.0.0.1:2\"\n[listener.tls]\n"
                    "certificates = [{ crt = \"a.pem\", cert = \"a.pem\", key = \"a.key\" }]\n"),
       5, 19, "listener[0].tls.certificates[0].crt",
       R"(unknown key "crt" in a [listener.tls] certificate (did you mean "cert"?))"},
      {"bad server name",
       withListener("[[listener]]\nname = \"t\"\naddress = \"127.0.0.1:2\"\n[listener.tls]\n"
                    "certificates = [{ cert = \"a\", key = \"b\", server_names = [\"a.*\"] }]\n"),
       5, 58, "listener[0].tls.certificates[0].server_names[0]",
       R"(expected a host name such as "api.example.com" or "*.example.com", got "a.*" ('*' is allowed only as the whole first label, as in "*.example.com"))"},
      {"tls 1.0 is not offered",
       withListener("[[listener]]\nname = \"t\"\naddress = \"127.0.0.1:2\"\n[listener.tls]\n"
                    "certificates = [{ cert = \"a\", key = \"a\" }]\nmin_version = \"1.0\"\n"),
       6, 15, "listener[0].tls.min_version",
       R"(expected "1.2" or "1.3", got "1.0" (did you mean "1.2"?))"},
      {"cipher list OpenSSL rejects",
       withListener("[[listener]]\nname = \"t\"\naddress = \"127.0.0.1:2\"\n[listener.tls]\n"
                    "certificates = [{ cert = \"a\", key = \"a\" }]\nciphers = \"NOT-A-CIPHER\"\n"),
       6, 11, "listener[0].tls.ciphers",
       R"(OpenSSL accepts no cipher from this list: "NOT-A-CIPHER")"},
      {"tls 1.3 suite OpenSSL rejects",
       withListener("[[listener]]\nname = \"t\"\naddress = \"127.0.0.1:2\"\n[listener.tls]\n"
                    "certificates = [{ cert = \"a\", key = \"a\" }]\nciphersuites = \"TLS_NOPE\"\n"),
       6, 16, "listener[0].tls.ciphersuites",
       R"(OpenSSL accepts none of these TLS 1.3 ciphersuites: "TLS_NOPE")"},
      {"client_verify without client_ca",
       withListener("[[listener]]\nname = \"t\"\naddress = \"127.0.0.1:2\"\n[listener.tls]\n"
                    "certificates = [{ cert = \"a\", key = \"a\" }]\nclient_verify = \"optional\"\n"),
       6, 17, "listener[0].tls.client_verify",
       "client_verify needs client_ca (the CAs to verify against)"},
      {"ticket rotation too fast",
       withListener("[[listener]]\nname = \"t\"\naddress = \"127.0.0.1:2\"\n[listener.tls]\n"
                    "certificates = [{ cert = \"a\", key = \"a\" }]\nsession_ticket_rotation = \"1s\"\n"),
       6, 27, "listener[0].tls.session_ticket_rotation",
       R"(expected a duration in 1m..168h, got "1s")"},
      {"server name claimed twice",
       withListener("[[listener]]\nname = \"t\"\naddress = \"127.0.0.1:2\"\n[listener.tls]\ncertificates = [\n"
                    "  { cert = \"a\", key = \"a\", server_names = [\"x.example\"] },\n"
                    "  { cert = \"b\", key = \"b\", server_names = [\"X.example\"] },\n]\n"),
       7, 44, "listener[0].tls.certificates[1].server_names[0]",
       R"(server name "x.example" is already used by certificates[0])"},
      {"max_connections zero",
       withListener("[[listener]]\nname = \"t\"\naddress = \"127.0.0.1:2\"\n[listener.limits]\nmax_connections = 0\n"),
       5, 19, "listener[0].limits.max_connections", "expected an integer in 1..1048576, got 0"},
      {"max_header_bytes too small",
       withListener("[[listener]]\nname = \"t\"\naddress = \"127.0.0.1:2\"\n[listener.limits]\nmax_header_bytes = \"512\"\n"),
       5, 20, "listener[0].limits.max_header_bytes", R"(expected a size in 1KiB..1MiB, got "512")"},
      {"max_body_bytes zero",
       withListener("[[listener]]\nname = \"t\"\naddress = \"127.0.0.1:2\"\n[listener.limits]\nmax_body_bytes = 0\n"),
       5, 18, "listener[0].limits.max_body_bytes", "expected a size of at least 1, got 0"},
      {"misspelt limit",
       withListener("[[listener]]\nname = \"t\"\naddress = \"127.0.0.1:2\"\n[listener.limits]\nmax_conections = 5\n"),
       5, 1, "listener[0].limits.max_conections",
       R"(unknown key "max_conections" in [listener.limits] (did you mean "max_connections"?))"},
      {"idle timeout zero",
       withListener("[[listener]]\nname = \"t\"\naddress = \"127.0.0.1:2\"\n[listener.timeouts]\nidle = \"0s\"\n"),
       5, 8, "listener[0].timeouts.idle", R"(expected a duration of at least 1ms, got "0s")"},
      {"request timeout too small",
       withListener("[[listener]]\nname = \"t\"\naddress = \"127.0.0.1:2\"\n[listener.timeouts]\nrequest = \"10us\"\n"),
       5, 11, "listener[0].timeouts.request",
       R"(expected "0s" (off) or a duration of at least 1ms, got "10us")"},
  };
  for (const InvalidCase& c : cases) expectSingleError(c);
}

TEST(LoaderInvalid, RouteSection) {
  // A cluster "backend" and the listener "l" exist in every case; the route comes first.
  auto route = [](std::string_view body) {
    return withListener(std::string("[[route]]\n") + std::string(body) +
                        "\n[[cluster]]\nname = \"backend\"\nendpoints = [\"127.0.0.1:9000\"]\n");
  };
  const std::vector<InvalidCase> cases = {
      {"missing cluster", route("cluster = \"backnd\""), 2, 11, "route[0].cluster",
       R"(no cluster named "backnd" (did you mean "backend"?))"},
      {"cluster far from any name", route("cluster = \"payments\""), 2, 11, "route[0].cluster",
       R"(no cluster named "payments" (expected one of: "backend"))"},
      {"missing listener", route("listener = \"k\"\ncluster = \"backend\""), 2, 12,
       "route[0].listener", R"(no listener named "k" (expected one of: "l"))"},
      {"no target", route("path_prefix = \"/\""), 1, 1, "route[0]",
       R"(expected "cluster" or "direct_response": a route needs a target)"},
      {"two targets", route("cluster = \"backend\"\ndirect_response = { status = 200 }"), 3, 19,
       "route[0].direct_response",
       "cluster and direct_response cannot both be set: expected one of them"},
      {"two path matches", route("path_prefix = \"/\"\npath_exact = \"/a\"\ncluster = \"backend\""), 3,
       14, "route[0].path_exact", "path_prefix and path_exact cannot both be set: expected one of them"},
      {"relative path", route("path_prefix = \"api\"\ncluster = \"backend\""), 2, 15,
       "route[0].path_prefix", R"(expected a path such as "/" or "/api/", got "api" (must start with "/"))"},
      {"path with query", route("path_exact = \"/a?b=1\"\ncluster = \"backend\""), 2, 14,
       "route[0].path_exact",
       R"(expected a path such as "/" or "/api/", got "/a?b=1" (must not contain '?' or '#': only the path is matched))"},
      {"host with port", route("host = \"a.example:80\"\ncluster = \"backend\""), 2, 8, "route[0].host",
       R"(expected a host name such as "api.example.com" or "*.example.com", got "a.example:80" (no port: the port is ignored when matching))"},
      {"misspelt route key", route("hots = \"a.example\"\ncluster = \"backend\""), 2, 1, "route[0].hots",
       R"(unknown key "hots" in [[route]] (did you mean "host"?))"},
      {"status 1xx", route("direct_response = { status = 101 }"), 2, 30,
       "route[0].direct_response.status", "expected an integer in 200..599, got 101"},
      {"missing status", route("direct_response = { body = \"x\" }"), 2, 19,
       "route[0].direct_response.status", R"(missing required key "status")"},
      {"body on 204", route("direct_response = { status = 204, body = \"x\" }"), 2, 42,
       "route[0].direct_response.body", R"(status 204 must not have a body: expected "" or no body key)"},
      {"direct response as string", route("direct_response = \"ok\""), 2, 19,
       "route[0].direct_response", R"(expected a table ({ status = 200, body = "ok" }), got string "ok")"},
      {"body too large", route("direct_response = { status = 200, body = \"" + std::string(65537, 'x') + "\" }"),
       2, 42, "route[0].direct_response.body", "expected a body of at most 64KiB, got 65537 bytes"},
      {"unknown direct response key", route("direct_response = { status = 200, headers = 1 }"), 2, 35,
       "route[0].direct_response.headers",
       R"(unknown key "headers" in direct_response (expected one of: status, body))"},
      {"duplicate route name",
       route("name = \"r\"\ncluster = \"backend\"\n[[route]]\nname = \"r\"\npath_exact = \"/x\"\ncluster = \"backend\""),
       5, 8, "route[1].name", R"(route name "r" is already used by route[0] (line 2))"},
      {"unreachable duplicate route",
       route("host = \"a.example\"\ncluster = \"backend\"\n[[route]]\nhost = \"A.example\"\ndirect_response = { status = 404 }"),
       4, 1, "route[1]",
       "route matches exactly the same requests as route[0] (line 1), which comes first, so it can never be used"},
  };
  for (const InvalidCase& c : cases) expectSingleError(c);
}

TEST(LoaderInvalid, ClusterSection) {
  auto cluster = [](std::string_view body) {
    return withListener(std::string("[[cluster]]\nname = \"c\"\n") + std::string(body) + "\n");
  };
  const std::vector<InvalidCase> cases = {
      {"missing endpoints", cluster(""), 1, 1, "cluster[0].endpoints",
       R"(missing required key "endpoints")"},
      {"empty endpoints", cluster("endpoints = []"), 3, 13, "cluster[0].endpoints",
       "expected at least one endpoint, got an empty array"},
      {"endpoints as string", cluster("endpoints = \"a:1\""), 3, 13, "cluster[0].endpoints",
       R"(expected an array of "host:port" strings, got string "a:1")"},
      {"endpoint without port", cluster("endpoints = [\"a:1\", \"backend\"]"), 3, 21,
       "cluster[0].endpoints[1]", R"(expected "host:port", got "backend")"},
      {"endpoint with port 0", cluster("endpoints = [\"a:0\"]"), 3, 14, "cluster[0].endpoints[0]",
       R"(expected "host:port", got "a:0" (port 0 is not allowed here))"},
      {"endpoint as integer", cluster("endpoints = [80]"), 3, 14, "cluster[0].endpoints[0]",
       R"(expected "host:port", got integer 80)"},
      {"duplicate endpoint", cluster("endpoints = [\"A:1\", \"a:1\"]"), 3, 21, "cluster[0].endpoints[1]",
       "endpoint a:1 is listed twice"},
      {"balancer typo", cluster("endpoints = [\"a:1\"]\nbalancer = \"round-robin\""), 4, 12,
       "cluster[0].balancer",
       R"(expected "round_robin", "least_request", "random", "consistent_hash" or "peak_ewma", got "round-robin" (did you mean "round_robin"?))"},
      {"hash key with round robin", cluster("endpoints = [\"a:1\"]\nhash_key = \"client_ip\""), 4, 12,
       "cluster[0].hash_key", R"(hash_key applies only to balancer = "consistent_hash")"},
      {"hash key without header name",
       cluster("endpoints = [\"a:1\"]\nbalancer = \"consistent_hash\"\nhash_key = \"header:\""), 5, 12,
       "cluster[0].hash_key",
       R"(expected "client_ip" or "header:<name>" such as "header:X-User", got "header:")"},
      {"hash key with bad header name",
       cluster("endpoints = [\"a:1\"]\nbalancer = \"consistent_hash\"\nhash_key = \"header:X User\""), 5, 12,
       "cluster[0].hash_key",
       R"(expected "client_ip" or "header:<name>" such as "header:X-User", got "header:X User")"},
      {"connect timeout zero", cluster("endpoints = [\"a:1\"]\n[cluster.timeouts]\nconnect = \"0s\""), 5, 11,
       "cluster[0].timeouts.connect", R"(expected a duration of at least 1ms, got "0s")"},
      {"misspelt timeout", cluster("endpoints = [\"a:1\"]\n[cluster.timeouts]\nresponse_headers = \"1s\""), 5,
       1, "cluster[0].timeouts.response_headers",
       R"(unknown key "response_headers" in [cluster.timeouts] (did you mean "response_header"?))"},
      {"negative pool size", cluster("endpoints = [\"a:1\"]\n[cluster.pool]\nmax_idle_per_worker = -1"), 5, 23,
       "cluster[0].pool.max_idle_per_worker", "expected an integer in 0..65536, got -1"},
      {"pool not a table", cluster("endpoints = [\"a:1\"]\npool = 8"), 4, 8, "cluster[0].pool",
       "expected a table ([cluster.pool]), got integer 8"},
      {"cluster tls not a table", cluster("endpoints = [\"a:1\"]\ntls = \"on\""), 4, 7,
       "cluster[0].tls", R"(expected a table ([cluster.tls]), got string "on")"},
      {"upstream tls misspelt key", cluster("endpoints = [\"a:1\"]\n[cluster.tls]\nverfy = false"), 5, 1,
       "cluster[0].tls.verfy", R"(unknown key "verfy" in [cluster.tls] (did you mean "verify"?))"},
      {"upstream tls wildcard server name",
       cluster("endpoints = [\"a:1\"]\n[cluster.tls]\nserver_name = \"*.example.com\""), 5, 15,
       "cluster[0].tls.server_name",
       R"(expected a host name such as "api.example.com", got "*.example.com")"},
      {"upstream tls cert without key",
       cluster("endpoints = [\"a:1\"]\n[cluster.tls]\ncert = \"c.pem\""), 5, 8,
       "cluster[0].tls.cert", "cert needs key (the client certificate's private key)"},
      {"upstream tls version 1.1",
       cluster("endpoints = [\"a:1\"]\n[cluster.tls]\nmin_version = \"1.1\""), 5, 15,
       "cluster[0].tls.min_version", R"(expected "1.2" or "1.3", got "1.1" (did you mean "1.2"?))"},
      {"duplicate cluster name",
       cluster("endpoints = [\"a:1\"]\n[[cluster]]\nname = \"c\"\nendpoints = [\"b:1\"]"), 5, 8,
       "cluster[1].name", R"(cluster name "c" is already used by cluster[0] (line 2))"},
      {"missing cluster name", withListener("[[cluster]]\nendpoints = [\"a:1\"]\n"), 1, 1,
       "cluster[0].name", R"(missing required key "name")"},
  };
  for (const InvalidCase& c : cases) expectSingleError(c);
}

// [cluster.health_check], [cluster.outlier_detection], [cluster.retry], [cluster.limits].
TEST(LoaderValid, ResilienceDefaultsAndEveryKey) {
  const LoadResult defaults =
      load(withListener("[[cluster]]\nname = \"c\"\nendpoints = [\"a:1\"]\n"));
  ASSERT_TRUE(defaults.ok()) << defaults.errorReport();
  const ClusterConfig& d = defaults.config()->clusters[0];
  EXPECT_FALSE(d.health_check.has_value());
  EXPECT_EQ(d.outlier_detection.consecutive_5xx, 5);
  EXPECT_EQ(d.outlier_detection.consecutive_connect_failures, 5);
  EXPECT_EQ(d.outlier_detection.base_ejection_time, seconds{30});
  EXPECT_EQ(d.outlier_detection.max_ejection_time, seconds{300});
  EXPECT_EQ(d.outlier_detection.max_ejection_percent, 50);
  EXPECT_EQ(d.retry.max_retries, 1);
  EXPECT_TRUE(d.retry.on_connect_failure);
  EXPECT_FALSE(d.retry.on_reset);
  EXPECT_TRUE(d.retry.on_statuses.empty());
  EXPECT_EQ(d.retry.budget_percent, 20);
  EXPECT_EQ(d.retry.min_retry_concurrency, 3);
  EXPECT_EQ(d.limits.max_connections, 0u);
  EXPECT_EQ(d.limits.max_requests, 0u);

  const LoadResult result = load(withListener(R"(
[[cluster]]
name = "c"
endpoints = ["a:1"]
[cluster.health_check]
path = "/healthz?full=1"
host = "health.internal"
interval = "2s"
timeout = "250ms"
healthy_threshold = 3
unhealthy_threshold = 4
expected_statuses = [200, "204-299"]
[cluster.outlier_detection]
consecutive_5xx = 7
consecutive_connect_failures = 0
base_ejection_time = "5s"
max_ejection_time = "1m"
max_ejection_percent = 100
[cluster.retry]
max_retries = 3
retry_on = ["reset", "503", "502"]
budget_percent = 50
min_retry_concurrency = 10
[cluster.limits]
max_connections = 100
max_requests = 200
)"));
  ASSERT_TRUE(result.ok()) << result.errorReport();
  const ClusterConfig& c = result.config()->clusters[0];
  ASSERT_TRUE(c.health_check.has_value());
  EXPECT_EQ(c.health_check->path, "/healthz?full=1");
  EXPECT_EQ(c.health_check->host, "health.internal");
  EXPECT_EQ(c.health_check->interval, seconds{2});
  EXPECT_EQ(c.health_check->timeout, milliseconds{250});
  EXPECT_EQ(c.health_check->healthy_threshold, 3);
  EXPECT_EQ(c.health_check->unhealthy_threshold, 4);
  EXPECT_EQ(c.health_check->expected_statuses,
            (std::vector<StatusRange>{{200, 200}, {204, 299}}));
  EXPECT_EQ(c.outlier_detection.consecutive_5xx, 7);
  EXPECT_EQ(c.outlier_detection.consecutive_connect_failures, 0);
  EXPECT_EQ(c.outlier_detection.base_ejection_time, seconds{5});
  EXPECT_EQ(c.outlier_detection.max_ejection_time, seconds{60});
  EXPECT_EQ(c.outlier_detection.max_ejection_percent, 100);
  EXPECT_EQ(c.retry.max_retries, 3);
  EXPECT_FALSE(c.retry.on_connect_failure);
  EXPECT_TRUE(c.retry.on_reset);
  EXPECT_EQ(c.retry.on_statuses, (std::vector<int>{503, 502}));
  EXPECT_EQ(c.retry.budget_percent, 50);
  EXPECT_EQ(c.retry.min_retry_concurrency, 10);
  EXPECT_EQ(c.limits.max_connections, 100u);
  EXPECT_EQ(c.limits.max_requests, 200u);

  // A health check table with no keys: probes with every default.
  const LoadResult bare = load(
      withListener("[[cluster]]\nname = \"c\"\nendpoints = [\"a:1\"]\n[cluster.health_check]\n"));
  ASSERT_TRUE(bare.ok()) << bare.errorReport();
  ASSERT_TRUE(bare.config()->clusters[0].health_check.has_value());
  EXPECT_EQ(bare.config()->clusters[0].health_check->path, "/");
  EXPECT_EQ(bare.config()->clusters[0].health_check->interval, seconds{5});
  EXPECT_EQ(bare.config()->clusters[0].health_check->expected_statuses,
            (std::vector<StatusRange>{{200, 399}}));
}

TEST(LoaderInvalid, ClusterResilienceSections) {
  auto cluster = [](std::string_view body) {
    return withListener(std::string("[[cluster]]\nname = \"c\"\nendpoints = [\"a:1\"]\n") +
                        std::string(body) + "\n");
  };
  const std::vector<InvalidCase> cases = {
      {"health check not a table", cluster("health_check = true"), 4, 16,
       "cluster[0].health_check", "expected a table ([cluster.health_check]), got boolean true"},
      {"health path without slash", cluster("[cluster.health_check]\npath = \"health\""), 5, 8,
       "cluster[0].health_check.path",
       R"(expected a request target starting with "/" and without spaces, got "health")"},
      {"health host with space", cluster("[cluster.health_check]\nhost = \"a b\""), 5, 8,
       "cluster[0].health_check.host", R"(expected a Host header value without spaces, got "a b")"},
      {"health interval too short", cluster("[cluster.health_check]\ninterval = \"10ms\""), 5, 12,
       "cluster[0].health_check.interval", R"(expected a duration of at least 100ms, got "10ms")"},
      {"health timeout zero", cluster("[cluster.health_check]\ntimeout = \"0s\""), 5, 11,
       "cluster[0].health_check.timeout", R"(expected a duration of at least 1ms, got "0s")"},
      {"healthy threshold zero", cluster("[cluster.health_check]\nhealthy_threshold = 0"), 5, 21,
       "cluster[0].health_check.healthy_threshold", "expected an integer in 1..100, got 0"},
      {"unhealthy threshold too big", cluster("[cluster.health_check]\nunhealthy_threshold = 101"),
       5, 23, "cluster[0].health_check.unhealthy_threshold",
       "expected an integer in 1..100, got 101"},
      {"expected status out of range",
       cluster("[cluster.health_check]\nexpected_statuses = [200, 600]"), 5, 27,
       "cluster[0].health_check.expected_statuses[1]",
       R"(expected a status 100..599 or a range such as "200-399", got integer 600)"},
      {"expected status range reversed",
       cluster("[cluster.health_check]\nexpected_statuses = [\"399-200\"]"), 5, 22,
       "cluster[0].health_check.expected_statuses[0]",
       R"(expected a status 100..599 or a range such as "200-399", got string "399-200")"},
      {"expected statuses empty", cluster("[cluster.health_check]\nexpected_statuses = []"), 5, 21,
       "cluster[0].health_check.expected_statuses",
       "expected at least one status, got an empty array"},
      {"misspelt health key", cluster("[cluster.health_check]\nintervall = \"1s\""), 5, 1,
       "cluster[0].health_check.intervall",
       R"(unknown key "intervall" in [cluster.health_check] (did you mean "interval"?))"},
      {"negative consecutive 5xx", cluster("[cluster.outlier_detection]\nconsecutive_5xx = -1"), 5,
       19, "cluster[0].outlier_detection.consecutive_5xx",
       "expected an integer in 0..1000, got -1"},
      {"ejection percent over 100",
       cluster("[cluster.outlier_detection]\nmax_ejection_percent = 101"), 5, 24,
       "cluster[0].outlier_detection.max_ejection_percent", "expected an integer in 0..100, got 101"},
      {"max ejection below base",
       cluster("[cluster.outlier_detection]\nbase_ejection_time = \"10s\"\nmax_ejection_time = \"5s\""),
       6, 21, "cluster[0].outlier_detection.max_ejection_time",
       "expected at least base_ejection_time (10s)"},
      {"ejection time as integer", cluster("[cluster.outlier_detection]\nbase_ejection_time = 30"),
       5, 22, "cluster[0].outlier_detection.base_ejection_time",
       R"(expected a duration string such as "10ms" or "2s", got integer 30)"},
      {"too many retries", cluster("[cluster.retry]\nmax_retries = 11"), 5, 15,
       "cluster[0].retry.max_retries", "expected an integer in 0..10, got 11"},
      {"unknown retry condition", cluster("[cluster.retry]\nretry_on = [\"reset\", \"5xx\"]"), 5,
       22, "cluster[0].retry.retry_on[1]",
       R"(expected "connect_failure", "reset" or a 5xx status such as "503", got string "5xx")"},
      {"retry on a 4xx", cluster("[cluster.retry]\nretry_on = [\"429\"]"), 5, 13,
       "cluster[0].retry.retry_on[0]",
       R"(expected "connect_failure", "reset" or a 5xx status such as "503", got string "429")"},
      {"retry on as string", cluster("[cluster.retry]\nretry_on = \"reset\""), 5, 12,
       "cluster[0].retry.retry_on",
       R"(expected an array of conditions such as "reset" or "503", got string "reset")"},
      {"budget over 100", cluster("[cluster.retry]\nbudget_percent = 150"), 5, 18,
       "cluster[0].retry.budget_percent", "expected an integer in 0..100, got 150"},
      {"negative limit", cluster("[cluster.limits]\nmax_requests = -5"), 5, 16,
       "cluster[0].limits.max_requests", "expected an integer in 0..16777216, got -5"},
      {"misspelt limit", cluster("[cluster.limits]\nmax_pending = 5"), 5, 1,
       "cluster[0].limits.max_pending",
       R"(unknown key "max_pending" in [cluster.limits] (expected one of: max_connections, max_requests))"},
  };
  for (const InvalidCase& c : cases) expectSingleError(c);
}

TEST(LoaderValid, PeakEwmaAndWeights) {
  const LoadResult result = load(withListener(
      "[[cluster]]\nname = \"c\"\nendpoints = [\"a:1\", \"b:1\"]\nbalancer = \"peak_ewma\"\n"
      "weights = [1, 3]\newma_decay = \"2s\"\n"));
  ASSERT_TRUE(result.ok()) << result.errorReport();
  const ClusterConfig& c = result.config()->clusters[0];
  EXPECT_EQ(c.balancer, BalancerKind::kPeakEwma);
  EXPECT_EQ(c.weights, (std::vector<uint32_t>{1, 3}));
  EXPECT_EQ(c.ewma_decay, seconds{2});
  EXPECT_EQ(toString(c.balancer), "peak_ewma");
}

TEST(LoaderInvalid, HealthChecksOverTlsAreRefused) {
  expectSingleError({"health check on a TLS cluster",
                     withListener("[[cluster]]\nname = \"c\"\nendpoints = [\"a:1\"]\n"
                                  "[cluster.tls]\nverify = false\n[cluster.health_check]\n"),
                     6, 1, "cluster[0].health_check",
                     "health checks over TLS are not supported yet: remove "
                     "[cluster.health_check] or [cluster.tls]"});
}

TEST(LoaderInvalid, WeightsAndEwmaDecay) {
  auto cluster = [](std::string_view body) {
    return withListener(std::string("[[cluster]]\nname = \"c\"\nendpoints = [\"a:1\", \"b:1\"]\n") +
                        std::string(body) + "\n");
  };
  const std::vector<InvalidCase> cases = {
      {"weight zero", cluster("weights = [1, 0]"), 4, 15, "cluster[0].weights[1]",
       "expected an integer in 1..1000, got integer 0"},
      {"weight as string", cluster("weights = [\"1\", 2]"), 4, 12, "cluster[0].weights[0]",
       R"(expected an integer in 1..1000, got string "1")"},
      {"too few weights", cluster("weights = [1]"), 4, 11, "cluster[0].weights",
       "expected one weight per endpoint (2), got 1"},
      {"ewma decay without peak_ewma", cluster("ewma_decay = \"5s\""), 4, 14,
       "cluster[0].ewma_decay", R"(ewma_decay applies only to balancer = "peak_ewma")"},
  };
  for (const InvalidCase& c : cases) expectSingleError(c);
}

TEST(LoaderValid, ListenerProxyProtocol) {
  EXPECT_FALSE(load(kListener).config()->listeners[0].proxy_protocol);
  const LoadResult result = load(
      "[[listener]]\nname = \"l\"\naddress = \"127.0.0.1:8000\"\nproxy_protocol = true\n");
  ASSERT_TRUE(result.ok()) << result.errorReport();
  EXPECT_TRUE(result.config()->listeners[0].proxy_protocol);
  const LoadResult bad = load(
      "[[listener]]\nname = \"l\"\naddress = \"127.0.0.1:8000\"\nproxy_protocol = \"v2\"\n");
  ASSERT_EQ(bad.errors().size(), 1u) << bad.errorReport();
  EXPECT_EQ(bad.errors()[0].line, 4);
  EXPECT_EQ(bad.errors()[0].column, 18);
  EXPECT_EQ(bad.errors()[0].key_path, "listener[0].proxy_protocol");
  EXPECT_EQ(bad.errors()[0].message, R"(expected true or false, got string "v2")");
}

TEST(LoaderValid, ListenerForwarded) {
  EXPECT_EQ(load(kListener).config()->listeners[0].forwarded,
            ListenerConfig::Forwarded::kXForwarded);
  const LoadResult both = load(
      "[[listener]]\nname = \"l\"\naddress = \"127.0.0.1:8000\"\nforwarded = \"both\"\n");
  ASSERT_TRUE(both.ok()) << both.errorReport();
  EXPECT_EQ(both.config()->listeners[0].forwarded, ListenerConfig::Forwarded::kBoth);
  const LoadResult bad = load(
      "[[listener]]\nname = \"l\"\naddress = \"127.0.0.1:8000\"\nforwarded = \"rfc-7239\"\n");
  ASSERT_EQ(bad.errors().size(), 1u) << bad.errorReport();
  EXPECT_EQ(bad.errors()[0].column, 13);
  EXPECT_EQ(bad.errors()[0].key_path, "listener[0].forwarded");
  EXPECT_EQ(bad.errors()[0].message,
            R"(expected "x-forwarded", "rfc7239" or "both", got "rfc-7239" (did you mean "rfc7239"?))");
}

TEST(LoaderValid, DnsRefresh) {
  const LoadResult defaults =
      load(withListener("[[cluster]]\nname = \"c\"\nendpoints = [\"a:1\"]\n"));
  ASSERT_TRUE(defaults.ok()) << defaults.errorReport();
  EXPECT_EQ(defaults.config()->clusters[0].dns_refresh, seconds{5});
  const LoadResult set = load(
      withListener("[[cluster]]\nname = \"c\"\nendpoints = [\"a:1\"]\ndns_refresh = \"30s\"\n"));
  ASSERT_TRUE(set.ok()) << set.errorReport();
  EXPECT_EQ(set.config()->clusters[0].dns_refresh, seconds{30});
  expectSingleError({"dns refresh too short",
                     withListener("[[cluster]]\nname = \"c\"\nendpoints = [\"a:1\"]\n"
                                  "dns_refresh = \"10ms\"\n"),
                     4, 15, "cluster[0].dns_refresh",
                     R"(expected a duration of at least 100ms, got "10ms")"});
}

TEST(LoaderValid, SendProxyProtocol) {
  const LoadResult defaults =
      load(withListener("[[cluster]]\nname = \"c\"\nendpoints = [\"a:1\"]\n"));
  ASSERT_TRUE(defaults.ok()) << defaults.errorReport();
  EXPECT_EQ(defaults.config()->clusters[0].send_proxy_protocol,
            ClusterConfig::SendProxyProtocol::kOff);
  const LoadResult v2 = load(withListener(
      "[[cluster]]\nname = \"c\"\nendpoints = [\"a:1\"]\nsend_proxy_protocol = \"v2\"\n"));
  ASSERT_TRUE(v2.ok()) << v2.errorReport();
  EXPECT_EQ(v2.config()->clusters[0].send_proxy_protocol, ClusterConfig::SendProxyProtocol::kV2);
  expectSingleError({"send_proxy_protocol as boolean",
                     withListener("[[cluster]]\nname = \"c\"\nendpoints = [\"a:1\"]\n"
                                  "send_proxy_protocol = true\n"),
                     4, 23, "cluster[0].send_proxy_protocol", "expected a string, got boolean true"});
}

TEST(LoaderValid, OverloadSection) {
  EXPECT_FALSE(load(kListener).config()->overload.has_value());
  const LoadResult result = load(withListener(
      "[overload]\nsched_latency_threshold = \"2ms\"\nwindow = \"500ms\"\ntrip_after = 3\n"
      "recover_after = 7\n"));
  ASSERT_TRUE(result.ok()) << result.errorReport();
  const OverloadConfig& o = *result.config()->overload;
  EXPECT_EQ(o.sched_latency_threshold, milliseconds{2});
  EXPECT_EQ(o.window, milliseconds{500});
  EXPECT_EQ(o.trip_after, 3);
  EXPECT_EQ(o.recover_after, 7);
  const LoadResult bare = load(withListener("[overload]\n"));
  ASSERT_TRUE(bare.ok()) << bare.errorReport();
  EXPECT_EQ(bare.config()->overload->sched_latency_threshold, milliseconds{20});
  EXPECT_EQ(bare.config()->overload->window, milliseconds{250});
}

TEST(LoaderInvalid, OverloadSection) {
  const std::vector<InvalidCase> cases = {
      {"overload not a table", withListener("overload = true"), 1, 12, "overload",
       "expected a table ([overload]), got boolean true"},
      {"threshold above the histogram", withListener("[overload]\nsched_latency_threshold = \"1s\""),
       2, 27, "overload.sched_latency_threshold",
       R"(expected a duration in 100us..100ms, got "1s")"},
      {"window too short", withListener("[overload]\nwindow = \"1ms\""), 2, 10, "overload.window",
       R"(expected a duration in 10ms..1m, got "1ms")"},
      {"trip_after zero", withListener("[overload]\ntrip_after = 0"), 2, 14, "overload.trip_after",
       "expected an integer in 1..1000, got 0"},
      {"misspelt key", withListener("[overload]\nrecover = 3"), 2, 1, "overload.recover",
       R"(unknown key "recover" in [overload] (expected one of: sched_latency_threshold, window, trip_after, recover_after))"},
  };
  for (const InvalidCase& c : cases) expectSingleError(c);
}

// Key paths follow positions in the file even when an array element is skipped as
// invalid: the third element stays "listener[2]".
TEST(LoaderInvalid, KeyPathsKeepFileIndicesPastSkippedElements) {
  const LoadResult result = load(
      "listener = [1, { name = \"a\", address = \"127.0.0.1:1\" },\n"
      "            { name = \"a\", address = \"127.0.0.1:1\" }]\n");
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.errors().size(), 3u) << result.errorReport();
  EXPECT_EQ(result.errors()[0].key_path, "listener[0]");
  EXPECT_EQ(result.errors()[1].key_path, "listener[2].name");
  EXPECT_EQ(result.errors()[1].message, R"(listener name "a" is already used by listener[1] (line 1))");
  EXPECT_EQ(result.errors()[2].key_path, "listener[2].address");
  EXPECT_EQ(result.errors()[2].message,
            "address 127.0.0.1:1 conflicts with listener[1] on 127.0.0.1:1 (line 1)");
}

TEST(LoaderInvalid, TomlSyntaxErrorKeepsTomlsPosition) {
  const LoadResult result = load("[runtime]\nworkers = = 4\n");
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.errors().size(), 1u);
  const ConfigError& error = result.errors()[0];
  EXPECT_EQ(error.line, 2);
  EXPECT_EQ(error.column, 11);
  EXPECT_EQ(error.key_path, "");
  EXPECT_EQ(error.message.rfind("invalid TOML: ", 0), 0u) << error.message;

  const LoadResult redefined = load("a = 1\na = 2\n");
  ASSERT_FALSE(redefined.ok());
  EXPECT_EQ(redefined.errors()[0].line, 2);
  EXPECT_EQ(redefined.errors()[0].message.rfind("invalid TOML: ", 0), 0u);
}

TEST(LoaderInvalid, ColumnsCountCharactersNotBytes) {
  // "é" is two bytes in UTF-8 but one column in an editor; toml++ counts code points.
  const LoadResult inline_table = load(
      "[[listener]]\nname = \"l\"\naddress = \"127.0.0.1:1\"\n"
      "limits = { max_header_bytes = \"é\", max_body_bytes = \"x\" }\n");
  ASSERT_FALSE(inline_table.ok());
  ASSERT_EQ(inline_table.errors().size(), 2u);
  EXPECT_EQ(inline_table.errors()[1].key_path, "listener[0].limits.max_body_bytes");
  EXPECT_EQ(inline_table.errors()[1].column, 53);
}

// ---- Whole-file behaviour -----------------------------------------------------------------

// One file with many unrelated problems: every one is reported, in file order.
TEST(LoaderInvalid, ReportsEveryErrorInOneRun) {
  const LoadResult result =
      loadConfigFile("tests/testdata/config/many_errors.toml", fourCpus());
  ASSERT_FALSE(result.ok());
  struct Expected {
    int line;
    int column;
    std::string key_path;
  };
  const std::vector<Expected> expected = {
      {4, 1, "runtime.wokers"},
      {5, 16, "runtime.cpu_affinity"},
      {6, 17, "runtime.affinity_mode"},
      {7, 14, "runtime.stack_size"},
      {10, 9, "log.level"},
      {14, 11, "listener[0].address"},
      {18, 8, "listener[1].name"},
      {19, 11, "listener[1].address"},
      {22, 26, "listener[1].tls.certificates[0].cert"},
      {25, 12, "route[0].listener"},
      {26, 15, "route[0].path_prefix"},
      {27, 11, "route[0].cluster"},
      {29, 1, "route[1]"},
      {34, 32, "cluster[0].endpoints[1]"},
      {35, 12, "cluster[0].balancer"},
  };
  ASSERT_EQ(result.errors().size(), expected.size()) << result.errorReport();
  for (size_t i = 0; i < expected.size(); ++i) {
    const ConfigError& error = result.errors()[i];
    EXPECT_EQ(error.file, "tests/testdata/config/many_errors.toml");
    EXPECT_EQ(error.line, expected[i].line) << error.toString();
    EXPECT_EQ(error.column, expected[i].column) << error.toString();
    EXPECT_EQ(error.key_path, expected[i].key_path) << error.toString();
  }
}

TEST(LoaderFile, LoadsTestdataFileAndHashesItsBytes) {
  const std::string path = "tests/testdata/config/minimal.toml";
  const LoadResult result = loadConfigFile(path, fourCpus());
  ASSERT_TRUE(result.ok()) << result.errorReport();
  EXPECT_EQ(result.config()->source_name, path);
  EXPECT_EQ(result.config()->hash, contentHash(result.config()->source_text));
  EXPECT_FALSE(result.config()->source_text.empty());
}

TEST(LoaderFile, MissingFileIsOneWholeFileError) {
  const LoadResult result = loadConfigFile("tests/testdata/config/does_not_exist.toml");
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.errors().size(), 1u);
  const ConfigError& error = result.errors()[0];
  EXPECT_EQ(error.line, 0);
  EXPECT_EQ(error.toString(),
            "tests/testdata/config/does_not_exist.toml: cannot open the config file: "
            "No such file or directory");
}

TEST(LoaderFile, RefusesEndlessInput) {
  // /dev/zero never ends: the size cap, not memory, must stop the read.
  const LoadResult result = loadConfigFile("/dev/zero");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.errors()[0].message, "the config file is larger than 16MiB");
}

// The example shipped in deploy/ documents every key: it must stay loadable. It assumes a
// host with at least 4 CPUs (cpu_affinity = "0-3"), hence the injected CPU set.
TEST(LoaderFile, DeployExampleLoadsWithoutErrors) {
  const LoadResult result = loadConfigFile("deploy/switchyard.toml", fourCpus());
  ASSERT_TRUE(result.ok()) << result.errorReport();
  const Config& config = *result.config();
  EXPECT_EQ(config.runtime.workers, 4);
  EXPECT_EQ(config.runtime.cpu_affinity, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(config.listeners.size(), 2u);
  EXPECT_TRUE(config.listeners[0].tls.has_value());
  EXPECT_EQ(config.routes.size(), 3u);
  EXPECT_EQ(config.clusters.size(), 2u);
}

// Every key documented in docs/CONFIG.md appears (uncommented) in the deploy example, so
// the round trip above covers the whole schema.
TEST(LoaderFile, DeployExampleUsesEveryKey) {
  const LoadResult result = loadConfigFile("deploy/switchyard.toml", fourCpus());
  ASSERT_TRUE(result.ok()) << result.errorReport();
  const std::string& text = result.config()->source_text;
  const std::vector<std::string> keys = {
      "workers", "cpu_affinity", "affinity_mode", "poller_handoff_interval", "netpoll_batch",
      "stack_size", "schedtrace", "scheddetail", "[admin]", "address", "[log]", "access",
      "access_format", "level", "[process]", "drain_timeout", "[[listener]]", "name",
      "[listener.tls]", "certificates",
      "cert", "key", "server_names", "[listener.limits]", "max_connections",
      "max_header_bytes", "max_body_bytes", "[listener.timeouts]", "header_read", "idle",
      "request", "[[route]]", "listener", "host", "path_prefix", "path_exact", "cluster",
      "direct_response", "status", "body", "[[cluster]]", "endpoints", "balancer", "hash_key",
      "[cluster.timeouts]", "connect", "response_header", "[cluster.pool]",
      "max_idle_per_worker", "min_version", "ciphers", "ciphersuites", "session_tickets",
      "session_ticket_rotation", "session_cache_size", "session_timeout", "client_ca",
      "client_verify", "[cluster.tls]", "ca", "verify", "server_name"};
  for (const std::string& key : keys) {
    // At the start of a line (a key or table header) or inside an inline table.
    const bool as_line = text.find("\n" + key + " ") != std::string::npos ||
                         text.find("\n" + key + "\n") != std::string::npos;
    const bool inline_key = text.find("{ " + key + " = ") != std::string::npos ||
                            text.find(", " + key + " = ") != std::string::npos;
    EXPECT_TRUE(as_line || inline_key) << key;
  }
}

// The same for the resilience tables (a separate list, so that the schema's other
// sections can grow without touching this one).
TEST(LoaderFile, DeployExampleUsesEveryResilienceKey) {
  const LoadResult result = loadConfigFile("deploy/switchyard.toml", fourCpus());
  ASSERT_TRUE(result.ok()) << result.errorReport();
  const std::string& text = result.config()->source_text;
  const std::vector<std::string> keys = {
      "[cluster.health_check]", "path", "host", "interval", "timeout", "healthy_threshold",
      "unhealthy_threshold", "expected_statuses", "[cluster.outlier_detection]",
      "consecutive_5xx", "consecutive_connect_failures", "base_ejection_time",
      "max_ejection_time", "max_ejection_percent", "[cluster.retry]", "max_retries",
      "retry_on", "budget_percent", "min_retry_concurrency", "[cluster.limits]",
      "max_connections", "max_requests", "[overload]", "sched_latency_threshold", "window",
      "trip_after", "recover_after", "weights", "ewma_decay", "proxy_protocol", "forwarded", "dns_refresh",
      "send_proxy_protocol"};
  for (const std::string& key : keys) {
    EXPECT_TRUE(text.find("\n" + key + " ") != std::string::npos ||
                text.find("\n" + key + "\n") != std::string::npos)
        << key;
  }
  const ClusterConfig& api = result.config()->clusters[0];
  const ClusterConfig& statics = result.config()->clusters[1];
  ASSERT_TRUE(statics.health_check.has_value());
  EXPECT_EQ(statics.health_check->path, "/healthz");
  EXPECT_EQ(api.retry.on_statuses, std::vector<int>{503});
  EXPECT_EQ(api.limits.max_requests, 1024u);
}

TEST(ConfigErrorFormat, MatchesCompilerStyle) {
  const ConfigError error{"switchyard.toml", 12, 9, "listener[0].address",
                          R"(expected "host:port", got "8080")"};
  EXPECT_EQ(error.toString(),
            R"(switchyard.toml:12:9: listener[0].address: expected "host:port", got "8080")");
  const ConfigError whole_file{"x.toml", 0, 0, "listener", "at least one [[listener]] is required"};
  EXPECT_EQ(whole_file.toString(), "x.toml: listener: at least one [[listener]] is required");
  const ConfigError syntax{"x.toml", 3, 1, "", "invalid TOML: oops"};
  EXPECT_EQ(syntax.toString(), "x.toml:3:1: invalid TOML: oops");
}

TEST(LoadResultReport, OneLinePerError) {
  const LoadResult result = load(withListener("[runtime]\nworkers = 0\nnetpoll_batch = 0\n"));
  ASSERT_EQ(result.errors().size(), 2u);
  EXPECT_EQ(result.errorReport(),
            "test.toml:2:11: runtime.workers: expected an integer in 1..256, got 0\n"
            "test.toml:3:17: runtime.netpoll_batch: expected an integer in 1..65536, got 0\n");
  EXPECT_EQ(load(kListener).errorReport(), "");
  EXPECT_TRUE(load(kListener).errors().empty());
}

TEST(ContentHash, IsFnv1a64InHex) {
  // Reference values of FNV-1a 64 (draft-eastlake-fnv test vectors).
  EXPECT_EQ(contentHash(""), "cbf29ce484222325");
  EXPECT_EQ(contentHash("a"), "af63dc4c8601ec8c");
  EXPECT_EQ(contentHash("foobar"), "85944171f73967e8");
}

TEST(CpusAllowedForProcess, MatchesTheKernelsView) {
  const std::vector<int> cpus = cpusAllowedForProcess();
  ASSERT_FALSE(cpus.empty());
  EXPECT_TRUE(std::is_sorted(cpus.begin(), cpus.end()));
  // Without injection, the loader checks against this same set.
  const auto withAffinity = [](int cpu) {
    return withListener("[runtime]\ncpu_affinity = \"" + std::to_string(cpu) + "\"\n");
  };
  const LoadResult allowed = loadConfigString(withAffinity(cpus.front()), "t");
  EXPECT_TRUE(allowed.ok()) << allowed.errorReport();
  if (cpus.back() < kMaxCpuId) {
    const LoadResult outside = loadConfigString(withAffinity(kMaxCpuId), "t");
    ASSERT_FALSE(outside.ok());
    EXPECT_EQ(outside.errors()[0].key_path, "runtime.cpu_affinity");
  }
}

}  // namespace
}  // namespace switchyard::config
