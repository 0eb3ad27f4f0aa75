#include "proxy/balancer/random.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/unit/proxy/balancer/test_endpoints.h"

namespace switchyard::proxy {
namespace {

using testing::endpointSet;
using testing::kSeed;

std::vector<size_t> histogram(Balancer& b, int worker, size_t picks, size_t exclude = kNoEndpoint) {
  std::vector<size_t> counts(b.endpoints().size());
  for (size_t i = 0; i < picks; ++i) ++counts.at(b.pick({worker, {}, exclude}));
  return counts;
}

// Pearson's chi-square of `counts` against a uniform spread over the endpoints listed in
// `expected_nonzero` (the others must be 0).
double chiSquare(const std::vector<size_t>& counts, const std::vector<size_t>& expected_nonzero) {
  size_t total = 0;
  for (size_t i : expected_nonzero) total += counts[i];
  const double expected = static_cast<double>(total) / expected_nonzero.size();
  double chi = 0;
  for (size_t i : expected_nonzero) {
    const double d = counts[i] - expected;
    chi += d * d / expected;
  }
  return chi;
}

TEST(RandomTest, RoughlyUniform) {
  RandomBalancer random(endpointSet(10), kSeed);
  const std::vector<size_t> counts = histogram(random, 0, 100000);
  // 9 degrees of freedom: P(chi2 > 50) is about 1e-7. Generous on purpose; the seed is
  // fixed, so the test is deterministic anyway.
  EXPECT_LT(chiSquare(counts, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), 50.0);
}

TEST(RandomTest, EveryWorkerRoughlyUniformAndIndependent) {
  RandomBalancer random(endpointSet(4), kSeed);
  std::vector<size_t> seq0;
  std::vector<size_t> seq1;
  for (int i = 0; i < 64; ++i) {
    seq0.push_back(random.pick({0, {}, kNoEndpoint}));
    seq1.push_back(random.pick({1, {}, kNoEndpoint}));
  }
  EXPECT_NE(seq0, seq1);
  for (int worker : {2, 100, 255}) {
    EXPECT_LT(chiSquare(histogram(random, worker, 40000), {0, 1, 2, 3}), 30.0) << worker;
  }
}

TEST(RandomTest, SkipsUnhealthy) {
  RandomBalancer random(endpointSet(6), kSeed);
  random.endpoints().setHealthy(0, false);
  random.endpoints().setHealthy(4, false);
  const std::vector<size_t> counts = histogram(random, 0, 40000);
  EXPECT_EQ(counts[0], 0u);
  EXPECT_EQ(counts[4], 0u);
  EXPECT_LT(chiSquare(counts, {1, 2, 3, 5}), 30.0);
}

TEST(RandomTest, AllUnhealthyFallsBackToAll) {
  RandomBalancer random(endpointSet(5), kSeed);
  for (size_t i = 0; i < 5; ++i) random.endpoints().setHealthy(i, false);
  EXPECT_LT(chiSquare(histogram(random, 0, 50000), {0, 1, 2, 3, 4}), 40.0);
}

TEST(RandomTest, ExcludeForRetries) {
  RandomBalancer random(endpointSet(4), kSeed);
  const std::vector<size_t> counts = histogram(random, 0, 30000, 2);
  EXPECT_EQ(counts[2], 0u);
  EXPECT_LT(chiSquare(counts, {0, 1, 3}), 30.0);
  random.endpoints().setHealthy(0, false);
  random.endpoints().setHealthy(1, false);
  random.endpoints().setHealthy(3, false);
  EXPECT_EQ(histogram(random, 0, 10, 2), (std::vector<size_t>{0, 0, 10, 0}));
}

}  // namespace
}  // namespace switchyard::proxy
