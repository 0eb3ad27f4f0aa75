// The bucket layout of the proxy's duration histograms
// (switchyard_http_request_duration_seconds, switchyard_upstream_response_duration_seconds).
//
// Fixed at compile time so that a worker's histogram is a plain array of counters and
// observing a value is a short scan, no allocation and no floating point. The bounds run
// from 100 us (a proxy answering from memory on loopback) to 30 s (a slow upstream
// download); longer requests land in +Inf. Changing them changes the public exposition:
// keep docs/METRICS.md in step.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace switchyard::proxy::metrics {

inline constexpr std::array<uint64_t, 17> kLatencyBoundsNs = {
    100'000,        250'000,       500'000,       1'000'000,     2'500'000,
    5'000'000,      10'000'000,    25'000'000,    50'000'000,    100'000'000,
    250'000'000,    500'000'000,   1'000'000'000, 2'500'000'000, 5'000'000'000,
    10'000'000'000, 30'000'000'000};

// The same bounds in seconds, for the exposition's le="..." labels.
inline constexpr std::array<double, kLatencyBoundsNs.size()> kLatencyBoundsSeconds = [] {
  std::array<double, kLatencyBoundsNs.size()> seconds{};
  for (size_t i = 0; i < kLatencyBoundsNs.size(); ++i) {
    seconds[i] = static_cast<double>(kLatencyBoundsNs[i]) / 1e9;
  }
  return seconds;
}();

// Buckets per histogram series: one per bound plus +Inf.
inline constexpr size_t kLatencyBuckets = kLatencyBoundsNs.size() + 1;

// The bucket of `ns`: the first bound >= ns (Prometheus' `le` is inclusive), or the +Inf
// bucket. A forward scan: most requests are fast and stop within the first few bounds.
constexpr size_t latencyBucket(uint64_t ns) {
  size_t i = 0;
  while (i < kLatencyBoundsNs.size() && ns > kLatencyBoundsNs[i]) ++i;
  return i;
}

}  // namespace switchyard::proxy::metrics
