// The value formats of switchyard.toml, tested on the pure parsing functions.
#include "config/units.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace switchyard::config {
namespace {

using std::chrono::nanoseconds;

struct DurationCase {
  std::string text;
  int64_t nanos;
};

TEST(ParseDuration, AcceptsGoSyntax) {
  const std::vector<DurationCase> cases = {
      {"0", 0},
      {"0s", 0},
      {"250us", 250'000},
      {"250\xC2\xB5s", 250'000},  // micro sign
      {"250\xCE\xBCs", 250'000},  // greek mu
      {"10ms", 10'000'000},
      {"2s", 2'000'000'000},
      {"1m", 60'000'000'000},
      {"1h", 3'600'000'000'000},
      {"7ns", 7},
      {"1m30s", 90'000'000'000},
      {"1h2m3s4ms", 3'723'004'000'000},
      {"1.5s", 1'500'000'000},
      {".5s", 500'000'000},
      {"1.s", 1'000'000'000},
      {"0.000000001s", 1},
      {"0.0000000019s", 1},  // digits beyond nanoseconds are truncated
      {"2562047h", 2562047LL * 3'600'000'000'000},
  };
  for (const DurationCase& c : cases) {
    const Parsed<nanoseconds> parsed = parseDuration(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text << ": " << parsed.error;
    EXPECT_EQ(parsed.value->count(), c.nanos) << c.text;
    EXPECT_TRUE(parsed.error.empty());
  }
}

struct RejectCase {
  std::string text;
  std::string message;  // the exact message
};

TEST(ParseDuration, RejectsWithExpectation) {
  const std::string expected = R"(expected a duration such as "250us", "10ms", "2s" or "1m", got )";
  const std::vector<RejectCase> cases = {
      {"", expected + R"("")"},
      {"10", expected + R"("10" (missing unit: ns, us, ms, s, m or h))"},
      {"10sec", expected + R"("10sec" (unknown unit "sec": use ns, us, ms, s, m or h))"},
      {"10 ms", expected + R"("10 ms" (unknown unit " ms": use ns, us, ms, s, m or h))"},
      {"-5s", expected + R"("-5s" (negative durations are not allowed))"},
      {"s", expected + R"("s")"},
      {".s", expected + R"(".s")"},
      {"1s2", expected + R"("1s2" (missing unit: ns, us, ms, s, m or h))"},
      {"2562048h", expected + R"("2562048h" (too large))"},
      {"99999999999999999999999s", expected + R"("99999999999999999999999s" (too large))"},
  };
  for (const RejectCase& c : cases) {
    const Parsed<nanoseconds> parsed = parseDuration(c.text);
    EXPECT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.error, c.message) << c.text;
  }
}

TEST(FormatDuration, UsesTheLargestExactUnit) {
  EXPECT_EQ(formatDuration(nanoseconds{0}), "0s");
  EXPECT_EQ(formatDuration(std::chrono::microseconds{50}), "50us");
  EXPECT_EQ(formatDuration(std::chrono::milliseconds{10}), "10ms");
  EXPECT_EQ(formatDuration(std::chrono::milliseconds{1500}), "1500ms");
  EXPECT_EQ(formatDuration(std::chrono::seconds{1}), "1s");
  EXPECT_EQ(formatDuration(std::chrono::seconds{90}), "90s");
  EXPECT_EQ(formatDuration(std::chrono::minutes{2}), "2m");
  EXPECT_EQ(formatDuration(std::chrono::hours{3}), "3h");
  EXPECT_EQ(formatDuration(nanoseconds{1001}), "1001ns");
}

TEST(ParseSize, AcceptsBinaryAndDecimalUnits) {
  const std::vector<std::pair<std::string, uint64_t>> cases = {
      {"0", 0},
      {"512", 512},
      {"512B", 512},
      {"16KiB", 16 * 1024},
      {"16kib", 16 * 1024},
      {"1MiB", 1024 * 1024},
      {"2GiB", 2ULL << 30},
      {"1TiB", 1ULL << 40},
      {"16KB", 16'000},
      {"16kB", 16'000},
      {"3MB", 3'000'000},
      {"1GB", 1'000'000'000},
      {"2TB", 2'000'000'000'000},
      {"18446744073709551615", 18446744073709551615ULL},
  };
  for (const auto& [text, bytes] : cases) {
    const Parsed<uint64_t> parsed = parseSize(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.error;
    EXPECT_EQ(*parsed.value, bytes) << text;
  }
}

TEST(ParseSize, RejectsWithExpectation) {
  const std::string expected = R"(expected a size such as "512", "16KiB" or "1MiB", got )";
  const std::vector<RejectCase> cases = {
      {"", expected + R"("")"},
      {"KiB", expected + R"("KiB")"},
      {"-1", expected + R"("-1" (negative sizes are not allowed))"},
      {"1.5MiB", expected + R"("1.5MiB" (fractions are not allowed))"},
      {"16K", expected +
                  R"("16K" (unknown unit "K": use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB))"},
      {"16 KiB", expected +
                     R"("16 KiB" (unknown unit " KiB": use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB))"},
      {"18446744073709551616", expected + R"("18446744073709551616" (too large))"},
      {"17179869184GiB", expected + R"("17179869184GiB" (too large))"},
  };
  for (const RejectCase& c : cases) {
    const Parsed<uint64_t> parsed = parseSize(c.text);
    EXPECT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.error, c.message) << c.text;
  }
}

TEST(FormatSize, UsesTheLargestExactBinaryUnit) {
  EXPECT_EQ(formatSize(0), "0");
  EXPECT_EQ(formatSize(1000), "1000");
  EXPECT_EQ(formatSize(4096), "4KiB");
  EXPECT_EQ(formatSize(16 * 1024), "16KiB");
  EXPECT_EQ(formatSize(64ULL << 20), "64MiB");
  EXPECT_EQ(formatSize(3ULL << 30), "3GiB");
  EXPECT_EQ(formatSize(1ULL << 40), "1TiB");
}

TEST(ParseCpuSet, SortsAndMergesItems) {
  const std::vector<std::pair<std::string, std::vector<int>>> cases = {
      {"0", {0}},
      {"0-3", {0, 1, 2, 3}},
      {"0-3,8", {0, 1, 2, 3, 8}},
      {"8,0-1", {0, 1, 8}},
      {"2,1,2,1-2", {1, 2}},
      {"0-3, 8", {0, 1, 2, 3, 8}},
      {" 5 - 6 ", {5, 6}},
      {"1023", {1023}},
      {"4-4", {4}},
  };
  for (const auto& [text, cpus] : cases) {
    const Parsed<std::vector<int>> parsed = parseCpuSet(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.error;
    EXPECT_EQ(*parsed.value, cpus) << text;
  }
}

TEST(ParseCpuSet, CoversEveryAllowedId) {
  const Parsed<std::vector<int>> parsed = parseCpuSet("0-1023");
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed.value->size(), 1024u);
  EXPECT_EQ(parsed.value->front(), 0);
  EXPECT_EQ(parsed.value->back(), kMaxCpuId);
}

TEST(ParseCpuSet, RejectsWithExpectation) {
  const std::string expected = R"(expected a cpuset list such as "0-3,8", got )";
  const std::vector<RejectCase> cases = {
      {"", expected + R"("")"},
      {"   ", expected + R"("   ")"},
      {"a", expected + R"("a" (not a CPU number: "a"))"},
      {"3-1", expected + R"("3-1" (range 3-1 is reversed))"},
      {"1024", expected + R"("1024" (CPU 1024 is above the maximum 1023))"},
      {"0-99999999999999999999", expected +
                                     R"("0-99999999999999999999" (CPU 99999999999999999999 is above the maximum 1023))"},
      {"0,,1", expected + R"("0,,1" (empty item))"},
      {"0,", expected + R"("0," (empty item))"},
      {"-1", expected + R"("-1" (not a CPU number: ""))"},
      {"1-", expected + R"("1-" (not a CPU number: ""))"},
      {"1-2-3", expected + R"("1-2-3" (not a CPU number: "2-3"))"},
      {"+1", expected + R"("+1" (not a CPU number: "+1"))"},
  };
  for (const RejectCase& c : cases) {
    const Parsed<std::vector<int>> parsed = parseCpuSet(c.text);
    EXPECT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.error, c.message) << c.text;
  }
}

TEST(FormatCpuSet, CollapsesRuns) {
  EXPECT_EQ(formatCpuSet({}), "");
  EXPECT_EQ(formatCpuSet({0}), "0");
  EXPECT_EQ(formatCpuSet({0, 1, 2, 3, 8}), "0-3,8");
  EXPECT_EQ(formatCpuSet({1, 3, 5}), "1,3,5");
  EXPECT_EQ(formatCpuSet({0, 1, 4, 5, 6, 9}), "0-1,4-6,9");
  for (const std::string text : {"0-3,8", "1,3,5-7", "0-1023"}) {
    EXPECT_EQ(formatCpuSet(*parseCpuSet(text).value), text);
  }
}

constexpr HostPortRules kListenerRules{.allow_names = false, .allow_port_zero = true};
constexpr HostPortRules kEndpointRules{.allow_names = true, .allow_port_zero = false};

TEST(ParseHostPort, AcceptsIpLiteralsAndNames) {
  struct Case {
    std::string text;
    HostPortRules rules;
    HostPort expected;
  };
  const std::vector<Case> cases = {
      {"127.0.0.1:8080", kListenerRules, {"127.0.0.1", 8080, HostKind::kIpv4}},
      {"0.0.0.0:0", kListenerRules, {"0.0.0.0", 0, HostKind::kIpv4}},
      {"[::1]:80", kListenerRules, {"::1", 80, HostKind::kIpv6}},
      {"[::]:443", kListenerRules, {"::", 443, HostKind::kIpv6}},
      // Canonical IPv6 text, so equal addresses compare equal.
      {"[0:0::1]:80", kListenerRules, {"::1", 80, HostKind::kIpv6}},
      {"[2001:DB8::A]:65535", kListenerRules, {"2001:db8::a", 65535, HostKind::kIpv6}},
      {"[::ffff:1.2.3.4]:1", kListenerRules, {"::ffff:1.2.3.4", 1, HostKind::kIpv6}},
      {"backend.internal:80", kEndpointRules, {"backend.internal", 80, HostKind::kName}},
      {"Backend.Internal:80", kEndpointRules, {"backend.internal", 80, HostKind::kName}},
      {"localhost:9000", kEndpointRules, {"localhost", 9000, HostKind::kName}},
      {"web_1:3000", kEndpointRules, {"web_1", 3000, HostKind::kName}},
      {"10.0.0.7:9000", kEndpointRules, {"10.0.0.7", 9000, HostKind::kIpv4}},
  };
  for (const Case& c : cases) {
    const Parsed<HostPort> parsed = parseHostPort(c.text, c.rules);
    ASSERT_TRUE(parsed.ok()) << c.text << ": " << parsed.error;
    EXPECT_EQ(*parsed.value, c.expected) << c.text;
  }
}

TEST(HostPort, ToStringBracketsIpv6) {
  EXPECT_EQ((HostPort{"1.2.3.4", 80, HostKind::kIpv4}.toString()), "1.2.3.4:80");
  EXPECT_EQ((HostPort{"::1", 80, HostKind::kIpv6}.toString()), "[::1]:80");
  EXPECT_EQ((HostPort{"a.example", 443, HostKind::kName}.toString()), "a.example:443");
}

TEST(ParseHostPort, RejectsWithExpectation) {
  struct Case {
    std::string text;
    HostPortRules rules;
    std::string message;
  };
  const std::string got = R"(expected "host:port", got )";
  const std::vector<Case> cases = {
      {"8080", kListenerRules, got + R"("8080")"},
      {"", kListenerRules, got + R"("")"},
      {":8080", kListenerRules,
       got + R"(":8080" (missing host: "0.0.0.0:8080" listens on every IPv4 address, "[::]:8080" on every IPv6 address))"},
      {":8080", kEndpointRules, got + R"(":8080" (missing host))"},
      {"localhost:8080", kListenerRules,
       got + R"("localhost:8080" (an IP address is required here, such as "127.0.0.1" or "[::1]"; host names are accepted only in cluster endpoints))"},
      {"::1:80", kListenerRules,
       got + R"("::1:80" (an IPv6 address must be in brackets, as in "[::1]:8080"))"},
      {"[::1:80", kListenerRules, got + R"("[::1:80" (missing "]" after the IPv6 address))"},
      {"[::1]80", kListenerRules, got + R"("[::1]80" (missing ":port" after "]"))"},
      {"[::1]", kListenerRules, got + R"("[::1]" (missing ":port" after "]"))"},
      {"[1::2::3]:80", kListenerRules, got + R"("[1::2::3]:80" (invalid IPv6 address "1::2::3"))"},
      {"[]:80", kListenerRules, got + R"("[]:80" (invalid IPv6 address ""))"},
      {"[fe80::1%eth0]:80", kListenerRules,
       got + R"("[fe80::1%eth0]:80" (invalid IPv6 address "fe80::1%eth0"))"},
      {"1.2.3:80", kEndpointRules, got + R"("1.2.3:80" (invalid IPv4 address "1.2.3"))"},
      {"256.0.0.1:80", kListenerRules, got + R"("256.0.0.1:80" (invalid IPv4 address "256.0.0.1"))"},
      {"01.2.3.4:80", kListenerRules, got + R"("01.2.3.4:80" (invalid IPv4 address "01.2.3.4"))"},
      {"1.2.3.4:", kListenerRules, got + R"("1.2.3.4:" (missing or non-numeric port))"},
      {"1.2.3.4:http", kListenerRules, got + R"("1.2.3.4:http" (missing or non-numeric port))"},
      {"1.2.3.4:+80", kListenerRules, got + R"("1.2.3.4:+80" (missing or non-numeric port))"},
      {"1.2.3.4:65536", kListenerRules, got + R"("1.2.3.4:65536" (port above 65535))"},
      {"1.2.3.4:99999999999999999999", kListenerRules,
       got + R"("1.2.3.4:99999999999999999999" (port above 65535))"},
      {"backend:0", kEndpointRules, got + R"("backend:0" (port 0 is not allowed here))"},
      {"-backend:80", kEndpointRules,
       got + R"("-backend:80" (host name label starts or ends with '-'))"},
      {"a..b:80", kEndpointRules, got + R"("a..b:80" (empty label in host name))"},
      {"a b:80", kEndpointRules, got + R"("a b:80" (invalid character in host name))"},
      {std::string(64, 'a') + ".b:80", kEndpointRules,
       got + "\"" + std::string(64, 'a') + "...\" (host name label longer than 63 characters)"},
  };
  for (const Case& c : cases) {
    const Parsed<HostPort> parsed = parseHostPort(c.text, c.rules);
    EXPECT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.error, c.message) << c.text;
  }
}

TEST(ParseHostPort, EmbeddedNulIsNotAnAddress) {
  const std::string text("1.2.3.4\0junk:80", 15);
  EXPECT_FALSE(parseHostPort(text, kEndpointRules).ok());
  const std::string bracketed("[::1\0zz]:80", 11);
  EXPECT_FALSE(parseHostPort(bracketed, kListenerRules).ok());
}

TEST(ParseHostPattern, AcceptsExactAndWildcardNames) {
  EXPECT_EQ(*parseHostPattern("api.example.com").value, "api.example.com");
  EXPECT_EQ(*parseHostPattern("API.Example.COM").value, "api.example.com");
  EXPECT_EQ(*parseHostPattern("*.example.com").value, "*.example.com");
  EXPECT_EQ(*parseHostPattern("localhost").value, "localhost");
}

TEST(ParseHostPattern, RejectsWithExpectation) {
  const std::string got = R"(expected a host name such as "api.example.com" or "*.example.com", got )";
  const std::vector<RejectCase> cases = {
      {"", got + R"("" (empty host name))"},
      {"*", got + R"("*" ('*' is allowed only as the whole first label, as in "*.example.com"))"},
      {"a.*.com", got + R"("a.*.com" ('*' is allowed only as the whole first label, as in "*.example.com"))"},
      {"*example.com",
       got + R"("*example.com" ('*' is allowed only as the whole first label, as in "*.example.com"))"},
      {"api.example.com:443", got + R"("api.example.com:443" (no port: the port is ignored when matching))"},
      {"api.example.com.", got + R"("api.example.com." (empty label in host name))"},
  };
  for (const RejectCase& c : cases) {
    const Parsed<std::string> parsed = parseHostPattern(c.text);
    EXPECT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.error, c.message) << c.text;
  }
}

TEST(QuoteForMessage, EscapesAndShortens) {
  EXPECT_EQ(quoteForMessage("plain"), "\"plain\"");
  EXPECT_EQ(quoteForMessage("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(quoteForMessage("line\nnext\ttab"), R"("line\nnext\ttab")");
  EXPECT_EQ(quoteForMessage(std::string("\x01\x7f", 2)), R"("\x01\x7f")");
  EXPECT_EQ(quoteForMessage(std::string(100, 'x')), "\"" + std::string(64, 'x') + "...\"");
  // 63 ASCII bytes then a 2-byte character straddling the cut: the character is dropped
  // whole, not split.
  const std::string straddling = std::string(63, 'x') + "\xC3\xA9" + "tail";
  EXPECT_EQ(quoteForMessage(straddling), "\"" + std::string(63, 'x') + "...\"");
}

}  // namespace
}  // namespace switchyard::config
