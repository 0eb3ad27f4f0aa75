#include "proxy/resilience/overload_detector.h"

namespace switchyard::proxy::resilience {

int64_t OverloadDetector::p99(std::span<const int64_t> bounds_ns,
                              std::span<const uint64_t> counts) {
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  if (total == 0 || bounds_ns.empty()) return -1;
  // The smallest rank r with r >= 0.99 * total (1-based).
  const uint64_t rank = (total * 99 + 99) / 100;
  uint64_t below = 0;
  for (size_t b = 0; b < counts.size(); ++b) {
    if (below + counts[b] < rank) {
      below += counts[b];
      continue;
    }
    if (b >= bounds_ns.size()) return bounds_ns.back();  // beyond the last bound
    const int64_t lower = b == 0 ? 0 : bounds_ns[b - 1];
    const int64_t upper = bounds_ns[b];
    const double share = static_cast<double>(rank - below) / static_cast<double>(counts[b]);
    return lower + static_cast<int64_t>(static_cast<double>(upper - lower) * share);
  }
  return bounds_ns.back();
}

bool OverloadDetector::update(std::span<const int64_t> bounds_ns,
                              std::span<const uint64_t> cumulative) {
  if (previous_.size() != cumulative.size()) {
    // The first window (or a histogram of another shape): a baseline, no verdict.
    previous_.assign(cumulative.begin(), cumulative.end());
    return overloaded_;
  }
  window_.resize(cumulative.size());
  for (size_t b = 0; b < cumulative.size(); ++b) {
    // Cumulative counters never go backwards; guard anyway (a wrapped read is 0).
    window_[b] = cumulative[b] >= previous_[b] ? cumulative[b] - previous_[b] : 0;
    previous_[b] = cumulative[b];
  }
  const int64_t estimate = p99(bounds_ns, window_);
  if (estimate < 0) {
    // No samples: no evidence of overload, and none against it while calm. While
    // shedding, a silent runtime counts as recovered (an idle proxy is not overloaded).
    over_streak_ = 0;
    if (overloaded_ && ++under_streak_ >= config_.recover_after) overloaded_ = false;
    return overloaded_;
  }
  last_p99_ns_ = estimate;
  const bool over = estimate > config_.sched_latency_threshold.count();
  if (over) {
    ++over_streak_;
    under_streak_ = 0;
    if (over_streak_ >= config_.trip_after) overloaded_ = true;
  } else {
    ++under_streak_;
    over_streak_ = 0;
    if (under_streak_ >= config_.recover_after) overloaded_ = false;
  }
  return overloaded_;
}

}  // namespace switchyard::proxy::resilience
