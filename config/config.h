// Config: the validated, immutable snapshot of one switchyard.toml.
//
// This header owns the schema only: plain structs whose fields mirror the TOML keys
// documented in docs/CONFIG.md, already parsed into the types the rest of the program
// wants (durations as std::chrono::nanoseconds, sizes as bytes, addresses as host + port,
// enums instead of strings). It knows nothing of TOML (config/loader.cc is the sole
// includer of toml++), nothing of sockets and nothing of HTTP.
//
// Ownership: a Config is built once by the loader, published as
// std::shared_ptr<const Config>, and never modified afterwards. Readers on any thread may
// hold it as long as they like (an in-flight request finishes on the snapshot it started
// with); a reload publishes a new snapshot instead of editing this one (config/reload.h).
//
// Field defaults below are the documented defaults: a key that is absent from the file
// keeps the value written here. Keep docs/CONFIG.md in step when changing one.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace switchyard::config {

inline constexpr uint64_t kKiB = 1024;
inline constexpr uint64_t kMiB = 1024 * kKiB;

// How the runtime applies `runtime.cpu_affinity` to its Ms (OS threads).
enum class AffinityMode {
  kNone,    // never call sched_setaffinity; cpu_affinity must then be left unset
  kSpread,  // every M may run on any CPU of the set; the kernel balances within it
  kPin,     // P i's M is bound to CPU set[i % set.size()]
};

// What an address's host part turned out to be. Listener and admin addresses are always
// IP literals; only cluster endpoints may be names (resolved later, by the proxy).
enum class HostKind { kIpv4, kIpv6, kName };

// A syntactically valid "host:port". IPv6 hosts are stored without brackets and in the
// canonical text form (so "[0::1]" and "[::1]" compare equal); names are lower-cased.
struct HostPort {
  std::string host;
  uint16_t port = 0;  // 0 only where allowed: listeners/admin, meaning "any free port"
  HostKind kind = HostKind::kIpv4;

  // "1.2.3.4:80", "[::1]:80", "backend.internal:80".
  std::string toString() const {
    std::string text = kind == HostKind::kIpv6 ? "[" + host + "]" : host;
    return text + ":" + std::to_string(port);
  }
  bool operator==(const HostPort&) const = default;
};

// [runtime]: the Go-style scheduler's knobs. Applied by the runtime, not by config/.
struct RuntimeConfig {
  // Number of Ps. nullopt: the runtime uses the CPUs usable by the process (affinity
  // and cgroup CPU quota); config/ cannot know the quota and does not guess it.
  std::optional<int> workers;
  // Sorted, unique CPU ids. Empty: every CPU the process may use.
  std::vector<int> cpu_affinity;
  AffinityMode affinity_mode = AffinityMode::kSpread;
  // Longest time the network may go unpolled while every P is busy (Go hard-codes 10ms).
  std::chrono::nanoseconds poller_handoff_interval = std::chrono::milliseconds{10};
  // Events taken from the poller per epoll_wait/kevent call.
  int netpoll_batch = 512;
  // Bytes per G stack (a multiple of the 4 KiB page; a guard page is added on top).
  uint64_t stack_size = 64 * kKiB;
  // Period of Go-format SCHED lines on stderr; zero = off.
  std::chrono::nanoseconds schedtrace{0};
  // With schedtrace: also print one line per P, M and G (Go's scheddetail=1).
  bool scheddetail = false;
};

// [admin]: /metrics, /healthz, /readyz, /debug/sched, /config.
struct AdminConfig {
  HostPort address{"127.0.0.1", 9901, HostKind::kIpv4};
};

// [process]: the process's lifecycle.
struct ProcessConfig {
  // SIGTERM/SIGINT: how long in-flight requests may run after accepting stops; then
  // the process exits anyway. Zero closes every connection at once.
  std::chrono::nanoseconds drain_timeout = std::chrono::seconds{30};
};

enum class AccessLogTarget { kStdout, kStderr, kFile, kOff };
enum class AccessLogFormat { kJson, kCombined };
enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError };

// [log]
struct LogConfig {
  AccessLogTarget access_target = AccessLogTarget::kStdout;
  std::string access_path;  // set only when access_target == kFile
  AccessLogFormat access_format = AccessLogFormat::kJson;
  LogLevel level = LogLevel::kInfo;
};

// One certificate of [listener.tls]. Paths are only checked to be non-empty here: the
// TLS layer reads (and re-reads on reload) the files and reports their errors.
struct TlsCertificate {
  std::string cert_path;
  std::string key_path;
  // SNI names ("a.example", "*.example.com"), lower-cased. Empty: used only as the
  // default certificate. The first certificate is the default when no name matches.
  std::vector<std::string> server_names;
};

enum class TlsVersion { kTls12, kTls13 };
// With [listener.tls] client_ca: whether a client must present a certificate.
enum class ClientVerify { kRequire, kOptional };

// ECDHE with AEAD ciphers only (Mozilla's "intermediate" TLS 1.2 list without DHE, which
// would need DH parameters): forward secrecy, no CBC, no RSA key exchange.
inline constexpr std::string_view kDefaultTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
// OpenSSL's own TLS 1.3 default, written out so /config shows what is offered.
inline constexpr std::string_view kDefaultTls13Ciphersuites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

// [listener.tls]
struct TlsConfig {
  std::vector<TlsCertificate> certificates;  // at least one
  TlsVersion min_version = TlsVersion::kTls12;  // TLS 1.0 and 1.1 are never offered
  std::string ciphers{kDefaultTls12Ciphers};            // TLS 1.2, OpenSSL list syntax
  std::string ciphersuites{kDefaultTls13Ciphersuites};  // TLS 1.3
  // Stateless resumption: tickets sealed with keys the proxy rotates every
  // session_ticket_rotation; a ticket stays usable for session_timeout.
  bool session_tickets = true;
  std::chrono::nanoseconds session_ticket_rotation = std::chrono::hours{1};
  // Stateful resumption (TLS 1.2 session ids): sessions remembered per listener; 0 = off.
  uint64_t session_cache_size = 20000;
  std::chrono::nanoseconds session_timeout = std::chrono::minutes{5};
  // PEM bundle of CAs whose client certificates are accepted (mTLS); empty = no
  // client certificate is asked for.
  std::string client_ca;
  ClientVerify client_verify = ClientVerify::kRequire;
};

// [cluster.tls]: TLS to the cluster's endpoints.
struct UpstreamTlsConfig {
  // PEM bundle of trusted CAs; empty = the system's default trust store.
  std::string ca;
  bool verify = true;  // verify the endpoint's certificate chain and name
  // SNI and the name verified; empty = the endpoint's host when it is a name (an
  // IP endpoint is then verified by IP address).
  std::string server_name;
  TlsVersion min_version = TlsVersion::kTls12;
  // A client certificate for upstreams that require one (both or neither).
  std::string cert_path;
  std::string key_path;
};

// [listener.limits]
struct ListenerLimits {
  uint64_t max_connections = 10000;
  uint64_t max_header_bytes = 64 * kKiB;
  std::optional<uint64_t> max_body_bytes;  // nullopt: no limit (bodies are streamed)
};

// [listener.timeouts]. A zero duration means "no limit" where the docs allow zero.
struct ListenerTimeouts {
  // From the first byte of a request to the end of its headers.
  std::chrono::nanoseconds header_read = std::chrono::seconds{10};
  // A keep-alive connection waiting for its next request.
  std::chrono::nanoseconds idle = std::chrono::seconds{60};
  // The whole request/response exchange; zero = off (long downloads, streaming).
  std::chrono::nanoseconds request{0};
};

// [[listener]]
struct ListenerConfig {
  std::string name;
  HostPort address;
  std::optional<TlsConfig> tls;  // nullopt: plain HTTP
  ListenerLimits limits;
  ListenerTimeouts timeouts;
  // Every connection starts with a PROXY protocol v1 or v2 header (from a balancer in
  // front); its source address is the client's for X-Forwarded-For and the access log.
  // A connection without a valid header is closed.
  bool proxy_protocol = false;
  // Which forwarding fields requests to upstreams get: X-Forwarded-For/-Proto/-Host,
  // RFC 7239's Forwarded, or both.
  enum class Forwarded { kXForwarded, kRfc7239, kBoth };
  Forwarded forwarded = Forwarded::kXForwarded;
};

// A route's target: a cluster, resolved to its index in Config::clusters so the router
// never looks names up per request.
struct ClusterTarget {
  std::string cluster;
  size_t cluster_index = 0;
};

// A route's target: a fixed response served by the proxy itself.
struct DirectResponse {
  int status = 200;
  std::string body;
};

enum class PathMatch { kPrefix, kExact };

// [[route]]. Routes are tried in file order; the first match wins.
struct RouteConfig {
  // From the file, or "route[N]" (N = position in the file) when absent.
  std::string name;
  std::optional<std::string> listener;  // nullopt: every listener
  std::optional<std::string> host;      // nullopt: any host; lower-cased; "*.x" = suffix
  PathMatch path_match = PathMatch::kPrefix;
  std::string path = "/";
  std::variant<ClusterTarget, DirectResponse> action;
};

enum class BalancerKind { kRoundRobin, kLeastRequest, kRandom, kConsistentHash, kPeakEwma };

// What consistent_hash hashes: the client's IP address or one request header.
struct HashKey {
  enum class Source { kClientIp, kHeader };
  Source source = Source::kClientIp;
  std::string header;  // kHeader only; as written (HTTP header names are case-insensitive)
};

// [cluster.timeouts]
struct ClusterTimeouts {
  std::chrono::nanoseconds connect = std::chrono::seconds{5};
  // From the request being sent to the end of the response headers; zero = off.
  std::chrono::nanoseconds response_header = std::chrono::seconds{30};
  // A pooled upstream connection left unused this long is closed.
  std::chrono::nanoseconds idle = std::chrono::seconds{60};
};

// [cluster.pool]
struct ClusterPool {
  int max_idle_per_worker = 32;  // idle upstream connections kept per P; 0 = no pooling
};

// ---- Upstream resilience (issue 9). Each [cluster.*] table below is optional; absent
// means the documented defaults (health_check: no active probes).

// An inclusive range of response statuses, e.g. 200..399.
struct StatusRange {
  int low = 200;
  int high = 399;
  bool contains(int status) const { return status >= low && status <= high; }
  bool operator==(const StatusRange&) const = default;
};

// [cluster.health_check]: one HTTP/1.1 GET per endpoint every `interval`.
struct HealthCheckConfig {
  std::string path = "/";  // origin-form target, starts with '/'
  std::string host;        // Host header; empty: the endpoint's "host:port"
  std::chrono::nanoseconds interval = std::chrono::seconds{5};
  std::chrono::nanoseconds timeout = std::chrono::seconds{1};  // connect to status line
  int healthy_threshold = 2;    // consecutive passes that bring an endpoint back
  int unhealthy_threshold = 3;  // consecutive failures that take it out
  std::vector<StatusRange> expected_statuses = {StatusRange{200, 399}};
  bool operator==(const HealthCheckConfig&) const = default;
};

// [cluster.outlier_detection]: passive ejection from the request path's own results.
struct OutlierDetectionConfig {
  // Consecutive gateway errors (5xx responses, connect failures, resets, timeouts) that
  // eject an endpoint; 0 = off.
  int consecutive_5xx = 5;
  // Consecutive failed connects (refused, unreachable, timed out); 0 = off.
  int consecutive_connect_failures = 5;
  // The n-th ejection in a row lasts n * base, at most max.
  std::chrono::nanoseconds base_ejection_time = std::chrono::seconds{30};
  std::chrono::nanoseconds max_ejection_time = std::chrono::seconds{300};
  // At most this share of the cluster's endpoints is ejected at once (rounded down).
  int max_ejection_percent = 50;
};

// [cluster.retry]
struct RetryConfig {
  int max_retries = 1;  // tries after the first; 0 = never retry
  bool on_connect_failure = true;  // nothing reached the upstream: any method
  bool on_reset = false;           // closed before a response byte: idempotent only
  std::vector<int> on_statuses;    // e.g. {502, 503}: idempotent only
  // Retries in flight may be at most this share of the cluster's active requests...
  int budget_percent = 20;
  // ...but this many are always allowed (a quiet cluster can still retry).
  int min_retry_concurrency = 3;
};

// [cluster.limits]. 0 = no limit.
struct ClusterLimits {
  uint64_t max_connections = 0;  // upstream connections open (active + idle)
  uint64_t max_requests = 0;     // requests in flight to the cluster
};

// [[cluster]]
struct ClusterConfig {
  std::string name;
  std::vector<HostPort> endpoints;  // at least one, no duplicates
  BalancerKind balancer = BalancerKind::kRoundRobin;
  HashKey hash_key;  // meaningful only for kConsistentHash
  // Relative share of each endpoint, same length as `endpoints`; empty: all 1.
  std::vector<uint32_t> weights;
  // kPeakEwma: the time constant of the latency average's decay.
  std::chrono::nanoseconds ewma_decay = std::chrono::seconds{10};
  // A PROXY protocol header sent first on every upstream connection, carrying the
  // client's address; such connections serve one client only (never pooled).
  enum class SendProxyProtocol { kOff, kV1, kV2 };
  SendProxyProtocol send_proxy_protocol = SendProxyProtocol::kOff;
  // How often endpoints given by host name are resolved again.
  std::chrono::nanoseconds dns_refresh = std::chrono::seconds{5};
  ClusterTimeouts timeouts;
  ClusterPool pool;
  std::optional<UpstreamTlsConfig> tls;  // nullopt: plain TCP to the endpoints
  std::optional<HealthCheckConfig> health_check;  // nullopt: no active probes
  OutlierDetectionConfig outlier_detection;
  RetryConfig retry;
  ClusterLimits limits;
};

// [overload]: load shedding driven by the runtime's own scheduling latency (the time a
// runnable Task waits before it runs). Absent: off.
struct OverloadConfig {
  // Shed when the p99 scheduling latency of a window is above this...
  std::chrono::nanoseconds sched_latency_threshold = std::chrono::milliseconds{20};
  // ...for trip_after windows in a row; stop after recover_after windows below it.
  std::chrono::nanoseconds window = std::chrono::milliseconds{250};
  int trip_after = 2;
  int recover_after = 4;
};

struct Config {
  // Where the snapshot came from: a file path, or "<embedded default>".
  std::string source_name;
  // The exact bytes that were parsed (served by the admin /config endpoint).
  std::string source_text;
  // FNV-1a 64 of source_text as 16 lower-case hex digits: the same file gives the same
  // hash on every machine and every run (exported as a metric).
  std::string hash;

  RuntimeConfig runtime;
  AdminConfig admin;
  ProcessConfig process;
  LogConfig log;
  std::vector<ListenerConfig> listeners;  // at least one
  std::vector<RouteConfig> routes;
  std::vector<ClusterConfig> clusters;
  std::optional<OverloadConfig> overload;  // nullopt: no load shedding

  // Linear scans: called when building routing tables, never per request.
  const ListenerConfig* findListener(std::string_view name) const {
    for (const ListenerConfig& listener : listeners) {
      if (listener.name == name) return &listener;
    }
    return nullptr;
  }
  const ClusterConfig* findCluster(std::string_view name) const {
    for (const ClusterConfig& cluster : clusters) {
      if (cluster.name == name) return &cluster;
    }
    return nullptr;
  }
};

// The spelling used in the TOML file, for /config, logs and metric labels.
constexpr std::string_view toString(AffinityMode mode) {
  switch (mode) {
    case AffinityMode::kNone: return "none";
    case AffinityMode::kSpread: return "spread";
    case AffinityMode::kPin: return "pin";
  }
  return "?";
}
constexpr std::string_view toString(AccessLogFormat format) {
  switch (format) {
    case AccessLogFormat::kJson: return "json";
    case AccessLogFormat::kCombined: return "combined";
  }
  return "?";
}
constexpr std::string_view toString(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return "trace";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "?";
}
constexpr std::string_view toString(TlsVersion version) {
  switch (version) {
    case TlsVersion::kTls12: return "1.2";
    case TlsVersion::kTls13: return "1.3";
  }
  return "?";
}
constexpr std::string_view toString(BalancerKind kind) {
  switch (kind) {
    case BalancerKind::kRoundRobin: return "round_robin";
    case BalancerKind::kLeastRequest: return "least_request";
    case BalancerKind::kRandom: return "random";
    case BalancerKind::kConsistentHash: return "consistent_hash";
    case BalancerKind::kPeakEwma: return "peak_ewma";
  }
  return "?";
}

}  // namespace switchyard::config
