// pick() and the request hooks must not allocate, for every kind, healthy or degraded.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "proxy/balancer/factory.h"
#include "tests/unit/proxy/balancer/test_endpoints.h"
#include "tests/unit/proxy/router/alloc_counter.h"

namespace switchyard::proxy {
namespace {

TEST(BalancerAllocTest, CounterSeesAllocations) {
  switchyard::testing::AllocationScope scope;
  auto p = std::make_unique<std::string>(100, 'x');
  asm volatile("" : : "g"(p.get()) : "memory");
  EXPECT_GE(scope.allocations(), 1u);
}

TEST(BalancerAllocTest, PickDoesNotAllocate) {
  const std::vector<std::string> keys = {
      "", "10.1.2.3", "a-rather-long-session-identifier-that-is-not-small-string-optimised"};
  for (config::BalancerKind kind :
       {config::BalancerKind::kRoundRobin, config::BalancerKind::kRandom,
        config::BalancerKind::kLeastRequest, config::BalancerKind::kConsistentHash}) {
    config::ClusterConfig cluster;
    cluster.name = "c";
    cluster.endpoints = testing::hostPorts(8);
    cluster.balancer = kind;
    std::unique_ptr<Balancer> b = makeBalancer(cluster, {.seed = 11});
    ASSERT_NE(b, nullptr);

    size_t allocations = 0;
    {
      switchyard::testing::AllocationScope scope;
      for (int i = 0; i < 10000; ++i) {
        // Every 2500 picks the health changes: all healthy, degraded, none healthy.
        if (i == 2500) b->endpoints().setHealthy(3, false);
        if (i == 5000) {
          for (size_t e = 0; e < 8; ++e) b->endpoints().setHealthy(e, false);
        }
        if (i == 7500) b->endpoints().setHealthy(5, true);
        const size_t exclude = i % 3 == 0 ? static_cast<size_t>(i % 8) : kNoEndpoint;
        const size_t e = b->pick({i % 4, keys[static_cast<size_t>(i) % keys.size()], exclude});
        b->onRequestStart(e);
        b->onRequestEnd(e);
      }
      allocations = scope.allocations();
    }
    EXPECT_EQ(allocations, 0u) << toString(kind);
  }
}

}  // namespace
}  // namespace switchyard::proxy
