#include "config/units.h"

#include <arpa/inet.h>  // inet_pton/inet_ntop: pure text <-> address conversions, no sockets

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

namespace switchyard::config {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

char toLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowerCased(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = toLower(c);
  return out;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (toLower(a[i]) != toLower(b[i])) return false;
  }
  return true;
}

std::string_view trimSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// "expected <expectation>, got <quoted>[ (<detail>)]": the one shape of every message.
std::string expectedGot(std::string_view expectation, std::string_view got,
                        std::string_view detail = {}) {
  std::string message = "expected ";
  message += expectation;
  message += ", got ";
  message += quoteForMessage(got);
  if (!detail.empty()) {
    message += " (";
    message += detail;
    message += ")";
  }
  return message;
}

// A run of decimal digits read from text[pos...]: `value` is exact unless `above_cap`
// (the number exceeds `cap`), so an absurdly long number cannot overflow.
struct Digits {
  size_t count = 0;
  uint64_t value = 0;
  bool above_cap = false;
};

Digits readDigits(std::string_view text, size_t& pos, uint64_t cap) {
  Digits digits;
  // Bounded by text.size().
  while (pos < text.size() && isDigit(text[pos])) {
    const auto digit = static_cast<uint64_t>(text[pos] - '0');
    if (!digits.above_cap) {
      if (digits.value > (cap - digit) / 10) {
        digits.above_cap = true;
      } else {
        digits.value = digits.value * 10 + digit;
      }
    }
    ++digits.count;
    ++pos;
  }
  return digits;
}

struct DurationUnit {
  std::string_view name;
  int64_t nanoseconds;
};

constexpr std::array<DurationUnit, 8> kDurationUnits = {{
    {"ns", 1},
    {"us", 1'000},
    {"\xC2\xB5s", 1'000},  // U+00B5 MICRO SIGN, as Go accepts
    {"\xCE\xBCs", 1'000},  // U+03BC GREEK SMALL LETTER MU, as Go accepts
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60LL * 1'000'000'000},
    {"h", 3600LL * 1'000'000'000},
}};

constexpr std::string_view kDurationExpectation =
    R"(a duration such as "250us", "10ms", "2s" or "1m")";

struct SizeUnit {
  std::string_view name;  // compared case-insensitively
  uint64_t bytes;
};

constexpr std::array<SizeUnit, 10> kSizeUnits = {{
    {"b", 1},
    {"kib", 1ULL << 10},
    {"mib", 1ULL << 20},
    {"gib", 1ULL << 30},
    {"tib", 1ULL << 40},
    {"kb", 1'000ULL},
    {"mb", 1'000'000ULL},
    {"gb", 1'000'000'000ULL},
    {"tb", 1'000'000'000'000ULL},
    {"", 1},
}};

constexpr std::string_view kSizeExpectation = R"(a size such as "512", "16KiB" or "1MiB")";

constexpr std::string_view kCpuSetExpectation = R"(a cpuset list such as "0-3,8")";

constexpr std::string_view kHostPortExpectation = R"("host:port")";

constexpr std::string_view kHostPatternExpectation =
    R"(a host name such as "api.example.com" or "*.example.com")";

// RFC 1123 host name, plus '_' (container runtimes name services "web_1"). Returns why it
// is not one, or an empty string when it is.
std::string hostNameProblem(std::string_view name) {
  if (name.empty()) return "empty host name";
  if (name.size() > 253) return "host name longer than 253 characters";
  size_t label_start = 0;
  // Bounded by name.size(): each pass moves label_start past one '.'.
  while (label_start <= name.size()) {
    size_t dot = name.find('.', label_start);
    if (dot == std::string_view::npos) dot = name.size();
    const std::string_view label = name.substr(label_start, dot - label_start);
    if (label.empty()) return "empty label in host name";
    if (label.size() > 63) return "host name label longer than 63 characters";
    if (label.front() == '-' || label.back() == '-') {
      return "host name label starts or ends with '-'";
    }
    for (char c : label) {
      const bool allowed = isDigit(c) || (toLower(c) >= 'a' && toLower(c) <= 'z') ||
                           c == '-' || c == '_';
      if (!allowed) return "invalid character in host name";
    }
    label_start = dot + 1;
  }
  return {};
}

bool onlyDigitsAndDots(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return isDigit(c) || c == '.'; });
}

bool onlyIpv6Characters(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return isDigit(c) || (toLower(c) >= 'a' && toLower(c) <= 'f') || c == ':' || c == '.';
  });
}

}  // namespace

std::string quoteForMessage(std::string_view text) {
  // Long enough for any sensible value, short enough for one terminal line.
  constexpr size_t kMaxShown = 64;
  bool shortened = false;
  if (text.size() > kMaxShown) {
    size_t cut = kMaxShown;
    // Do not split a UTF-8 sequence: back up over continuation bytes (10xxxxxx).
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut);
    shortened = true;
  }
  std::string out = "\"";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7F) {
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    } else {
      out += c;
    }
  }
  out += shortened ? "...\"" : "\"";
  return out;
}

Parsed<std::chrono::nanoseconds> parseDuration(std::string_view text) {
  using Result = Parsed<std::chrono::nanoseconds>;
  auto fail = [&](std::string_view detail) {
    return Result::failure(expectedGot(kDurationExpectation, text, detail));
  };
  if (text.empty()) return fail({});
  if (text == "0") return Result::success(std::chrono::nanoseconds{0});

  constexpr auto kMaxNanos = static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max());
  // Fraction digits past 18 cannot change an int64 nanosecond count by more than rounding;
  // ignoring them keeps the fraction in a uint64.
  constexpr uint64_t kMaxFractionScale = 1'000'000'000'000'000'000ULL;
  unsigned __int128 total = 0;
  size_t pos = 0;
  // Bounded by text.size(): every pass consumes at least one digit or '.'.
  while (pos < text.size()) {
    const Digits whole = readDigits(text, pos, std::numeric_limits<uint64_t>::max());
    uint64_t fraction = 0;
    uint64_t fraction_scale = 1;
    size_t fraction_digits = 0;
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      // Bounded by text.size().
      while (pos < text.size() && isDigit(text[pos])) {
        if (fraction_scale < kMaxFractionScale) {
          fraction = fraction * 10 + static_cast<uint64_t>(text[pos] - '0');
          fraction_scale *= 10;
        }
        ++pos;
        ++fraction_digits;
      }
    }
    if (whole.count == 0 && fraction_digits == 0) {
      if (pos < text.size() && text[pos] == '-') return fail("negative durations are not allowed");
      return fail({});
    }
    const size_t unit_start = pos;
    // Bounded by text.size().
    while (pos < text.size() && !isDigit(text[pos]) && text[pos] != '.') ++pos;
    const std::string_view unit_name = text.substr(unit_start, pos - unit_start);
    if (unit_name.empty()) return fail("missing unit: ns, us, ms, s, m or h");
    const auto unit = std::find_if(kDurationUnits.begin(), kDurationUnits.end(),
                                   [&](const DurationUnit& u) { return u.name == unit_name; });
    if (unit == kDurationUnits.end()) {
      return fail("unknown unit " + quoteForMessage(unit_name) + ": use ns, us, ms, s, m or h");
    }
    const auto unit_nanos = static_cast<unsigned __int128>(unit->nanoseconds);
    if (whole.above_cap) return fail("too large");
    total += static_cast<unsigned __int128>(whole.value) * unit_nanos +
             static_cast<unsigned __int128>(fraction) * unit_nanos / fraction_scale;
    if (total > kMaxNanos) {
      return fail("too large");
    }
  }
  return Result::success(std::chrono::nanoseconds{static_cast<int64_t>(total)});
}

Parsed<uint64_t> parseSize(std::string_view text) {
  using Result = Parsed<uint64_t>;
  auto fail = [&](std::string_view detail) {
    return Result::failure(expectedGot(kSizeExpectation, text, detail));
  };
  size_t pos = 0;
  const Digits count = readDigits(text, pos, std::numeric_limits<uint64_t>::max());
  if (count.count == 0) {
    return fail(pos < text.size() && text[pos] == '-' ? "negative sizes are not allowed" : "");
  }
  if (pos < text.size() && text[pos] == '.') return fail("fractions are not allowed");
  const std::string_view unit_name = text.substr(pos);
  const auto unit = std::find_if(kSizeUnits.begin(), kSizeUnits.end(), [&](const SizeUnit& u) {
    return equalsIgnoringCase(u.name, unit_name);
  });
  if (unit == kSizeUnits.end()) {
    return fail("unknown unit " + quoteForMessage(unit_name) +
                ": use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB");
  }
  if (count.above_cap || count.value > std::numeric_limits<uint64_t>::max() / unit->bytes) {
    return fail("too large");
  }
  return Result::success(count.value * unit->bytes);
}

Parsed<std::vector<int>> parseCpuSet(std::string_view text) {
  using Result = Parsed<std::vector<int>>;
  auto fail = [&](std::string_view detail) {
    return Result::failure(expectedGot(kCpuSetExpectation, text, detail));
  };
  if (trimSpaces(text).empty()) return fail({});

  // Parses one CPU id; returns nullopt with `problem` set when it is not one.
  auto parseCpu = [](std::string_view digits, std::string& problem) -> std::optional<int> {
    size_t pos = 0;
    const Digits cpu = readDigits(digits, pos, kMaxCpuId);
    if (cpu.count == 0 || pos != digits.size()) {
      problem = "not a CPU number: " + quoteForMessage(digits);
      return std::nullopt;
    }
    if (cpu.above_cap) {
      problem = "CPU " + std::string(digits) + " is above the maximum " + std::to_string(kMaxCpuId);
      return std::nullopt;
    }
    return static_cast<int>(cpu.value);
  };

  std::array<bool, kMaxCpuId + 1> selected{};
  size_t item_start = 0;
  // Bounded by text.size(): each pass moves item_start past one ','.
  while (item_start <= text.size()) {
    size_t comma = text.find(',', item_start);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view item = trimSpaces(text.substr(item_start, comma - item_start));
    if (item.empty()) return fail("empty item");
    std::string problem;
    const size_t dash = item.find('-');
    if (dash == std::string_view::npos) {
      const std::optional<int> cpu = parseCpu(item, problem);
      if (!cpu) return fail(problem);
      selected[static_cast<size_t>(*cpu)] = true;
    } else {
      const std::optional<int> first = parseCpu(trimSpaces(item.substr(0, dash)), problem);
      if (!first) return fail(problem);
      const std::optional<int> last = parseCpu(trimSpaces(item.substr(dash + 1)), problem);
      if (!last) return fail(problem);
      if (*first > *last) {
        return fail("range " + std::string(item) + " is reversed");
      }
      // Bounded by kMaxCpuId + 1 iterations.
      for (int cpu = *first; cpu <= *last; ++cpu) selected[static_cast<size_t>(cpu)] = true;
    }
    item_start = comma + 1;
  }
  std::vector<int> cpus;
  for (int cpu = 0; cpu <= kMaxCpuId; ++cpu) {
    if (selected[static_cast<size_t>(cpu)]) cpus.push_back(cpu);
  }
  return Result::success(std::move(cpus));
}

std::string formatCpuSet(const std::vector<int>& cpus) {
  std::string out;
  size_t i = 0;
  // Bounded by cpus.size(): each pass consumes one run of consecutive ids.
  while (i < cpus.size()) {
    size_t run_end = i;
    while (run_end + 1 < cpus.size() && cpus[run_end + 1] == cpus[run_end] + 1) ++run_end;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (run_end > i) {
      out += '-';
      out += std::to_string(cpus[run_end]);
    }
    i = run_end + 1;
  }
  return out;
}

std::string formatDuration(std::chrono::nanoseconds duration) {
  const int64_t nanos = duration.count();
  if (nanos == 0) return "0s";
  // Largest first; "us" is the ASCII spelling the docs use.
  constexpr std::array<DurationUnit, 6> kUnits = {{
      {"h", 3600LL * 1'000'000'000},
      {"m", 60LL * 1'000'000'000},
      {"s", 1'000'000'000},
      {"ms", 1'000'000},
      {"us", 1'000},
      {"ns", 1},
  }};
  for (const DurationUnit& unit : kUnits) {
    if (nanos % unit.nanoseconds == 0) {
      return std::to_string(nanos / unit.nanoseconds) + std::string(unit.name);
    }
  }
  return std::to_string(nanos) + "ns";  // unreachable: 1ns divides everything
}

std::string formatSize(uint64_t bytes) {
  if (bytes == 0) return "0";
  constexpr std::array<SizeUnit, 4> kUnits = {{
      {"TiB", 1ULL << 40},
      {"GiB", 1ULL << 30},
      {"MiB", 1ULL << 20},
      {"KiB", 1ULL << 10},
  }};
  for (const SizeUnit& unit : kUnits) {
    if (bytes % unit.bytes == 0) return std::to_string(bytes / unit.bytes) + std::string(unit.name);
  }
  return std::to_string(bytes);
}

Parsed<HostPort> parseHostPort(std::string_view text, HostPortRules rules) {
  using Result = Parsed<HostPort>;
  auto fail = [&](std::string_view detail) {
    return Result::failure(expectedGot(kHostPortExpectation, text, detail));
  };

  HostPort result;
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return fail("missing \"]\" after the IPv6 address");
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return fail("missing \":port\" after \"]\"");
    port_text = rest.substr(1);
    // Screen the characters first: inet_pton stops at an embedded NUL byte.
    std::array<unsigned char, 16> address{};
    const std::string host_copy(host);
    if (host.empty() || !onlyIpv6Characters(host) ||
        inet_pton(AF_INET6, host_copy.c_str(), address.data()) != 1) {
      return fail("invalid IPv6 address " + quoteForMessage(host));
    }
    char canonical[INET6_ADDRSTRLEN] = {};
    inet_ntop(AF_INET6, address.data(), canonical, sizeof canonical);
    result.host = canonical;
    result.kind = HostKind::kIpv6;
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail({});
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return fail("an IPv6 address must be in brackets, as in \"[::1]:8080\"");
    }
    if (host.empty()) {
      if (rules.allow_names) return fail("missing host");
      return fail("missing host: \"0.0.0.0:" + std::string(port_text) +
                  "\" listens on every IPv4 address, \"[::]:" + std::string(port_text) +
                  "\" on every IPv6 address");
    }
    std::array<unsigned char, 4> address{};
    const std::string host_copy(host);
    if (onlyDigitsAndDots(host)) {
      if (inet_pton(AF_INET, host_copy.c_str(), address.data()) != 1) {
        return fail("invalid IPv4 address " + quoteForMessage(host));
      }
      result.host = host_copy;
      result.kind = HostKind::kIpv4;
    } else if (!rules.allow_names) {
      return fail("an IP address is required here, such as \"127.0.0.1\" or \"[::1]\"; "
                  "host names are accepted only in cluster endpoints");
    } else {
      const std::string problem = hostNameProblem(host);
      if (!problem.empty()) return fail(problem);
      result.host = lowerCased(host);
      result.kind = HostKind::kName;
    }
  }

  size_t pos = 0;
  const Digits port = readDigits(port_text, pos, 65535);
  if (port.count == 0 || pos != port_text.size()) return fail("missing or non-numeric port");
  if (port.above_cap) return fail("port above 65535");
  if (port.value == 0 && !rules.allow_port_zero) return fail("port 0 is not allowed here");
  result.port = static_cast<uint16_t>(port.value);
  return Result::success(std::move(result));
}

Parsed<std::string> parseHostPattern(std::string_view text) {
  using Result = Parsed<std::string>;
  auto fail = [&](std::string_view detail) {
    return Result::failure(expectedGot(kHostPatternExpectation, text, detail));
  };
  if (text.find(':') != std::string_view::npos) {
    return fail("no port: the port is ignored when matching");
  }
  std::string_view name = text;
  if (name.substr(0, 2) == "*.") name.remove_prefix(2);
  if (name.find('*') != std::string_view::npos) {
    return fail("'*' is allowed only as the whole first label, as in \"*.example.com\"");
  }
  const std::string problem = hostNameProblem(name);
  if (!problem.empty()) return fail(problem);
  return Result::success(lowerCased(text));
}

}  // namespace switchyard::config
