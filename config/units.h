// Units: the text formats a switchyard.toml value may use, parsed by pure functions.
//
// Durations ("250us", "10ms", "1m30s"), sizes ("512", "16KiB", "1MiB"), cpuset lists
// ("0-3,8"), "host:port" addresses and host-name patterns ("*.example.com"). They touch
// no global state and no system call, so they are tested directly
// (tests/unit/config/units_test.cc) and reused by the loader, which adds the file, line,
// column and key path to their messages.
//
// Every failure message is self-contained and says what was expected and what was got,
// e.g. `expected "host:port", got "8080"`: the loader prints it as is.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"

namespace switchyard::config {

// The value, or why there is none. Exactly one of the two is set.
template <typename T>
struct Parsed {
  std::optional<T> value;
  std::string error;

  static Parsed success(T v) { return Parsed{std::move(v), {}}; }
  static Parsed failure(std::string why) { return Parsed{std::nullopt, std::move(why)}; }
  bool ok() const { return value.has_value(); }
};

// Go's time.ParseDuration syntax without a sign: one or more <number><unit>, the number
// may have a fraction ("1.5s"), units ns, us (or µs), ms, s, m, h; "0" alone is zero.
// Fails on values above ~292 years (int64 nanoseconds).
Parsed<std::chrono::nanoseconds> parseDuration(std::string_view text);

// "<digits>[unit]": no unit or B = bytes; KiB, MiB, GiB, TiB = powers of 1024;
// KB, MB, GB, TB = powers of 1000. Units are case-insensitive. No fractions.
Parsed<uint64_t> parseSize(std::string_view text);

// Largest CPU id a cpuset may name: glibc's cpu_set_t holds CPU_SETSIZE = 1024 CPUs.
inline constexpr int kMaxCpuId = 1023;

// Linux cpuset list syntax ("0-3,8", as in /sys/fs/cgroup/cpuset.cpus and taskset -c):
// comma-separated ids and inclusive ranges, spaces around items allowed. The result is
// sorted and without duplicates. Fails on "", "3-1", non-numbers and ids above kMaxCpuId.
Parsed<std::vector<int>> parseCpuSet(std::string_view text);

// The inverse of parseCpuSet for a sorted, unique list: {0,1,2,3,8} -> "0-3,8".
std::string formatCpuSet(const std::vector<int>& cpus);

// Shortest exact spelling with one unit: 10ms -> "10ms", 1500ms -> "1500ms", 0 -> "0s".
std::string formatDuration(std::chrono::nanoseconds duration);

// Shortest exact spelling with a binary unit: 16384 -> "16KiB", 1000 -> "1000".
std::string formatSize(uint64_t bytes);

// What an address may contain where it is used.
struct HostPortRules {
  // Cluster endpoints may be DNS names; listener and admin addresses must be IP
  // literals (binding needs an address, and config/ resolves nothing).
  bool allow_names = false;
  // Port 0 asks the kernel for any free port: useful for listeners in tests, meaningless
  // for an endpoint to connect to.
  bool allow_port_zero = false;
};

// "1.2.3.4:80", "[::1]:80" or (with allow_names) "backend.internal:80". Host names are
// RFC 1123 labels (letters, digits, '-'; '_' too, as container runtimes use it), at most
// 253 characters. IPv6 must be bracketed; zone ids ("%eth0") are not supported.
Parsed<HostPort> parseHostPort(std::string_view text, HostPortRules rules);

// A host to match against a request's Host or a TLS SNI name: "api.example.com", or
// "*.example.com" for any name ending in ".example.com" (the '*' must be the whole first
// label). No port. Returned lower-cased.
Parsed<std::string> parseHostPattern(std::string_view text);

// Quotes `text` for an error message: "like \"this\"", control bytes escaped, long text
// shortened with "..." so one bad value cannot flood the terminal.
std::string quoteForMessage(std::string_view text);

}  // namespace switchyard::config
