// One active health probe: an HTTP/1.1 GET to one endpoint, judged by its status line.
//
// The probe opens a fresh connection for every check (never a pooled one: a probe must
// see what a new request would see, and must not take a connection from a worker's
// pool), asks for `Connection: close`, reads only as far as the status line, and closes.
// Everything is bounded by one deadline, HealthCheckConfig::timeout, from the start of
// the connect to the end of the status line. Runs in a Task (the connect and read park).
#pragma once

#include <optional>
#include <string_view>
#include <system_error>

#include "config/config.h"

namespace switchyard::proxy::health {

struct ProbeResult {
  int status = 0;        // the response's status; 0 when none was read
  std::error_code error;  // connect/read/write failure, timeout, or a malformed response
  bool passed = false;   // status is one of the expected ones
};

// Probes `endpoint` once as `check` says. Never throws, allocates only inside connect().
ProbeResult probe(const config::HostPort& endpoint, const config::HealthCheckConfig& check);

// The status code of an HTTP/1.x status line at the start of `bytes` ("HTTP/1.1 200 OK\r\n"
// or just "HTTP/1.0 503 "), or nullopt when the bytes are not one (yet). Pure, for tests
// and fuzzing.
std::optional<int> parseStatusLine(std::string_view bytes);

// Whether `status` is in one of the expected ranges.
bool expectedStatus(const config::HealthCheckConfig& check, int status);

}  // namespace switchyard::proxy::health
