// OverloadDetector: the p99 estimate of a histogram window, and the hysteresis that turns
// windows into a shed / do-not-shed verdict.
#include "proxy/resilience/overload_detector.h"

#include <gtest/gtest.h>

#include <vector>

namespace switchyard::proxy::resilience {
namespace {

using namespace std::chrono_literals;

// The runtime's bounds (runtime/scheduler.cc kLatencyBoundsNs): 1us .. 100ms.
const std::vector<int64_t> kBounds = {1'000,      5'000,      10'000,     50'000,
                                      100'000,    500'000,    1'000'000,  5'000'000,
                                      10'000'000, 50'000'000, 100'000'000};

// Cumulative counts with `n` samples added to bucket `b` of `base`.
std::vector<uint64_t> plus(std::vector<uint64_t> base, size_t b, uint64_t n) {
  base[b] += n;
  return base;
}

TEST(OverloadDetector, P99InterpolatesInsideItsBucket) {
  std::vector<uint64_t> counts(12, 0);
  EXPECT_EQ(OverloadDetector::p99(kBounds, counts), -1);  // no samples
  counts[0] = 99;   // <= 1us
  counts[9] = 1;    // (10ms, 50ms]
  // rank 99 of 100 is still in the first bucket: at most 1us.
  EXPECT_LE(OverloadDetector::p99(kBounds, counts), 1'000);
  counts[0] = 0;
  counts[9] = 100;  // all in (10ms, 50ms]: rank 99 -> 10ms + 0.99 * 40ms
  EXPECT_EQ(OverloadDetector::p99(kBounds, counts), 10'000'000 + 39'600'000);
  counts[9] = 0;
  counts[11] = 5;  // beyond the last bound: reported as the last bound
  EXPECT_EQ(OverloadDetector::p99(kBounds, counts), 100'000'000);
}

TEST(OverloadDetector, TripsAfterWindowsOverAndRecoversAfterWindowsUnder) {
  config::OverloadConfig config;
  config.sched_latency_threshold = 5ms;
  config.trip_after = 2;
  config.recover_after = 3;
  OverloadDetector d(config);
  std::vector<uint64_t> cum(12, 0);
  EXPECT_FALSE(d.update(kBounds, cum));  // the baseline

  cum = plus(cum, 9, 10);  // a window of ~50ms waits
  EXPECT_FALSE(d.update(kBounds, cum));  // one window over: not yet
  EXPECT_GT(d.lastP99Ns(), 5'000'000);
  cum = plus(cum, 0, 1000);  // a window of short waits breaks the streak
  EXPECT_FALSE(d.update(kBounds, cum));
  cum = plus(cum, 9, 10);
  EXPECT_FALSE(d.update(kBounds, cum));
  cum = plus(cum, 10, 10);
  EXPECT_TRUE(d.update(kBounds, cum));  // two in a row
  EXPECT_TRUE(d.overloaded());

  const int64_t last = d.lastP99Ns();
  EXPECT_TRUE(d.update(kBounds, cum));  // an empty window counts towards recovery: 1
  EXPECT_EQ(d.lastP99Ns(), last);       // the last estimate stays
  cum = plus(cum, 1, 50);
  EXPECT_TRUE(d.update(kBounds, cum));  // 2
  cum = plus(cum, 9, 1);
  EXPECT_TRUE(d.update(kBounds, cum));  // over again: the under streak restarts
  EXPECT_TRUE(d.update(kBounds, cum));
  EXPECT_TRUE(d.update(kBounds, cum));
  EXPECT_FALSE(d.update(kBounds, cum));  // three windows under
}

TEST(OverloadDetector, EmptyWindowsNeitherTripNorKeepAStreak) {
  config::OverloadConfig config;
  config.sched_latency_threshold = 5ms;
  config.trip_after = 2;
  OverloadDetector d(config);
  std::vector<uint64_t> cum(12, 0);
  d.update(kBounds, cum);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(d.update(kBounds, cum));  // silent and calm
  cum = plus(cum, 9, 1);
  EXPECT_FALSE(d.update(kBounds, cum));
  EXPECT_FALSE(d.update(kBounds, cum));  // empty: breaks the streak
  cum = plus(cum, 9, 1);
  EXPECT_FALSE(d.update(kBounds, cum));
  cum = plus(cum, 9, 1);
  EXPECT_TRUE(d.update(kBounds, cum));
}

TEST(OverloadDetector, ReconfigureKeepsTheBaseline) {
  config::OverloadConfig config;
  config.trip_after = 1;
  config.sched_latency_threshold = 100ms;
  OverloadDetector d(config);
  std::vector<uint64_t> cum(12, 0);
  d.update(kBounds, cum);
  cum = plus(cum, 9, 10);
  EXPECT_FALSE(d.update(kBounds, cum));  // 50ms waits, threshold 100ms
  config.sched_latency_threshold = 1ms;
  d.reconfigure(config);
  cum = plus(cum, 9, 10);
  EXPECT_TRUE(d.update(kBounds, cum));  // only this window's samples count
}

}  // namespace
}  // namespace switchyard::proxy::resilience
