// Per-endpoint weights in the balancers that take them: round_robin (smooth weighted
// schedule), random (draw over the weights), least_request (requests per unit of weight),
// consistent_hash (points on the ring); and equal weights change nothing.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proxy/balancer/consistent_hash.h"
#include "proxy/balancer/least_request.h"
#include "proxy/balancer/random.h"
#include "proxy/balancer/round_robin.h"
#include "tests/unit/proxy/balancer/test_endpoints.h"

namespace switchyard::proxy {
namespace {

using testing::hostPorts;
using testing::kSeed;

std::shared_ptr<EndpointSet> weighted(std::vector<uint32_t> weights) {
  return std::make_shared<EndpointSet>(hostPorts(weights.size()), std::move(weights));
}

TEST(WeightsTest, EndpointSetDefaultsToEqualWeights) {
  EndpointSet plain(hostPorts(3));
  EXPECT_FALSE(plain.weighted());
  EXPECT_EQ(plain.weight(2), 1u);
  EndpointSet same(hostPorts(2), {7, 7});
  EXPECT_FALSE(same.weighted());
  EndpointSet mismatched(hostPorts(2), {3});  // a caller bug: equal weights
  EXPECT_FALSE(mismatched.weighted());
  EXPECT_TRUE(EndpointSet(hostPorts(2), {1, 2}).weighted());
}

TEST(WeightsTest, RoundRobinIsExactAndSmooth) {
  RoundRobinBalancer rr(weighted({5, 1, 1}), kSeed);
  std::vector<size_t> counts(3);
  int run = 0, longest_run = 0;
  size_t previous = kNoEndpoint;
  for (int i = 0; i < 700; ++i) {
    const size_t e = rr.pick({0, {}, kNoEndpoint});
    ++counts[e];
    run = e == previous ? run + 1 : 1;
    longest_run = std::max(longest_run, run);
    previous = e;
  }
  EXPECT_EQ(counts, (std::vector<size_t>{500, 100, 100}));
  // Interleaved (a a b a c a a): at most 4 in a row across a cycle boundary, where a
  // plain expansion (a a a a a b c) gives 5.
  EXPECT_LE(longest_run, 4);
  // An unhealthy endpoint's slots go to the others.
  rr.endpoints().setHealthy(0, false);
  std::vector<size_t> degraded(3);
  for (int i = 0; i < 100; ++i) ++degraded[rr.pick({0, {}, kNoEndpoint})];
  EXPECT_EQ(degraded[0], 0u);
  EXPECT_EQ(degraded[1], 50u);
}

TEST(WeightsTest, RandomFollowsTheWeights) {
  RandomBalancer r(weighted({3, 1}), kSeed);
  std::vector<size_t> counts(2);
  for (int i = 0; i < 40000; ++i) ++counts[r.pick({i % 4, {}, kNoEndpoint})];
  const double ratio = static_cast<double>(counts[0]) / static_cast<double>(counts[1]);
  EXPECT_NEAR(ratio, 3.0, 0.25);
}

TEST(WeightsTest, LeastRequestComparesRequestsPerWeight) {
  LeastRequestBalancer lr(weighted({4, 1}), kSeed);
  for (int i = 0; i < 3; ++i) lr.onRequestStart(0);  // 3 / 4
  lr.onRequestStart(1);                              // 1 / 1
  for (int i = 0; i < 50; ++i) EXPECT_EQ(lr.pick({0, {}, kNoEndpoint}), 0u);
}

TEST(WeightsTest, ConsistentHashGivesHeavierEndpointsMoreKeys) {
  ConsistentHashBalancer ch(weighted({3, 1}), config::HashKey{}, kSeed, 160);
  std::vector<size_t> counts(2);
  for (int i = 0; i < 20000; ++i) {
    const std::string key = "user-" + std::to_string(i);
    ++counts[ch.pick({0, key, kNoEndpoint})];
  }
  const double share = static_cast<double>(counts[0]) / 20000.0;
  EXPECT_NEAR(share, 0.75, 0.05);
}

}  // namespace
}  // namespace switchyard::proxy
