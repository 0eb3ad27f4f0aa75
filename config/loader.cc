// The sole includer of toml++ in Switchyard. Compiled with exceptions on (Debian's
// libtomlplusplus exports only the exceptions flavour); toml::parse_error is caught in
// loadConfigString and nothing else here throws on purpose.
//
// Shape of the code: ConfigBuilder walks the parsed TOML tree section by section. Each
// table is read through a TableReader, which first reports the keys it does not know and
// then hands out typed, range-checked values; a value that is wrong is reported to
// Diagnostics and the field keeps its default, so reading goes on and later problems are
// found in the same run. Checks that need several sections (routes -> listeners and
// clusters, duplicate names and addresses) run last, from positions remembered while
// reading. The snapshot is published only when no problem at all was reported.
#include "config/loader.h"

#include <sched.h>

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <span>
#include <sstream>
#include <utility>

#include "config/tls_policy.h"
#include "config/units.h"

namespace switchyard::config {
namespace {

using std::chrono::nanoseconds;

// Where something is in the file. line == 0: nowhere in particular (the whole file, or a
// default value that the file does not spell out).
struct Position {
  int line = 0;
  int column = 0;
};

Position positionOf(const toml::source_position& at) {
  return Position{static_cast<int>(at.line), static_cast<int>(at.column)};
}
Position positionOf(const toml::node& node) { return positionOf(node.source().begin); }
Position positionOf(const toml::key& key) { return positionOf(key.source().begin); }

// Collects every problem found in one run.
class Diagnostics {
 public:
  explicit Diagnostics(std::string_view file) : file_(file) {}

  void report(Position at, std::string key_path, std::string message) {
    errors_.push_back(ConfigError{file_, at.line, at.column, std::move(key_path), std::move(message)});
  }
  bool empty() const { return errors_.empty(); }

  // In file order, so the report reads top to bottom; problems found at the same
  // position keep the order in which they were found.
  std::vector<ConfigError> take() && {
    std::stable_sort(errors_.begin(), errors_.end(), [](const ConfigError& a, const ConfigError& b) {
      return std::pair(a.line, a.column) < std::pair(b.line, b.column);
    });
    return std::move(errors_);
  }

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
};

std::string joinPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string path(parent);
  path += '.';
  path += key;
  return path;
}

std::string indexPath(std::string_view parent, size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

// "integer 5", "string \"5\"", "a table": how a wrong value is shown after "got".
std::string describeValue(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "string " + quoteForMessage(node.as_string()->get());
    case toml::node_type::integer:
      return "integer " + std::to_string(node.as_integer()->get());
    case toml::node_type::floating_point: {
      std::ostringstream text;
      text << node.as_floating_point()->get();
      return "float " + text.str();
    }
    case toml::node_type::boolean:
      return node.as_boolean()->get() ? "boolean true" : "boolean false";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

// Optimal string alignment distance (Levenshtein plus adjacent transpositions, so
// "wokrers" is one edit from "workers"), for "did you mean" suggestions.
size_t editDistance(std::string_view a, std::string_view b) {
  // Keys are short; longer input is never close to any of them, and the bound keeps the
  // rows small whatever the input.
  constexpr size_t kMaxLength = 64;
  if (a.size() > kMaxLength || b.size() > kMaxLength) return kMaxLength;
  // Three rolling rows of the dynamic-programming table (the transposition looks two rows
  // back): about 1.5 KiB of stack instead of a 33 KiB table.
  using Row = std::array<size_t, kMaxLength + 1>;
  Row before_previous{};
  Row previous{};
  Row current{};
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitution = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + substitution});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], before_previous[j - 2] + 1);
      }
    }
    before_previous = previous;
    previous = current;
  }
  return previous[b.size()];
}

// The closest candidate within 2 edits (and closer than a full rewrite), if any.
template <typename Range>
std::optional<std::string> closestMatch(std::string_view word, const Range& candidates) {
  constexpr size_t kMaxSuggestionDistance = 2;
  std::optional<std::string> best;
  size_t best_distance = kMaxSuggestionDistance + 1;
  for (const auto& candidate : candidates) {
    const size_t distance = editDistance(word, candidate);
    if (distance < best_distance && distance < word.size()) {
      best = std::string(candidate);
      best_distance = distance;
    }
  }
  return best;
}

// `"a", "b" or "c"`
template <typename Range>
std::string quotedAlternatives(const Range& words) {
  std::string out;
  size_t index = 0;
  const size_t count = std::size(words);
  for (const auto& word : words) {
    if (index > 0) out += index + 1 == count ? " or " : ", ";
    out += '"';
    out += word;
    out += '"';
    ++index;
  }
  return out;
}

// Names of listeners, routes and clusters become metric label values and appear in
// logs: keep them to characters that need no quoting anywhere.
constexpr size_t kMaxNameLength = 64;

bool isValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
  });
}

// HTTP token characters (RFC 9110 tchar), for header names in hash_key.
bool isHeaderName(std::string_view name) {
  constexpr std::string_view kPunctuation = "!#$%&'*+-.^_`|~";
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           kPunctuation.find(c) != std::string_view::npos;
  });
}

// Why `path` cannot be matched against a request path, or "" when it can.
std::string pathProblem(std::string_view path) {
  if (path.empty() || path.front() != '/') return "must start with \"/\"";
  for (char c : path) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7F) return "must not contain spaces or control characters";
    if (c == '?' || c == '#') return "must not contain '?' or '#': only the path is matched";
  }
  return {};
}

struct DurationRange {
  nanoseconds min;
  std::optional<nanoseconds> max;  // nullopt: no upper bound
  bool zero_means_off = false;
};

template <typename E>
struct Choice {
  std::string_view spelling;
  E value;
};

// Reads one TOML table whose keys are known. Construction reports unknown keys; each
// getter reads one key, reports a wrong value and returns nullopt for it (or when the key
// is absent), so callers simply keep their defaults.
class TableReader {
 public:
  // `where` completes "unknown key "x" ...": "in [runtime]", "at the top level".
  TableReader(Diagnostics& diagnostics, const toml::table& table, std::string path,
              std::string_view where, std::span<const std::string_view> known_keys)
      : diagnostics_(diagnostics), table_(table), path_(std::move(path)) {
    for (auto&& [key, value] : table_) {
      const std::string_view name = key.str();
      if (std::find(known_keys.begin(), known_keys.end(), name) != known_keys.end()) continue;
      std::string message = "unknown key " + quoteForMessage(name) + " " + std::string(where);
      if (std::optional<std::string> suggestion = closestMatch(name, known_keys)) {
        message += " (did you mean \"" + *suggestion + "\"?)";
      } else {
        message += " (expected one of: ";
        for (size_t i = 0; i < known_keys.size(); ++i) {
          if (i > 0) message += ", ";
          message += known_keys[i];
        }
        message += ")";
      }
      diagnostics_.report(positionOf(key), keyPath(name), std::move(message));
    }
  }

  std::string keyPath(std::string_view key) const { return joinPath(path_, key); }
  const toml::node* find(std::string_view key) const { return table_.get(key); }

  // Reports a problem with the value of `key` (which must be present).
  void reportValue(std::string_view key, std::string message) const {
    diagnostics_.report(positionOf(*find(key)), keyPath(key), std::move(message));
  }

  // Reports `key` as missing, at the start of this table. Returns whether it is present.
  bool require(std::string_view key) const {
    if (find(key) != nullptr) return true;
    diagnostics_.report(positionOf(table_), keyPath(key),
                        "missing required key " + quoteForMessage(key));
    return false;
  }

  std::optional<std::string> string(std::string_view key) const {
    const toml::node* node = find(key);
    if (node == nullptr) return std::nullopt;
    if (!node->is_string()) {
      reportValue(key, "expected a string, got " + describeValue(*node));
      return std::nullopt;
    }
    return node->as_string()->get();
  }

  std::optional<std::string> nonEmptyString(std::string_view key) const {
    std::optional<std::string> text = string(key);
    if (text && text->empty()) {
      reportValue(key, "expected a non-empty string, got \"\"");
      return std::nullopt;
    }
    return text;
  }

  // A listener, route or cluster name (or a reference to one).
  std::optional<std::string> name(std::string_view key) const {
    std::optional<std::string> text = string(key);
    if (text && !isValidName(*text)) {
      reportValue(key, "expected a name of 1.." + std::to_string(kMaxNameLength) +
                           " letters, digits, '_', '.' or '-', got " + quoteForMessage(*text));
      return std::nullopt;
    }
    return text;
  }

  std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max) const {
    const toml::node* node = find(key);
    if (node == nullptr) return std::nullopt;
    const std::string expectation =
        "expected an integer in " + std::to_string(min) + ".." + std::to_string(max);
    if (!node->is_integer()) {
      reportValue(key, expectation + ", got " + describeValue(*node));
      return std::nullopt;
    }
    const int64_t value = node->as_integer()->get();
    if (value < min || value > max) {
      reportValue(key, expectation + ", got " + std::to_string(value));
      return std::nullopt;
    }
    return value;
  }

  std::optional<bool> boolean(std::string_view key) const {
    const toml::node* node = find(key);
    if (node == nullptr) return std::nullopt;
    if (!node->is_boolean()) {
      reportValue(key, "expected true or false, got " + describeValue(*node));
      return std::nullopt;
    }
    return node->as_boolean()->get();
  }

  std::optional<nanoseconds> duration(std::string_view key, const DurationRange& range) const {
    const toml::node* node = find(key);
    if (node == nullptr) return std::nullopt;
    if (!node->is_string()) {
      reportValue(key, R"(expected a duration string such as "10ms" or "2s", got )" +
                           describeValue(*node));
      return std::nullopt;
    }
    const std::string& text = node->as_string()->get();
    Parsed<nanoseconds> parsed = parseDuration(text);
    if (!parsed.ok()) {
      reportValue(key, std::move(parsed.error));
      return std::nullopt;
    }
    const nanoseconds value = *parsed.value;
    if (value == nanoseconds{0} && range.zero_means_off) return value;
    if (value < range.min || (range.max && value > *range.max)) {
      std::string expectation = "expected ";
      if (range.zero_means_off) expectation += "\"0s\" (off) or ";
      expectation += "a duration ";
      expectation += range.max ? "in " + formatDuration(range.min) + ".." + formatDuration(*range.max)
                               : "of at least " + formatDuration(range.min);
      reportValue(key, expectation + ", got " + quoteForMessage(text));
      return std::nullopt;
    }
    return value;
  }

  // A size is a string with a unit ("16KiB") or a plain TOML integer of bytes.
  std::optional<uint64_t> size(std::string_view key, uint64_t min, std::optional<uint64_t> max,
                               uint64_t multiple_of = 1) const {
    const toml::node* node = find(key);
    if (node == nullptr) return std::nullopt;
    uint64_t value = 0;
    std::string shown;
    if (node->is_integer() && node->as_integer()->get() >= 0) {
      value = static_cast<uint64_t>(node->as_integer()->get());
      shown = std::to_string(value);
    } else if (node->is_string()) {
      const std::string& text = node->as_string()->get();
      Parsed<uint64_t> parsed = parseSize(text);
      if (!parsed.ok()) {
        reportValue(key, std::move(parsed.error));
        return std::nullopt;
      }
      value = *parsed.value;
      shown = quoteForMessage(text);
    } else {
      reportValue(key, R"(expected a size such as "16KiB" or a number of bytes, got )" +
                           describeValue(*node));
      return std::nullopt;
    }
    if (value < min || (max && value > *max)) {
      reportValue(key, "expected a size " +
                           (max ? "in " + formatSize(min) + ".." + formatSize(*max)
                                : "of at least " + formatSize(min)) +
                           ", got " + shown);
      return std::nullopt;
    }
    if (value % multiple_of != 0) {
      reportValue(key, "expected a multiple of " + formatSize(multiple_of) + ", got " + shown);
      return std::nullopt;
    }
    return value;
  }

  template <typename E, size_t N>
  std::optional<E> choice(std::string_view key, const std::array<Choice<E>, N>& choices) const {
    std::optional<std::string> text = string(key);
    if (!text) return std::nullopt;
    std::array<std::string_view, N> spellings;
    for (size_t i = 0; i < N; ++i) {
      if (choices[i].spelling == *text) return choices[i].value;
      spellings[i] = choices[i].spelling;
    }
    std::string message =
        "expected " + quotedAlternatives(spellings) + ", got " + quoteForMessage(*text);
    if (std::optional<std::string> suggestion = closestMatch(*text, spellings)) {
      message += " (did you mean \"" + *suggestion + "\"?)";
    }
    reportValue(key, std::move(message));
    return std::nullopt;
  }

  std::optional<HostPort> hostPort(std::string_view key, HostPortRules rules) const {
    const toml::node* node = find(key);
    if (node == nullptr) return std::nullopt;
    if (!node->is_string()) {
      reportValue(key, R"(expected "host:port", got )" + describeValue(*node));
      return std::nullopt;
    }
    Parsed<HostPort> parsed = parseHostPort(node->as_string()->get(), rules);
    if (!parsed.ok()) {
      reportValue(key, std::move(parsed.error));
      return std::nullopt;
    }
    return std::move(parsed.value);
  }

  // A sub-table such as [listener.tls]; reports any other kind of value.
  const toml::table* table(std::string_view key, std::string_view label) const {
    const toml::node* node = find(key);
    if (node == nullptr) return nullptr;
    if (!node->is_table()) {
      reportValue(key, "expected a table (" + std::string(label) + "), got " + describeValue(*node));
      return nullptr;
    }
    return node->as_table();
  }

  const toml::array* array(std::string_view key, std::string_view of_what) const {
    const toml::node* node = find(key);
    if (node == nullptr) return nullptr;
    if (!node->is_array()) {
      reportValue(key, "expected an array of " + std::string(of_what) + ", got " + describeValue(*node));
      return nullptr;
    }
    return node->as_array();
  }

 private:
  Diagnostics& diagnostics_;
  const toml::table& table_;
  std::string path_;
};

// ---- Keys and enumerations: the public contract, documented in docs/CONFIG.md. --------

constexpr std::array<std::string_view, 8> kRootKeys = {"runtime",  "admin", "process", "log",
                                                       "listener", "route", "cluster", "overload"};
constexpr std::array<std::string_view, 4> kOverloadKeys = {"sched_latency_threshold", "window",
                                                           "trip_after", "recover_after"};
constexpr std::array<std::string_view, 8> kRuntimeKeys = {
    "workers",        "cpu_affinity", "affinity_mode", "poller_handoff_interval",
    "netpoll_batch",  "stack_size",   "schedtrace",    "scheddetail"};
constexpr std::array<std::string_view, 1> kAdminKeys = {"address"};
constexpr std::array<std::string_view, 1> kProcessKeys = {"drain_timeout"};
constexpr std::array<std::string_view, 3> kLogKeys = {"access", "access_format", "level"};
constexpr std::array<std::string_view, 7> kListenerKeys = {
    "name", "address", "tls", "limits", "timeouts", "proxy_protocol", "forwarded"};
constexpr std::array<Choice<ListenerConfig::Forwarded>, 3> kForwardedChoices = {{
    {"x-forwarded", ListenerConfig::Forwarded::kXForwarded},
    {"rfc7239", ListenerConfig::Forwarded::kRfc7239},
    {"both", ListenerConfig::Forwarded::kBoth},
}};
constexpr std::array<std::string_view, 10> kTlsKeys = {
    "certificates",       "min_version",     "ciphers",         "ciphersuites",
    "session_tickets",    "session_ticket_rotation", "session_cache_size", "session_timeout",
    "client_ca",          "client_verify"};
constexpr std::array<std::string_view, 6> kUpstreamTlsKeys = {"ca",          "verify",
                                                              "server_name", "min_version",
                                                              "cert",        "key"};
constexpr std::array<std::string_view, 3> kCertificateKeys = {"cert", "key", "server_names"};
constexpr std::array<std::string_view, 3> kLimitsKeys = {"max_connections", "max_header_bytes",
                                                         "max_body_bytes"};
constexpr std::array<std::string_view, 3> kListenerTimeoutKeys = {"header_read", "idle", "request"};
constexpr std::array<std::string_view, 7> kRouteKeys = {
    "name", "listener", "host", "path_prefix", "path_exact", "cluster", "direct_response"};
constexpr std::array<std::string_view, 2> kDirectResponseKeys = {"status", "body"};
constexpr std::array<std::string_view, 15> kClusterKeys = {
    "name",         "endpoints",         "balancer", "hash_key", "timeouts", "pool",
    "health_check", "outlier_detection", "retry",    "limits",   "weights",  "ewma_decay",
    "dns_refresh",  "send_proxy_protocol", "tls"};
constexpr std::array<Choice<ClusterConfig::SendProxyProtocol>, 3> kSendProxyProtocol = {{
    {"off", ClusterConfig::SendProxyProtocol::kOff},
    {"v1", ClusterConfig::SendProxyProtocol::kV1},
    {"v2", ClusterConfig::SendProxyProtocol::kV2},
}};
constexpr std::array<std::string_view, 3> kClusterTimeoutKeys = {"connect", "response_header",
                                                                  "idle"};
constexpr std::array<std::string_view, 1> kPoolKeys = {"max_idle_per_worker"};
constexpr std::array<std::string_view, 7> kHealthCheckKeys = {
    "path",    "host", "interval", "timeout", "healthy_threshold", "unhealthy_threshold",
    "expected_statuses"};
constexpr std::array<std::string_view, 5> kOutlierKeys = {
    "consecutive_5xx", "consecutive_connect_failures", "base_ejection_time",
    "max_ejection_time", "max_ejection_percent"};
constexpr std::array<std::string_view, 4> kRetryKeys = {"max_retries", "retry_on",
                                                        "budget_percent",
                                                        "min_retry_concurrency"};
constexpr std::array<std::string_view, 2> kClusterLimitsKeys = {"max_connections",
                                                                "max_requests"};

constexpr std::array<Choice<AffinityMode>, 3> kAffinityModes = {{
    {"none", AffinityMode::kNone},
    {"spread", AffinityMode::kSpread},
    {"pin", AffinityMode::kPin},
}};
constexpr std::array<Choice<TlsVersion>, 2> kTlsVersions = {{
    {"1.2", TlsVersion::kTls12},
    {"1.3", TlsVersion::kTls13},
}};
constexpr std::array<Choice<ClientVerify>, 2> kClientVerifyModes = {{
    {"require", ClientVerify::kRequire},
    {"optional", ClientVerify::kOptional},
}};
constexpr std::array<Choice<AccessLogFormat>, 2> kAccessLogFormats = {{
    {"json", AccessLogFormat::kJson},
    {"combined", AccessLogFormat::kCombined},
}};
constexpr std::array<Choice<LogLevel>, 5> kLogLevels = {{
    {"trace", LogLevel::kTrace},
    {"debug", LogLevel::kDebug},
    {"info", LogLevel::kInfo},
    {"warn", LogLevel::kWarn},
    {"error", LogLevel::kError},
}};
constexpr std::array<Choice<BalancerKind>, 5> kBalancers = {{
    {"round_robin", BalancerKind::kRoundRobin},
    {"least_request", BalancerKind::kLeastRequest},
    {"random", BalancerKind::kRandom},
    {"consistent_hash", BalancerKind::kConsistentHash},
    {"peak_ewma", BalancerKind::kPeakEwma},
}};

// ---- Ranges. ---------------------------------------------------------------------------

constexpr int64_t kMinWorkers = 1;
constexpr int64_t kMaxWorkers = 256;
constexpr int64_t kMinNetpollBatch = 1;
constexpr int64_t kMaxNetpollBatch = 65536;
// A G stack below 16 KiB overflows in ordinary library code (OpenSSL, getaddrinfo);
// above 64 MiB per G the address space, not the work, becomes the limit.
constexpr uint64_t kMinStackSize = 16 * kKiB;
constexpr uint64_t kMaxStackSize = 64 * kMiB;
constexpr uint64_t kPageSize = 4 * kKiB;
constexpr int64_t kMaxSessionCacheSize = 10'000'000;
// Ticket keys rotate at least every minute (more often only burns handshakes) and at
// most weekly (a stolen key should not open a month of recorded sessions).
constexpr DurationRange kTicketRotation{std::chrono::minutes{1}, std::chrono::hours{24 * 7},
                                        false};
constexpr DurationRange kSessionTimeout{std::chrono::seconds{1}, std::chrono::hours{24 * 7},
                                        false};
// Below 50us sysmon would do little else; above 1s a busy proxy stops reading sockets
// for long enough that clients time out.
constexpr DurationRange kHandoffIntervalRange{std::chrono::microseconds{50}, std::chrono::seconds{1}};
constexpr DurationRange kSchedtraceRange{std::chrono::milliseconds{1}, std::nullopt, true};
constexpr DurationRange kPositiveTimeout{std::chrono::milliseconds{1}, std::nullopt, false};
constexpr DurationRange kOptionalTimeout{std::chrono::milliseconds{1}, std::nullopt, true};
// Past an hour, a drain is an outage; Kubernetes' grace period rarely exceeds minutes.
constexpr DurationRange kDrainTimeoutRange{std::chrono::milliseconds{1}, std::chrono::hours{1}, true};
constexpr int64_t kMaxConnectionsLimit = 1 << 20;
constexpr uint64_t kMinHeaderBytes = 1 * kKiB;
constexpr uint64_t kMaxHeaderBytes = 1 * kMiB;
constexpr int64_t kMaxIdlePerWorker = 65536;
// Probes more often than every 100ms would load the backends more than the traffic does.
constexpr DurationRange kHealthIntervalRange{std::chrono::milliseconds{100}, std::nullopt, false};
constexpr int64_t kMaxHealthThreshold = 100;
constexpr int64_t kMaxConsecutiveErrors = 1000;
// More tries than this multiply an outage rather than hide one failed endpoint.
constexpr int64_t kMaxRetries = 10;
// Weights are small relative shares; round robin's schedule has sum(weights) slots.
constexpr int64_t kMaxWeight = 1000;
constexpr int64_t kMaxClusterLimit = 1 << 24;
// The first status that is a final response; 1xx cannot end an exchange.
constexpr int64_t kMinDirectStatus = 200;
constexpr int64_t kMaxDirectStatus = 599;
// A direct response lives in every snapshot and is copied into each reply.
constexpr size_t kMaxDirectBodyBytes = 64 * kKiB;

// Two listening addresses that cannot both be bound: the same address, or the same port
// where one is the wildcard address of the same family. IPv4 and IPv6 wildcards do not
// collide ("0.0.0.0:80" with "[::]:80" is the usual dual-stack pair). Port 0 never collides.
bool addressesConflict(const HostPort& a, const HostPort& b) {
  if (a.port == 0 || a.port != b.port || a.kind != b.kind) return false;
  if (a.host == b.host) return true;
  const std::string_view wildcard = a.kind == HostKind::kIpv4 ? "0.0.0.0" : "::";
  return a.host == wildcard || b.host == wildcard;
}

std::string describeLine(Position at) {
  return at.line > 0 ? " (line " + std::to_string(at.line) + ")" : "";
}

class ConfigBuilder {
 public:
  ConfigBuilder(Diagnostics& diagnostics, const LoadOptions& options)
      : diagnostics_(diagnostics), options_(options) {}

  void build(const toml::table& root, Config& config) {
    TableReader reader(diagnostics_, root, "", "at the top level", kRootKeys);
    if (const toml::table* runtime = reader.table("runtime", "[runtime]")) {
      readRuntime(*runtime, config.runtime);
    }
    if (const toml::table* admin = reader.table("admin", "[admin]")) {
      readAdmin(*admin, config.admin);
    }
    if (const toml::table* process = reader.table("process", "[process]")) {
      TableReader process_reader(diagnostics_, *process, "process", "in [process]", kProcessKeys);
      if (auto drain = process_reader.duration("drain_timeout", kDrainTimeoutRange)) {
        config.process.drain_timeout = *drain;
      }
    }
    if (const toml::table* log = reader.table("log", "[log]")) readLog(*log, config.log);
    if (const toml::table* overload = reader.table("overload", "[overload]")) {
      readOverload(*overload, config.overload.emplace());
    }
    forEachTableOf(reader, "listener", [&](const toml::table& table, const std::string& path) {
      config.listeners.emplace_back();
      readListener(table, path, config.listeners.back());
    });
    forEachTableOf(reader, "cluster", [&](const toml::table& table, const std::string& path) {
      config.clusters.emplace_back();
      readCluster(table, path, config.clusters.back());
    });
    forEachTableOf(reader, "route", [&](const toml::table& table, const std::string& path) {
      config.routes.emplace_back();
      readRoute(table, path, config.routes.back());
    });

    // A `listener` key of the wrong type was reported already; do not pile on.
    const toml::node* listeners = root.get("listener");
    if (listeners == nullptr) {
      diagnostics_.report(Position{}, "listener", "at least one [[listener]] is required");
    } else if (listeners->is_array() && listeners->as_array()->empty()) {
      diagnostics_.report(positionOf(*listeners), "listener",
                          "expected at least one [[listener]], got an empty array");
    }
    checkListeners(config);
    checkClusters(config);
    checkRoutes(config);
  }

 private:
  // Positions remembered while reading, for the checks that span sections. An entry is
  // nullopt when the file does not spell the value out (or spelled it wrongly).
  struct Seen {
    // The key path of the table, e.g. "listener[1]". Not always "listener[" + index into
    // Config::listeners + "]": array elements that are not tables are skipped.
    std::string path;
    Position table;
    std::optional<Position> name;
    std::optional<Position> address;
    std::optional<Position> listener_ref;
    std::optional<Position> cluster_ref;
    bool has_valid_match = true;  // route: listener/host/path all read without problems
  };

  // `[[key]]`: calls `read` for every table of the array, with its key path.
  template <typename ReadTable>
  void forEachTableOf(const TableReader& parent, std::string_view key, ReadTable read) {
    const toml::node* node = parent.find(key);
    if (node == nullptr) return;
    if (node->is_table()) {
      parent.reportValue(key, "expected an array of tables: write [[" + std::string(key) +
                                  "]], not [" + std::string(key) + "]");
      return;
    }
    if (!node->is_array()) {
      parent.reportValue(key, "expected an array of tables ([[" + std::string(key) + "]]), got " +
                                  describeValue(*node));
      return;
    }
    const toml::array& array = *node->as_array();
    for (size_t i = 0; i < array.size(); ++i) {
      const std::string path = indexPath(key, i);
      const toml::node& element = *array.get(i);
      if (!element.is_table()) {
        diagnostics_.report(positionOf(element), path,
                            "expected a table, got " + describeValue(element));
        continue;
      }
      read(*element.as_table(), path);
    }
  }

  // ---- [runtime] ------------------------------------------------------------------------

  void readRuntime(const toml::table& table, RuntimeConfig& runtime) {
    TableReader reader(diagnostics_, table, "runtime", "in [runtime]", kRuntimeKeys);
    if (auto workers = reader.integer("workers", kMinWorkers, kMaxWorkers)) {
      runtime.workers = static_cast<int>(*workers);
    }
    if (auto mode = reader.choice("affinity_mode", kAffinityModes)) runtime.affinity_mode = *mode;
    if (auto text = reader.string("cpu_affinity")) {
      Parsed<std::vector<int>> cpus = parseCpuSet(*text);
      if (!cpus.ok()) {
        reader.reportValue("cpu_affinity", std::move(cpus.error));
      } else if (runtime.affinity_mode == AffinityMode::kNone) {
        reader.reportValue("cpu_affinity",
                           "cpu_affinity has no effect with affinity_mode = \"none\" "
                           "(set affinity_mode to \"spread\" or \"pin\", or remove cpu_affinity)");
      } else if (checkCpusAllowed(reader, *cpus.value)) {
        runtime.cpu_affinity = std::move(*cpus.value);
      }
    }
    if (auto interval = reader.duration("poller_handoff_interval", kHandoffIntervalRange)) {
      runtime.poller_handoff_interval = *interval;
    }
    if (auto batch = reader.integer("netpoll_batch", kMinNetpollBatch, kMaxNetpollBatch)) {
      runtime.netpoll_batch = static_cast<int>(*batch);
    }
    if (auto bytes = reader.size("stack_size", kMinStackSize, kMaxStackSize, kPageSize)) {
      runtime.stack_size = *bytes;
    }
    if (auto period = reader.duration("schedtrace", kSchedtraceRange)) runtime.schedtrace = *period;
    if (auto detail = reader.boolean("scheddetail")) runtime.scheddetail = *detail;
  }

  bool checkCpusAllowed(const TableReader& reader, const std::vector<int>& wanted) {
    const std::vector<int> allowed =
        options_.allowed_cpus ? *options_.allowed_cpus : cpusAllowedForProcess();
    if (allowed.empty()) return true;  // the kernel did not say: syntax was checked
    std::vector<int> outside;
    std::set_difference(wanted.begin(), wanted.end(), allowed.begin(), allowed.end(),
                        std::back_inserter(outside));
    if (outside.empty()) return true;
    reader.reportValue("cpu_affinity",
                       (outside.size() == 1 ? "CPU " : "CPUs ") + formatCpuSet(outside) +
                           (outside.size() == 1 ? " is" : " are") +
                           " not usable by this process (expected a subset of " +
                           quoteForMessage(formatCpuSet(allowed)) + ")");
    return false;
  }

  // ---- [admin], [log] -------------------------------------------------------------------

  void readAdmin(const toml::table& table, AdminConfig& admin) {
    TableReader reader(diagnostics_, table, "admin", "in [admin]", kAdminKeys);
    if (auto address = reader.hostPort("address", {.allow_names = false, .allow_port_zero = true})) {
      admin.address = *address;
      admin_address_at_ = positionOf(*reader.find("address"));
    }
  }

  void readOverload(const toml::table& table, OverloadConfig& overload) {
    TableReader reader(diagnostics_, table, "overload", "in [overload]", kOverloadKeys);
    // The runtime's latency histogram tops out at 100ms (its last bound): a threshold
    // above it could never be seen as crossed.
    constexpr DurationRange kThreshold{std::chrono::microseconds{100}, std::chrono::milliseconds{100},
                                       false};
    constexpr DurationRange kWindow{std::chrono::milliseconds{10}, std::chrono::seconds{60}, false};
    if (auto value = reader.duration("sched_latency_threshold", kThreshold)) {
      overload.sched_latency_threshold = *value;
    }
    if (auto value = reader.duration("window", kWindow)) overload.window = *value;
    if (auto value = reader.integer("trip_after", 1, 1000)) {
      overload.trip_after = static_cast<int>(*value);
    }
    if (auto value = reader.integer("recover_after", 1, 1000)) {
      overload.recover_after = static_cast<int>(*value);
    }
  }

  void readLog(const toml::table& table, LogConfig& log) {
    TableReader reader(diagnostics_, table, "log", "in [log]", kLogKeys);
    if (auto access = reader.string("access")) {
      if (*access == "stdout") {
        log.access_target = AccessLogTarget::kStdout;
      } else if (*access == "stderr") {
        log.access_target = AccessLogTarget::kStderr;
      } else if (*access == "off") {
        log.access_target = AccessLogTarget::kOff;
      } else if (access->empty()) {
        reader.reportValue("access", R"(expected "stdout", "stderr", "off" or a file path, got "")");
      } else {
        log.access_target = AccessLogTarget::kFile;
        log.access_path = *access;
      }
    }
    if (auto format = reader.choice("access_format", kAccessLogFormats)) log.access_format = *format;
    if (auto level = reader.choice("level", kLogLevels)) log.level = *level;
  }

  // ---- [[listener]] ---------------------------------------------------------------------

  void readListener(const toml::table& table, const std::string& path, ListenerConfig& listener) {
    TableReader reader(diagnostics_, table, path, "in [[listener]]", kListenerKeys);
    if (auto on = reader.boolean("proxy_protocol")) listener.proxy_protocol = *on;
    if (auto forwarded = reader.choice("forwarded", kForwardedChoices)) {
      listener.forwarded = *forwarded;
    }
    Seen& seen = listeners_seen_.emplace_back();
    seen.path = path;
    seen.table = positionOf(table);
    if (reader.require("name")) {
      if (auto name = reader.name("name")) {
        listener.name = *name;
        seen.name = positionOf(*reader.find("name"));
      }
    }
    if (reader.require("address")) {
      if (auto address = reader.hostPort("address", {.allow_names = false, .allow_port_zero = true})) {
        listener.address = *address;
        seen.address = positionOf(*reader.find("address"));
      }
    }
    if (const toml::table* tls = reader.table("tls", "[listener.tls]")) {
      listener.tls.emplace();
      readTls(*tls, joinPath(path, "tls"), *listener.tls);
    }
    if (const toml::table* limits = reader.table("limits", "[listener.limits]")) {
      TableReader limits_reader(diagnostics_, *limits, joinPath(path, "limits"),
                                "in [listener.limits]", kLimitsKeys);
      if (auto count = limits_reader.integer("max_connections", 1, kMaxConnectionsLimit)) {
        listener.limits.max_connections = static_cast<uint64_t>(*count);
      }
      if (auto bytes = limits_reader.size("max_header_bytes", kMinHeaderBytes, kMaxHeaderBytes)) {
        listener.limits.max_header_bytes = *bytes;
      }
      if (auto bytes = limits_reader.size("max_body_bytes", 1, std::nullopt)) {
        listener.limits.max_body_bytes = *bytes;
      }
    }
    if (const toml::table* timeouts = reader.table("timeouts", "[listener.timeouts]")) {
      TableReader timeouts_reader(diagnostics_, *timeouts, joinPath(path, "timeouts"),
                                  "in [listener.timeouts]", kListenerTimeoutKeys);
      if (auto value = timeouts_reader.duration("header_read", kPositiveTimeout)) {
        listener.timeouts.header_read = *value;
      }
      if (auto value = timeouts_reader.duration("idle", kPositiveTimeout)) {
        listener.timeouts.idle = *value;
      }
      if (auto value = timeouts_reader.duration("request", kOptionalTimeout)) {
        listener.timeouts.request = *value;
      }
    }
  }

  void readTls(const toml::table& table, const std::string& path, TlsConfig& tls) {
    TableReader reader(diagnostics_, table, path, "in [listener.tls]", kTlsKeys);
    readTlsPolicy(reader, tls);
    if (!reader.require("certificates")) return;
    const toml::array* certificates = reader.array("certificates", "tables");
    if (certificates == nullptr) return;
    if (certificates->empty()) {
      reader.reportValue("certificates", "expected at least one certificate, got an empty array");
      return;
    }
    // SNI name -> certificate index that claimed it first: two certificates for one name
    // would make the choice depend on file order silently.
    std::vector<std::pair<std::string, size_t>> claimed_names;
    for (size_t i = 0; i < certificates->size(); ++i) {
      const std::string cert_path = indexPath(reader.keyPath("certificates"), i);
      const toml::node& element = *certificates->get(i);
      if (!element.is_table()) {
        diagnostics_.report(positionOf(element), cert_path,
                            "expected a table such as { cert = \"a.pem\", key = \"a.key\" }, got " +
                                describeValue(element));
        continue;
      }
      TableReader cert_reader(diagnostics_, *element.as_table(), cert_path,
                              "in a [listener.tls] certificate", kCertificateKeys);
      TlsCertificate& certificate = tls.certificates.emplace_back();
      if (cert_reader.require("cert")) {
        if (auto file = cert_reader.nonEmptyString("cert")) certificate.cert_path = *file;
      }
      if (cert_reader.require("key")) {
        if (auto file = cert_reader.nonEmptyString("key")) certificate.key_path = *file;
      }
      const toml::array* names = cert_reader.array("server_names", "host names");
      if (names == nullptr) continue;
      for (size_t n = 0; n < names->size(); ++n) {
        const std::string name_path = indexPath(cert_reader.keyPath("server_names"), n);
        const toml::node& name_node = *names->get(n);
        if (!name_node.is_string()) {
          diagnostics_.report(positionOf(name_node), name_path,
                              "expected a host name string, got " + describeValue(name_node));
          continue;
        }
        Parsed<std::string> pattern = parseHostPattern(name_node.as_string()->get());
        if (!pattern.ok()) {
          diagnostics_.report(positionOf(name_node), name_path, std::move(pattern.error));
          continue;
        }
        const auto earlier = std::find_if(claimed_names.begin(), claimed_names.end(),
                                          [&](const auto& claimed) { return claimed.first == *pattern.value; });
        if (earlier != claimed_names.end()) {
          diagnostics_.report(positionOf(name_node), name_path,
                              "server name " + quoteForMessage(*pattern.value) +
                                  " is already used by certificates[" +
                                  std::to_string(earlier->second) + "]");
          continue;
        }
        claimed_names.emplace_back(*pattern.value, i);
        certificate.server_names.push_back(std::move(*pattern.value));
      }
    }
  }

  void readTlsPolicy(const TableReader& reader, TlsConfig& tls) {
    if (auto version = reader.choice("min_version", kTlsVersions)) tls.min_version = *version;
    if (auto list = reader.string("ciphers")) {
      if (std::string why = checkTls12Ciphers(*list); !why.empty()) {
        reader.reportValue("ciphers", std::move(why));
      } else {
        tls.ciphers = *list;
      }
    }
    if (auto list = reader.string("ciphersuites")) {
      if (std::string why = checkTls13Ciphersuites(*list); !why.empty()) {
        reader.reportValue("ciphersuites", std::move(why));
      } else {
        tls.ciphersuites = *list;
      }
    }
    if (auto on = reader.boolean("session_tickets")) tls.session_tickets = *on;
    if (auto every = reader.duration("session_ticket_rotation", kTicketRotation)) {
      tls.session_ticket_rotation = *every;
    }
    if (auto size = reader.integer("session_cache_size", 0, kMaxSessionCacheSize)) {
      tls.session_cache_size = static_cast<uint64_t>(*size);
    }
    if (auto timeout = reader.duration("session_timeout", kSessionTimeout)) {
      tls.session_timeout = *timeout;
    }
    if (auto ca = reader.nonEmptyString("client_ca")) tls.client_ca = *ca;
    if (auto mode = reader.choice("client_verify", kClientVerifyModes)) {
      if (tls.client_ca.empty()) {
        reader.reportValue("client_verify", "client_verify needs client_ca (the CAs to verify against)");
      } else {
        tls.client_verify = *mode;
      }
    }
  }

  void readUpstreamTls(const toml::table& table, const std::string& path,
                       UpstreamTlsConfig& tls) {
    TableReader reader(diagnostics_, table, path, "in [cluster.tls]", kUpstreamTlsKeys);
    if (auto ca = reader.nonEmptyString("ca")) tls.ca = *ca;
    if (auto verify = reader.boolean("verify")) tls.verify = *verify;
    if (auto name = reader.string("server_name")) {
      Parsed<std::string> host = parseHostPattern(*name);
      if (!host.ok() || host.value->starts_with("*.")) {
        reader.reportValue("server_name", "expected a host name such as \"api.example.com\", got " +
                                              quoteForMessage(*name));
      } else {
        tls.server_name = *host.value;
      }
    }
    if (auto version = reader.choice("min_version", kTlsVersions)) tls.min_version = *version;
    const auto cert = reader.nonEmptyString("cert");
    const auto key = reader.nonEmptyString("key");
    if (cert) tls.cert_path = *cert;
    if (key) tls.key_path = *key;
    if (cert && !reader.find("key")) {
      reader.reportValue("cert", "cert needs key (the client certificate's private key)");
    } else if (key && !reader.find("cert")) {
      reader.reportValue("key", "key needs cert (the client certificate)");
    }
  }

  void checkListeners(const Config& config) {
    for (size_t j = 0; j < config.listeners.size(); ++j) {
      const ListenerConfig& later = config.listeners[j];
      const Seen& later_seen = listeners_seen_[j];
      for (size_t i = 0; i < j; ++i) {
        const ListenerConfig& earlier = config.listeners[i];
        const Seen& earlier_seen = listeners_seen_[i];
        if (later_seen.name && earlier_seen.name && later.name == earlier.name) {
          diagnostics_.report(*later_seen.name, later_seen.path + ".name",
                              "listener name " + quoteForMessage(later.name) +
                                  " is already used by " + earlier_seen.path +
                                  describeLine(*earlier_seen.name));
        }
        if (later_seen.address && earlier_seen.address &&
            addressesConflict(later.address, earlier.address)) {
          diagnostics_.report(*later_seen.address, later_seen.path + ".address",
                              "address " + later.address.toString() + " conflicts with " +
                                  earlier_seen.path + " on " + earlier.address.toString() +
                                  describeLine(*earlier_seen.address));
        }
      }
      if (later_seen.address && addressesConflict(later.address, config.admin.address)) {
        // Report where the operator can act: at the admin address if the file sets it,
        // otherwise at the listener (the admin address is then the default).
        if (admin_address_at_) {
          diagnostics_.report(*admin_address_at_, "admin.address",
                              "address " + config.admin.address.toString() +
                                  " conflicts with " + later_seen.path + " on " +
                                  later.address.toString() + describeLine(*later_seen.address));
        } else {
          diagnostics_.report(*later_seen.address, later_seen.path + ".address",
                              "address " + later.address.toString() +
                                  " conflicts with the default admin address " +
                                  config.admin.address.toString() +
                                  " (set [admin] address to move it)");
        }
      }
    }
  }

  // ---- [[cluster]] ----------------------------------------------------------------------

  void readCluster(const toml::table& table, const std::string& path, ClusterConfig& cluster) {
    TableReader reader(diagnostics_, table, path, "in [[cluster]]", kClusterKeys);
    Seen& seen = clusters_seen_.emplace_back();
    seen.path = path;
    seen.table = positionOf(table);
    if (reader.require("name")) {
      if (auto name = reader.name("name")) {
        cluster.name = *name;
        seen.name = positionOf(*reader.find("name"));
      }
    }
    if (reader.require("endpoints")) {
      if (const toml::array* endpoints = reader.array("endpoints", R"("host:port" strings)")) {
        if (endpoints->empty()) {
          reader.reportValue("endpoints", "expected at least one endpoint, got an empty array");
        }
        for (size_t i = 0; i < endpoints->size(); ++i) {
          const std::string endpoint_path = indexPath(reader.keyPath("endpoints"), i);
          const toml::node& element = *endpoints->get(i);
          if (!element.is_string()) {
            diagnostics_.report(positionOf(element), endpoint_path,
                                R"(expected "host:port", got )" + describeValue(element));
            continue;
          }
          Parsed<HostPort> endpoint = parseHostPort(element.as_string()->get(),
                                                    {.allow_names = true, .allow_port_zero = false});
          if (!endpoint.ok()) {
            diagnostics_.report(positionOf(element), endpoint_path, std::move(endpoint.error));
            continue;
          }
          const auto duplicate =
              std::find(cluster.endpoints.begin(), cluster.endpoints.end(), *endpoint.value);
          if (duplicate != cluster.endpoints.end()) {
            diagnostics_.report(positionOf(element), endpoint_path,
                                "endpoint " + endpoint.value->toString() + " is listed twice");
            continue;
          }
          cluster.endpoints.push_back(std::move(*endpoint.value));
        }
      }
    }
    if (auto balancer = reader.choice("balancer", kBalancers)) cluster.balancer = *balancer;
    if (auto hash_key = reader.string("hash_key")) {
      if (cluster.balancer != BalancerKind::kConsistentHash) {
        reader.reportValue("hash_key", R"(hash_key applies only to balancer = "consistent_hash")");
      } else if (*hash_key == "client_ip") {
        cluster.hash_key = HashKey{HashKey::Source::kClientIp, {}};
      } else if (hash_key->starts_with("header:") && isHeaderName(hash_key->substr(7))) {
        cluster.hash_key = HashKey{HashKey::Source::kHeader, hash_key->substr(7)};
      } else {
        reader.reportValue("hash_key", R"(expected "client_ip" or "header:<name>" such as "header:X-User", got )" +
                                           quoteForMessage(*hash_key));
      }
    }
    if (const toml::table* timeouts = reader.table("timeouts", "[cluster.timeouts]")) {
      TableReader timeouts_reader(diagnostics_, *timeouts, joinPath(path, "timeouts"),
                                  "in [cluster.timeouts]", kClusterTimeoutKeys);
      if (auto value = timeouts_reader.duration("connect", kPositiveTimeout)) {
        cluster.timeouts.connect = *value;
      }
      if (auto value = timeouts_reader.duration("response_header", kOptionalTimeout)) {
        cluster.timeouts.response_header = *value;
      }
      if (auto value = timeouts_reader.duration("idle", kPositiveTimeout)) {
        cluster.timeouts.idle = *value;
      }
    }
    if (const toml::table* tls = reader.table("tls", "[cluster.tls]")) {
      cluster.tls.emplace();
      readUpstreamTls(*tls, joinPath(path, "tls"), *cluster.tls);
    }
    if (const toml::table* pool = reader.table("pool", "[cluster.pool]")) {
      TableReader pool_reader(diagnostics_, *pool, joinPath(path, "pool"), "in [cluster.pool]",
                              kPoolKeys);
      if (auto count = pool_reader.integer("max_idle_per_worker", 0, kMaxIdlePerWorker)) {
        cluster.pool.max_idle_per_worker = static_cast<int>(*count);
      }
    }
    readResilience(reader, path, cluster);
    readWeights(reader, cluster);
    // Probes speak plain HTTP: on a TLS cluster they would fail every endpoint.
    if (cluster.tls.has_value() && cluster.health_check.has_value()) {
      reader.reportValue("health_check",
                         "health checks over TLS are not supported yet: remove "
                         "[cluster.health_check] or [cluster.tls]");
      cluster.health_check.reset();
    }
  }

  // weights = [..] (one per endpoint) and ewma_decay (peak_ewma only).
  void readWeights(const TableReader& reader, ClusterConfig& cluster) {
    if (const toml::array* weights = reader.array("weights", "integers 1..1000")) {
      std::vector<uint32_t> parsed;
      for (size_t i = 0; i < weights->size(); ++i) {
        const toml::node& element = *weights->get(i);
        if (!element.is_integer() || element.as_integer()->get() < 1 ||
            element.as_integer()->get() > kMaxWeight) {
          diagnostics_.report(positionOf(element), indexPath(reader.keyPath("weights"), i),
                              "expected an integer in 1.." + std::to_string(kMaxWeight) +
                                  ", got " + describeValue(element));
          continue;
        }
        parsed.push_back(static_cast<uint32_t>(element.as_integer()->get()));
      }
      if (parsed.size() == weights->size()) {
        if (!cluster.endpoints.empty() && parsed.size() != cluster.endpoints.size()) {
          reader.reportValue("weights", "expected one weight per endpoint (" +
                                            std::to_string(cluster.endpoints.size()) +
                                            "), got " + std::to_string(parsed.size()));
        } else {
          cluster.weights = std::move(parsed);
        }
      }
    }
    // Below 100ms a resolver (and the DNS server behind it) would be polled needlessly.
    constexpr DurationRange kDnsRefresh{std::chrono::milliseconds{100}, std::nullopt, false};
    if (auto refresh = reader.duration("dns_refresh", kDnsRefresh)) cluster.dns_refresh = *refresh;
    if (auto send = reader.choice("send_proxy_protocol", kSendProxyProtocol)) {
      cluster.send_proxy_protocol = *send;
    }
    if (auto decay = reader.duration("ewma_decay", kPositiveTimeout)) {
      if (cluster.balancer != BalancerKind::kPeakEwma) {
        reader.reportValue("ewma_decay", R"(ewma_decay applies only to balancer = "peak_ewma")");
      } else {
        cluster.ewma_decay = *decay;
      }
    }
  }

  // [cluster.health_check], [cluster.outlier_detection], [cluster.retry], [cluster.limits].
  void readResilience(const TableReader& reader, const std::string& path,
                      ClusterConfig& cluster) {
    if (const toml::table* table = reader.table("health_check", "[cluster.health_check]")) {
      TableReader hc(diagnostics_, *table, joinPath(path, "health_check"),
                     "in [cluster.health_check]", kHealthCheckKeys);
      HealthCheckConfig& out = cluster.health_check.emplace();
      if (auto target = hc.string("path")) {
        if (target->empty() || target->front() != '/' ||
            std::any_of(target->begin(), target->end(), [](char c) {
              return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F;
            })) {
          hc.reportValue("path", R"(expected a request target starting with "/" and without spaces, got )" +
                                     quoteForMessage(*target));
        } else {
          out.path = *target;
        }
      }
      if (auto host = hc.string("host")) {
        if (std::any_of(host->begin(), host->end(), [](char c) {
              return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F || c == ',';
            })) {
          hc.reportValue("host", "expected a Host header value without spaces, got " +
                                     quoteForMessage(*host));
        } else {
          out.host = *host;
        }
      }
      if (auto value = hc.duration("interval", kHealthIntervalRange)) out.interval = *value;
      if (auto value = hc.duration("timeout", kPositiveTimeout)) out.timeout = *value;
      if (auto value = hc.integer("healthy_threshold", 1, kMaxHealthThreshold)) {
        out.healthy_threshold = static_cast<int>(*value);
      }
      if (auto value = hc.integer("unhealthy_threshold", 1, kMaxHealthThreshold)) {
        out.unhealthy_threshold = static_cast<int>(*value);
      }
      if (const toml::array* statuses =
              hc.array("expected_statuses", R"(statuses such as 200 or "200-399")")) {
        std::vector<StatusRange> ranges;
        for (size_t i = 0; i < statuses->size(); ++i) {
          const toml::node& element = *statuses->get(i);
          if (auto range = statusRange(element)) {
            ranges.push_back(*range);
          } else {
            diagnostics_.report(positionOf(element),
                                indexPath(hc.keyPath("expected_statuses"), i),
                                R"(expected a status 100..599 or a range such as "200-399", got )" +
                                    describeValue(element));
          }
        }
        if (statuses->empty()) {
          hc.reportValue("expected_statuses", "expected at least one status, got an empty array");
        } else if (ranges.size() == statuses->size()) {
          out.expected_statuses = std::move(ranges);
        }
      }
    }
    if (const toml::table* table =
            reader.table("outlier_detection", "[cluster.outlier_detection]")) {
      TableReader od(diagnostics_, *table, joinPath(path, "outlier_detection"),
                     "in [cluster.outlier_detection]", kOutlierKeys);
      OutlierDetectionConfig& out = cluster.outlier_detection;
      if (auto value = od.integer("consecutive_5xx", 0, kMaxConsecutiveErrors)) {
        out.consecutive_5xx = static_cast<int>(*value);
      }
      if (auto value = od.integer("consecutive_connect_failures", 0, kMaxConsecutiveErrors)) {
        out.consecutive_connect_failures = static_cast<int>(*value);
      }
      if (auto value = od.duration("base_ejection_time", kPositiveTimeout)) {
        out.base_ejection_time = *value;
      }
      if (auto value = od.duration("max_ejection_time", kPositiveTimeout)) {
        out.max_ejection_time = *value;
      }
      if (out.max_ejection_time < out.base_ejection_time && od.find("max_ejection_time")) {
        od.reportValue("max_ejection_time",
                       "expected at least base_ejection_time (" +
                           formatDuration(out.base_ejection_time) + ")");
      }
      if (auto value = od.integer("max_ejection_percent", 0, 100)) {
        out.max_ejection_percent = static_cast<int>(*value);
      }
    }
    if (const toml::table* table = reader.table("retry", "[cluster.retry]")) {
      TableReader rr(diagnostics_, *table, joinPath(path, "retry"), "in [cluster.retry]",
                     kRetryKeys);
      RetryConfig& out = cluster.retry;
      if (auto value = rr.integer("max_retries", 0, kMaxRetries)) {
        out.max_retries = static_cast<int>(*value);
      }
      if (const toml::array* on = rr.array("retry_on", R"(conditions such as "reset" or "503")")) {
        RetryConfig parsed;
        parsed.on_connect_failure = parsed.on_reset = false;
        bool ok = true;
        for (size_t i = 0; i < on->size(); ++i) {
          const toml::node& element = *on->get(i);
          const std::string text = element.is_string() ? element.as_string()->get() : "";
          if (text == "connect_failure") {
            parsed.on_connect_failure = true;
          } else if (text == "reset") {
            parsed.on_reset = true;
          } else if (text.size() == 3 && text[0] == '5' && std::isdigit(static_cast<unsigned char>(text[1])) &&
                     std::isdigit(static_cast<unsigned char>(text[2]))) {
            parsed.on_statuses.push_back(std::stoi(text));
          } else {
            ok = false;
            diagnostics_.report(positionOf(element), indexPath(rr.keyPath("retry_on"), i),
                                R"(expected "connect_failure", "reset" or a 5xx status such as "503", got )" +
                                    describeValue(element));
          }
        }
        if (ok) {
          out.on_connect_failure = parsed.on_connect_failure;
          out.on_reset = parsed.on_reset;
          out.on_statuses = std::move(parsed.on_statuses);
        }
      }
      if (auto value = rr.integer("budget_percent", 0, 100)) {
        out.budget_percent = static_cast<int>(*value);
      }
      if (auto value = rr.integer("min_retry_concurrency", 0, kMaxClusterLimit)) {
        out.min_retry_concurrency = static_cast<int>(*value);
      }
    }
    if (const toml::table* table = reader.table("limits", "[cluster.limits]")) {
      TableReader lr(diagnostics_, *table, joinPath(path, "limits"), "in [cluster.limits]",
                     kClusterLimitsKeys);
      if (auto value = lr.integer("max_connections", 0, kMaxClusterLimit)) {
        cluster.limits.max_connections = static_cast<uint64_t>(*value);
      }
      if (auto value = lr.integer("max_requests", 0, kMaxClusterLimit)) {
        cluster.limits.max_requests = static_cast<uint64_t>(*value);
      }
    }
  }

  // 200, or "200-399".
  static std::optional<StatusRange> statusRange(const toml::node& node) {
    if (node.is_integer()) {
      const int64_t v = node.as_integer()->get();
      if (v < 100 || v > 599) return std::nullopt;
      return StatusRange{static_cast<int>(v), static_cast<int>(v)};
    }
    if (!node.is_string()) return std::nullopt;
    const std::string& text = node.as_string()->get();
    if (text.size() != 7 || text[3] != '-') return std::nullopt;
    int low = 0, high = 0;
    for (int i = 0; i < 3; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i])) ||
          !std::isdigit(static_cast<unsigned char>(text[4 + i]))) {
        return std::nullopt;
      }
      low = low * 10 + (text[i] - '0');
      high = high * 10 + (text[4 + i] - '0');
    }
    if (low < 100 || high > 599 || low > high) return std::nullopt;
    return StatusRange{low, high};
  }

  void checkClusters(const Config& config) {
    for (size_t j = 0; j < config.clusters.size(); ++j) {
      if (!clusters_seen_[j].name) continue;
      for (size_t i = 0; i < j; ++i) {
        if (clusters_seen_[i].name && config.clusters[i].name == config.clusters[j].name) {
          diagnostics_.report(*clusters_seen_[j].name, clusters_seen_[j].path + ".name",
                              "cluster name " + quoteForMessage(config.clusters[j].name) +
                                  " is already used by " + clusters_seen_[i].path +
                                  describeLine(*clusters_seen_[i].name));
          break;
        }
      }
    }
  }

  // ---- [[route]] ------------------------------------------------------------------------

  void readRoute(const toml::table& table, const std::string& path, RouteConfig& route) {
    TableReader reader(diagnostics_, table, path, "in [[route]]", kRouteKeys);
    Seen& seen = routes_seen_.emplace_back();
    seen.path = path;
    seen.table = positionOf(table);
    route.name = path;  // "route[N]": cannot collide with a valid name (no brackets)
    if (auto name = reader.name("name")) {
      route.name = *name;
      seen.name = positionOf(*reader.find("name"));
    }
    if (reader.find("listener") != nullptr) {
      if (auto listener = reader.name("listener")) {
        route.listener = *listener;
        seen.listener_ref = positionOf(*reader.find("listener"));
      } else {
        seen.has_valid_match = false;
      }
    }
    if (reader.find("host") != nullptr) {
      seen.has_valid_match = false;
      if (auto host = reader.string("host")) {
        Parsed<std::string> pattern = parseHostPattern(*host);
        if (pattern.ok()) {
          route.host = std::move(*pattern.value);
          seen.has_valid_match = true;
        } else {
          reader.reportValue("host", std::move(pattern.error));
        }
      }
    }
    const bool has_prefix = reader.find("path_prefix") != nullptr;
    const bool has_exact = reader.find("path_exact") != nullptr;
    if (has_prefix && has_exact) {
      reader.reportValue("path_exact", "path_prefix and path_exact cannot both be set: "
                                       "expected one of them");
      seen.has_valid_match = false;
    } else if (has_prefix || has_exact) {
      const std::string_view key = has_prefix ? "path_prefix" : "path_exact";
      std::optional<std::string> path_text = reader.string(key);
      if (path_text && !pathProblem(*path_text).empty()) {
        reader.reportValue(key, "expected a path such as \"/\" or \"/api/\", got " +
                                    quoteForMessage(*path_text) + " (" + pathProblem(*path_text) + ")");
        path_text.reset();
      }
      if (path_text) {
        route.path_match = has_prefix ? PathMatch::kPrefix : PathMatch::kExact;
        route.path = std::move(*path_text);
      } else {
        seen.has_valid_match = false;
      }
    }

    const bool has_cluster = reader.find("cluster") != nullptr;
    const bool has_direct = reader.find("direct_response") != nullptr;
    if (has_cluster && has_direct) {
      reader.reportValue("direct_response",
                         "cluster and direct_response cannot both be set: expected one of them");
    } else if (has_cluster) {
      if (auto cluster = reader.name("cluster")) {
        route.action = ClusterTarget{*cluster, 0};
        seen.cluster_ref = positionOf(*reader.find("cluster"));
      }
    } else if (has_direct) {
      if (const toml::table* direct = reader.table("direct_response", "{ status = 200, body = \"ok\" }")) {
        route.action = readDirectResponse(*direct, joinPath(path, "direct_response"));
      }
    } else {
      diagnostics_.report(positionOf(table), path,
                          "expected \"cluster\" or \"direct_response\": a route needs a target");
    }
  }

  DirectResponse readDirectResponse(const toml::table& table, const std::string& path) {
    TableReader reader(diagnostics_, table, path, "in direct_response", kDirectResponseKeys);
    DirectResponse response;
    if (reader.require("status")) {
      if (auto status = reader.integer("status", kMinDirectStatus, kMaxDirectStatus)) {
        response.status = static_cast<int>(*status);
      }
    }
    if (auto body = reader.string("body")) {
      if (body->size() > kMaxDirectBodyBytes) {
        reader.reportValue("body", "expected a body of at most " + formatSize(kMaxDirectBodyBytes) +
                                       ", got " + std::to_string(body->size()) + " bytes");
      } else if (!body->empty() && (response.status == 204 || response.status == 304)) {
        // RFC 9110: these responses end at the headers; a body would corrupt the stream.
        reader.reportValue("body", "status " + std::to_string(response.status) +
                                       " must not have a body: expected \"\" or no body key");
      } else {
        response.body = std::move(*body);
      }
    }
    return response;
  }

  // A name that is not defined: suggest the closest defined one, or list them.
  static std::string unknownNameMessage(std::string_view what, const std::string& name,
                                        const std::vector<std::string>& defined) {
    std::string message = "no " + std::string(what) + " named " + quoteForMessage(name);
    if (std::optional<std::string> suggestion = closestMatch(name, defined)) {
      message += " (did you mean \"" + *suggestion + "\"?)";
    } else if (defined.empty()) {
      message += " (no [[" + std::string(what) + "]] is defined)";
    } else {
      message += " (expected one of: " + quotedAlternatives(defined) + ")";
    }
    return message;
  }

  void checkRoutes(Config& config) {
    std::vector<std::string> listener_names;
    for (size_t i = 0; i < config.listeners.size(); ++i) {
      if (listeners_seen_[i].name) listener_names.push_back(config.listeners[i].name);
    }
    std::vector<std::string> cluster_names;
    for (size_t i = 0; i < config.clusters.size(); ++i) {
      if (clusters_seen_[i].name) cluster_names.push_back(config.clusters[i].name);
    }
    for (size_t j = 0; j < config.routes.size(); ++j) {
      RouteConfig& route = config.routes[j];
      const Seen& seen = routes_seen_[j];
      const std::string& path = seen.path;
      if (seen.listener_ref &&
          std::find(listener_names.begin(), listener_names.end(), *route.listener) == listener_names.end()) {
        diagnostics_.report(*seen.listener_ref, path + ".listener",
                            unknownNameMessage("listener", *route.listener, listener_names));
      }
      if (seen.cluster_ref) {
        auto& target = std::get<ClusterTarget>(route.action);
        const auto found = std::find(cluster_names.begin(), cluster_names.end(), target.cluster);
        if (found == cluster_names.end()) {
          diagnostics_.report(*seen.cluster_ref, path + ".cluster",
                              unknownNameMessage("cluster", target.cluster, cluster_names));
        } else {
          const ClusterConfig* cluster = config.findCluster(target.cluster);
          target.cluster_index = static_cast<size_t>(cluster - config.clusters.data());
        }
      }
      for (size_t i = 0; i < j; ++i) {
        const RouteConfig& earlier = config.routes[i];
        const Seen& earlier_seen = routes_seen_[i];
        if (seen.name && earlier_seen.name && route.name == earlier.name) {
          diagnostics_.report(*seen.name, path + ".name",
                              "route name " + quoteForMessage(route.name) +
                                  " is already used by " + earlier_seen.path +
                                  describeLine(*earlier_seen.name));
        }
        // First match wins, so a later route with the very same match is dead: almost
        // always a copy-paste mistake.
        if (seen.has_valid_match && earlier_seen.has_valid_match &&
            route.listener == earlier.listener && route.host == earlier.host &&
            route.path_match == earlier.path_match && route.path == earlier.path) {
          diagnostics_.report(seen.table, path,
                              "route matches exactly the same requests as " +
                                  earlier_seen.path + describeLine(earlier_seen.table) +
                                  ", which comes first, so it can never be used");
        }
      }
    }
  }

  Diagnostics& diagnostics_;
  const LoadOptions& options_;
  std::optional<Position> admin_address_at_;
  std::vector<Seen> listeners_seen_;
  std::vector<Seen> clusters_seen_;
  std::vector<Seen> routes_seen_;
};

}  // namespace

std::string ConfigError::toString() const {
  std::string out = file;
  if (line > 0) {
    out += ':' + std::to_string(line) + ':' + std::to_string(column);
  }
  out += ": ";
  if (!key_path.empty()) out += key_path + ": ";
  out += message;
  return out;
}

LoadResult LoadResult::success(std::shared_ptr<const Config> config) {
  assert(config != nullptr);
  return LoadResult(std::move(config));
}

LoadResult LoadResult::failure(std::vector<ConfigError> errors) {
  assert(!errors.empty());
  return LoadResult(std::move(errors));
}

const std::shared_ptr<const Config>& LoadResult::config() const {
  assert(ok());
  return std::get<std::shared_ptr<const Config>>(value_);
}

const std::vector<ConfigError>& LoadResult::errors() const {
  static const std::vector<ConfigError> kNoErrors;
  if (ok()) return kNoErrors;
  return std::get<std::vector<ConfigError>>(value_);
}

std::string LoadResult::errorReport() const {
  std::string report;
  for (const ConfigError& error : errors()) {
    report += error.toString();
    report += '\n';
  }
  return report;
}

LoadResult loadConfigString(std::string_view text, std::string_view source_name,
                            const LoadOptions& options) {
  Diagnostics diagnostics(source_name);
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& error) {
    diagnostics.report(positionOf(error.source().begin), "",
                       "invalid TOML: " + std::string(error.description()));
    return LoadResult::failure(std::move(diagnostics).take());
  }

  auto config = std::make_shared<Config>();
  config->source_name = std::string(source_name);
  config->source_text = std::string(text);
  config->hash = contentHash(text);
  ConfigBuilder(diagnostics, options).build(root, *config);
  if (!diagnostics.empty()) return LoadResult::failure(std::move(diagnostics).take());
  return LoadResult::success(std::move(config));
}

LoadResult loadConfigFile(const std::string& path, const LoadOptions& options) {
  auto fail = [&](std::string message) {
    return LoadResult::failure({ConfigError{path, 0, 0, "", std::move(message)}});
  };
  std::ifstream file(path, std::ios::binary);
  if (!file) return fail("cannot open the config file: " + std::string(std::strerror(errno)));
  std::string text;
  // Read in bounded chunks so that a huge file (or /dev/zero) is refused, not swallowed.
  std::array<char, 64 * 1024> chunk;
  while (file.read(chunk.data(), chunk.size()) || file.gcount() > 0) {
    text.append(chunk.data(), static_cast<size_t>(file.gcount()));
    if (text.size() > kMaxConfigFileBytes) {
      return fail("the config file is larger than " + formatSize(kMaxConfigFileBytes));
    }
  }
  if (file.bad()) return fail("cannot read the config file: " + std::string(std::strerror(errno)));
  return loadConfigString(text, path, options);
}

std::vector<int> cpusAllowedForProcess() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return {};
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

std::string contentHash(std::string_view bytes) {
  // FNV-1a 64: offset basis and prime from the FNV reference (draft-eastlake-fnv).
  constexpr uint64_t kOffsetBasis = 14695981039346656037ULL;
  constexpr uint64_t kPrime = 1099511628211ULL;
  uint64_t hash = kOffsetBasis;
  for (char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= kPrime;
  }
  constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kHex[hash & 0xF];
    hash >>= 4;
  }
  return out;
}

}  // namespace switchyard::config
