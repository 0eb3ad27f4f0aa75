// peak_ewma: lower latency wins, requests in flight are penalised, peaks are taken at once
// and decay with time, weights divide the cost; health and exclusion rules as the others.
#include "proxy/balancer/peak_ewma.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <vector>

#include "tests/unit/proxy/balancer/test_endpoints.h"

namespace switchyard::proxy {
namespace {

using namespace std::chrono_literals;
using testing::endpointSet;
using testing::hostPorts;
using testing::kSeed;

int64_t now() { return std::chrono::steady_clock::now().time_since_epoch().count(); }

std::vector<size_t> histogram(Balancer& b, size_t picks, size_t exclude = kNoEndpoint) {
  std::vector<size_t> counts(b.endpoints().size());
  for (size_t i = 0; i < picks; ++i) ++counts.at(b.pick({0, {}, exclude}));
  return counts;
}

TEST(PeakEwmaTest, UnsampledEndpointsCostTheInitialLatency) {
  PeakEwmaBalancer b(endpointSet(2), kSeed, 10s);
  EXPECT_EQ(b.ewmaNs(0, now()), 0.0);
  EXPECT_DOUBLE_EQ(b.cost(0, now()), PeakEwmaBalancer::kInitialLatencyNs);
  b.onRequestStart(0);
  EXPECT_DOUBLE_EQ(b.cost(0, now()), 2.0 * PeakEwmaBalancer::kInitialLatencyNs);
}

TEST(PeakEwmaTest, TheFasterEndpointWins) {
  PeakEwmaBalancer b(endpointSet(2), kSeed, 10s);
  b.observeLatency(0, 10'000'000);  // 10ms
  b.observeLatency(1, 1'000'000);   // 1ms
  const auto counts = histogram(b, 1000);
  EXPECT_EQ(counts[1], 1000u);  // two endpoints: both are compared on every pick
}

TEST(PeakEwmaTest, RequestsInFlightArePenalised) {
  PeakEwmaBalancer b(endpointSet(2), kSeed, 10s);
  b.observeLatency(0, 1'000'000);   // 1ms, but 15 in flight: cost 16ms
  b.observeLatency(1, 10'000'000);  // 10ms, idle: cost 10ms
  for (int i = 0; i < 15; ++i) b.onRequestStart(0);
  EXPECT_EQ(histogram(b, 100)[1], 100u);
  for (int i = 0; i < 10; ++i) b.onRequestEnd(0);  // 5 in flight: cost 6ms
  EXPECT_EQ(histogram(b, 100)[0], 100u);
}

TEST(PeakEwmaTest, PeaksAreTakenAtOnceAndDecayWithTime) {
  PeakEwmaBalancer b(endpointSet(1), kSeed, 1s);
  b.observeLatency(0, 1'000'000);
  b.observeLatency(0, 100'000'000);  // a peak replaces the average
  const int64_t t = now();
  EXPECT_NEAR(b.ewmaNs(0, t), 100e6, 1e6);
  b.observeLatency(0, 1'000'000);  // right after: the old value still weighs ~all
  EXPECT_GT(b.ewmaNs(0, now()), 90e6);
  // Read later without new samples: exp(-dt/decay) of it is left.
  EXPECT_NEAR(b.ewmaNs(0, t + 1'000'000'000) / 100e6, std::exp(-1.0), 0.02);
  EXPECT_LT(b.ewmaNs(0, t + 5'000'000'000), 1e6);
}

TEST(PeakEwmaTest, WeightsDivideTheCost) {
  auto set = std::make_shared<EndpointSet>(hostPorts(2), std::vector<uint32_t>{1, 4});
  PeakEwmaBalancer b(set, kSeed, 10s);
  b.observeLatency(0, 2'000'000);
  b.observeLatency(1, 4'000'000);  // twice as slow, four times the weight: cheaper
  const int64_t t = now();
  EXPECT_LT(b.cost(1, t), b.cost(0, t));
  EXPECT_EQ(histogram(b, 100)[1], 100u);
}

TEST(PeakEwmaTest, FollowsTheHealthAndExclusionRules) {
  PeakEwmaBalancer b(endpointSet(3), kSeed, 10s);
  b.observeLatency(0, 1'000);  // by far the fastest...
  b.endpoints().setHealthy(0, false);  // ...but unhealthy
  const auto counts = histogram(b, 300);
  EXPECT_EQ(counts[0], 0u);
  EXPECT_GT(counts[1], 0u);
  EXPECT_GT(counts[2], 0u);
  EXPECT_EQ(histogram(b, 100, /*exclude=*/1)[2], 100u);
  EXPECT_EQ(b.kind(), config::BalancerKind::kPeakEwma);
}

}  // namespace
}  // namespace switchyard::proxy
