#include "proxy/balancer/least_request.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
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

void load(Balancer& b, size_t endpoint, int requests) {
  for (int i = 0; i < requests; ++i) b.onRequestStart(endpoint);
}

TEST(LeastRequestTest, HooksCountActiveRequests) {
  LeastRequestBalancer lr(endpointSet(3), kSeed);
  lr.onRequestStart(1);
  lr.onRequestStart(1);
  lr.onRequestStart(2);
  lr.onRequestEnd(1);
  EXPECT_EQ(lr.endpoints().activeRequests(0), 0u);
  EXPECT_EQ(lr.endpoints().activeRequests(1), 1u);
  EXPECT_EQ(lr.endpoints().activeRequests(2), 1u);
  lr.onRequestStart(99);  // out of range: ignored
}

TEST(LeastRequestTest, OfTwoAlwaysTheLessLoaded) {
  LeastRequestBalancer lr(endpointSet(2), kSeed);
  load(lr, 0, 100);
  EXPECT_EQ(histogram(lr, 0, 1000), (std::vector<size_t>{0, 1000}));
}

TEST(LeastRequestTest, NeverTheMostLoadedWhenDifferencesAreLarge) {
  LeastRequestBalancer lr(endpointSet(5), kSeed);
  for (size_t e = 0; e < 5; ++e) load(lr, e, static_cast<int>(100 * e));  // 0, 100, ..., 400
  const std::vector<size_t> counts = histogram(lr, 0, 100000);
  // Endpoint e wins a draw iff it is drawn with a more loaded one: with two distinct of
  // five, P(e) = (4 - e) / 10 -> 40%, 30%, 20%, 10%, 0%.
  EXPECT_EQ(counts[4], 0u);
  EXPECT_NEAR(counts[0] / 100000.0, 0.40, 0.02);
  EXPECT_NEAR(counts[1] / 100000.0, 0.30, 0.02);
  EXPECT_NEAR(counts[2] / 100000.0, 0.20, 0.02);
  EXPECT_NEAR(counts[3] / 100000.0, 0.10, 0.02);
}

TEST(LeastRequestTest, EqualLoadSpreadsEvenly) {
  LeastRequestBalancer lr(endpointSet(4), kSeed);
  for (size_t e = 0; e < 4; ++e) load(lr, e, 7);
  for (size_t count : histogram(lr, 3, 40000)) EXPECT_NEAR(count / 40000.0, 0.25, 0.02);
}

TEST(LeastRequestTest, TracksLoadAsRequestsComeAndGo) {
  // Requests that stay open: P2C keeps the counts within a small band of each other.
  LeastRequestBalancer lr(endpointSet(4), kSeed);
  for (int i = 0; i < 4000; ++i) lr.onRequestStart(lr.pick({0, {}, kNoEndpoint}));
  uint64_t low = UINT64_MAX;
  uint64_t high = 0;
  for (size_t e = 0; e < 4; ++e) {
    low = std::min(low, lr.endpoints().activeRequests(e));
    high = std::max(high, lr.endpoints().activeRequests(e));
  }
  EXPECT_LE(high - low, 20u);
}

TEST(LeastRequestTest, SkipsUnhealthyEvenIfIdle) {
  LeastRequestBalancer lr(endpointSet(4), kSeed);
  load(lr, 1, 50);
  load(lr, 2, 50);
  load(lr, 3, 50);
  lr.endpoints().setHealthy(0, false);  // the idle one is dead
  const std::vector<size_t> counts = histogram(lr, 0, 3000);
  EXPECT_EQ(counts[0], 0u);
  for (size_t e = 1; e < 4; ++e) EXPECT_GT(counts[e], 0u);
  // One healthy endpoint left: always it, however loaded.
  lr.endpoints().setHealthy(1, false);
  lr.endpoints().setHealthy(2, false);
  EXPECT_EQ(histogram(lr, 0, 100), (std::vector<size_t>{0, 0, 0, 100}));
}

TEST(LeastRequestTest, AllUnhealthyFallsBackToLoad) {
  LeastRequestBalancer lr(endpointSet(2), kSeed);
  lr.endpoints().setHealthy(0, false);
  lr.endpoints().setHealthy(1, false);
  load(lr, 1, 10);
  EXPECT_EQ(histogram(lr, 0, 100), (std::vector<size_t>{100, 0}));
}

TEST(LeastRequestTest, ExcludeForRetries) {
  LeastRequestBalancer lr(endpointSet(3), kSeed);
  load(lr, 1, 10);
  load(lr, 2, 10);
  // Endpoint 0 is idle but just failed: the retry goes elsewhere.
  const std::vector<size_t> counts = histogram(lr, 0, 1000, 0);
  EXPECT_EQ(counts[0], 0u);
  EXPECT_GT(counts[1], 0u);
  EXPECT_GT(counts[2], 0u);
}

}  // namespace
}  // namespace switchyard::proxy
