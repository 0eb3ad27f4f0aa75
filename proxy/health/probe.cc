#include "proxy/health/probe.h"

#include <cstdio>

#include "runtime/net/net.h"

namespace switchyard::proxy::health {

std::optional<int> parseStatusLine(std::string_view bytes) {
  // "HTTP/1.x SSS" and then a space or the line's end: 13 bytes at least.
  constexpr std::string_view kPrefix = "HTTP/1.";
  if (bytes.size() < 13 || bytes.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  if (bytes[7] != '0' && bytes[7] != '1') return std::nullopt;
  if (bytes[8] != ' ') return std::nullopt;
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (bytes[i] < '0' || bytes[i] > '9') return std::nullopt;
    status = status * 10 + (bytes[i] - '0');
  }
  if (status < 100) return std::nullopt;
  if (bytes[12] != ' ' && bytes[12] != '\r') return std::nullopt;
  return status;
}

bool expectedStatus(const config::HealthCheckConfig& check, int status) {
  for (const config::StatusRange& range : check.expected_statuses) {
    if (range.contains(status)) return true;
  }
  return false;
}

ProbeResult probe(const config::HostPort& endpoint, const config::HealthCheckConfig& check) {
  ProbeResult result;
  const rt::net::Deadline deadline = rt::net::Clock::now() + check.timeout;
  rt::net::TcpConn conn = rt::net::connect(endpoint.toString(), deadline, result.error);
  if (result.error) return result;

  // The request fits one small buffer: path and host are bounded by the config's
  // validation only loosely, so a too-long one fails the probe instead of truncating.
  char request[2048];
  const std::string host = check.host.empty() ? endpoint.toString() : check.host;
  const int n = std::snprintf(request, sizeof request,
                              "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: switchyard-health\r\n"
                              "Connection: close\r\n\r\n",
                              check.path.c_str(), host.c_str());
  if (n <= 0 || static_cast<size_t>(n) >= sizeof request) {
    result.error = std::make_error_code(std::errc::message_size);
    return result;
  }
  conn.setDeadline(deadline);
  conn.write(request, static_cast<size_t>(n), result.error);
  if (result.error) return result;

  // Read until the status line is complete; a line longer than the buffer is not HTTP.
  char response[512];
  size_t have = 0;
  while (have < sizeof response) {
    std::error_code ec;
    const size_t got = conn.read(response + have, sizeof response - have, ec);
    if (ec) {
      result.error = ec;
      return result;
    }
    have += got;
    const std::string_view bytes(response, have);
    if (std::optional<int> status = parseStatusLine(bytes)) {
      result.status = *status;
      result.passed = expectedStatus(check, *status);
      return result;
    }
    if (have >= 13) break;  // enough bytes to judge, and they are not a status line
  }
  result.error = std::make_error_code(std::errc::bad_message);
  return result;
}

}  // namespace switchyard::proxy::health
