// OverloadDetector: decides "shed load" from the runtime's own scheduling latency.
//
// Why this signal: the time a runnable Task waits before a worker runs it is the queueing
// delay every request pays on top of its real work. When the proxy's CPUs are saturated
// it grows before anything else does (latency, timeouts), and it is measured by our own
// scheduler on every wake-up (sampled 1 in 8, and every wake-up of a connection Task),
// not guessed from outside. No other proxy can read this from its own scheduler.
//
// How: every `window` the caller passes the runtime's cumulative histogram
// (rt::snapshot().sched_latency_counts, bounds in sched_latency_bounds_ns). The detector
// takes the difference with the previous window and estimates its 99th percentile by
// linear interpolation inside the bucket that holds it (as Prometheus'
// histogram_quantile; waits beyond the last bound count as the last bound). A window is
// "over" when that estimate is above sched_latency_threshold. `trip_after` windows over
// in a row start shedding, `recover_after` windows not over in a row stop it: the
// hysteresis keeps the verdict from flapping while shedding itself lowers the latency.
// A window without samples (sampling is 1 in 8 wake-ups, so a saturated worker yields few)
// breaks an "over" streak but does not trip anything; while shedding it counts towards
// recovery (an idle runtime is not overloaded).
//
// Pure and single-threaded: the caller (one Task) owns it; the verdict it publishes for
// the request path is an atomic elsewhere.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "config/config.h"

namespace switchyard::proxy::resilience {

class OverloadDetector {
 public:
  explicit OverloadDetector(const config::OverloadConfig& config) : config_(config) {}

  // A reload may change the thresholds; the streaks and the baseline carry over.
  void reconfigure(const config::OverloadConfig& config) { config_ = config; }

  // One window's end. `bounds_ns`: upper bounds of all buckets but the last;
  // `cumulative`: counts since the runtime started, one per bucket (bounds + 1).
  // Returns whether load is shed after this window.
  bool update(std::span<const int64_t> bounds_ns, std::span<const uint64_t> cumulative);

  bool overloaded() const { return overloaded_; }
  // The estimated p99 in ns of the last window that had samples; -1 before the first.
  int64_t lastP99Ns() const { return last_p99_ns_; }

  // The p99 estimate of one window's per-bucket counts; -1 when empty. Exposed for tests.
  static int64_t p99(std::span<const int64_t> bounds_ns, std::span<const uint64_t> counts);

 private:
  config::OverloadConfig config_;
  std::vector<uint64_t> previous_;  // empty until the first update (the baseline)
  std::vector<uint64_t> window_;    // scratch: this window's counts
  int over_streak_ = 0;
  int under_streak_ = 0;
  bool overloaded_ = false;
  int64_t last_p99_ns_ = -1;
};

}  // namespace switchyard::proxy::resilience
