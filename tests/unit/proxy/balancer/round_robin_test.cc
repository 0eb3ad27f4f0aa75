#include "proxy/balancer/round_robin.h"

#include <gtest/gtest.h>

#include <set>
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

TEST(RoundRobinTest, ExactlyEvenPerWorker) {
  RoundRobinBalancer rr(endpointSet(5), kSeed);
  for (int worker : {0, 1, 7, 255}) {
    EXPECT_EQ(histogram(rr, worker, 500), std::vector<size_t>(5, 100)) << "worker " << worker;
  }
}

TEST(RoundRobinTest, ConsecutivePicksVisitEveryEndpoint) {
  RoundRobinBalancer rr(endpointSet(7), kSeed);
  for (int round = 0; round < 3; ++round) {
    std::set<size_t> seen;
    for (int i = 0; i < 7; ++i) seen.insert(rr.pick({3, {}, kNoEndpoint}));
    EXPECT_EQ(seen.size(), 7u);
  }
}

TEST(RoundRobinTest, WorkersStartAtDifferentOffsets) {
  RoundRobinBalancer rr(endpointSet(4), kSeed);
  std::set<size_t> first;
  for (int worker = 0; worker < 4; ++worker) first.insert(rr.pick({worker, {}, kNoEndpoint}));
  EXPECT_EQ(first.size(), 4u);
}

TEST(RoundRobinTest, WorkersDoNotDisturbEachOther) {
  RoundRobinBalancer rr(endpointSet(3), kSeed);
  const size_t a0 = rr.pick({0, {}, kNoEndpoint});
  for (int i = 0; i < 10; ++i) rr.pick({1, {}, kNoEndpoint});
  EXPECT_EQ(rr.pick({0, {}, kNoEndpoint}), (a0 + 1) % 3);
}

TEST(RoundRobinTest, SkipsUnhealthyEvenly) {
  RoundRobinBalancer rr(endpointSet(5), kSeed);
  rr.endpoints().setHealthy(1, false);
  rr.endpoints().setHealthy(2, false);
  // Every healthy endpoint exactly once per cycle: the one after the dead ones does not
  // get their share.
  EXPECT_EQ(histogram(rr, 0, 300), (std::vector<size_t>{100, 0, 0, 100, 100}));
  rr.endpoints().setHealthy(1, true);
  EXPECT_EQ(histogram(rr, 0, 400), (std::vector<size_t>{100, 100, 0, 100, 100}));
}

TEST(RoundRobinTest, AllUnhealthyFallsBackToAll) {
  RoundRobinBalancer rr(endpointSet(4), kSeed);
  for (size_t i = 0; i < 4; ++i) rr.endpoints().setHealthy(i, false);
  EXPECT_EQ(histogram(rr, 2, 400), std::vector<size_t>(4, 100));
}

TEST(RoundRobinTest, ExcludeForRetries) {
  RoundRobinBalancer rr(endpointSet(3), kSeed);
  EXPECT_EQ(histogram(rr, 0, 200, 1), (std::vector<size_t>{100, 0, 100}));
  // The excluded endpoint is the only healthy one: it is still returned.
  rr.endpoints().setHealthy(0, false);
  rr.endpoints().setHealthy(2, false);
  EXPECT_EQ(histogram(rr, 0, 10, 1), (std::vector<size_t>{0, 10, 0}));
  // Nothing healthy: anything but the excluded one.
  rr.endpoints().setHealthy(1, false);
  EXPECT_EQ(histogram(rr, 0, 10, 1), (std::vector<size_t>{5, 0, 5}));
}

TEST(RoundRobinTest, SingleEndpoint) {
  RoundRobinBalancer rr(endpointSet(1), kSeed);
  rr.endpoints().setHealthy(0, false);
  EXPECT_EQ(rr.pick({0, {}, 0}), 0u);
  EXPECT_EQ(rr.pick({9, {}, kNoEndpoint}), 0u);
}

TEST(RoundRobinTest, OutOfRangeWorkerIsSafe) {
  RoundRobinBalancer rr(endpointSet(3), kSeed);
  EXPECT_LT(rr.pick({-1, {}, kNoEndpoint}), 3u);
  EXPECT_LT(rr.pick({1000, {}, kNoEndpoint}), 3u);
}

}  // namespace
}  // namespace switchyard::proxy
