#include "proxy/balancer/factory.h"

#include <gtest/gtest.h>

#include "tests/unit/proxy/balancer/test_endpoints.h"

namespace switchyard::proxy {
namespace {

using testing::hostPorts;

config::ClusterConfig cluster(config::BalancerKind kind, size_t endpoints = 3) {
  config::ClusterConfig c;
  c.name = "backend";
  c.endpoints = hostPorts(endpoints);
  c.balancer = kind;
  return c;
}

TEST(FactoryTest, EveryKind) {
  for (config::BalancerKind kind :
       {config::BalancerKind::kRoundRobin, config::BalancerKind::kRandom,
        config::BalancerKind::kLeastRequest, config::BalancerKind::kConsistentHash}) {
    std::unique_ptr<Balancer> b = makeBalancer(cluster(kind), {.seed = 7});
    ASSERT_NE(b, nullptr) << toString(kind);
    EXPECT_EQ(b->kind(), kind);
    EXPECT_EQ(b->endpoints().size(), 3u);
    EXPECT_EQ(b->endpoints().name(0), "10.0.0.1:80");
    EXPECT_EQ(b->hashKey() != nullptr, kind == config::BalancerKind::kConsistentHash);
    for (int i = 0; i < 100; ++i)
      EXPECT_LT(b->pick({i % 4, "k" + std::to_string(i), kNoEndpoint}), 3u);
  }
}

TEST(FactoryTest, HashKeyAndVirtualNodesFromConfig) {
  config::ClusterConfig c = cluster(config::BalancerKind::kConsistentHash);
  c.hash_key.source = config::HashKey::Source::kHeader;
  c.hash_key.header = "X-Session";
  std::unique_ptr<Balancer> b = makeBalancer(c, {.seed = 1, .virtual_nodes = 100});
  ASSERT_NE(b->hashKey(), nullptr);
  EXPECT_EQ(b->hashKey()->source, config::HashKey::Source::kHeader);
  EXPECT_EQ(b->hashKey()->header, "X-Session");
}

TEST(FactoryTest, RandomSeedByDefault) {
  // Seed 0 asks for a random seed; the balancer works either way.
  std::unique_ptr<Balancer> b = makeBalancer(cluster(config::BalancerKind::kRandom));
  ASSERT_NE(b, nullptr);
  EXPECT_LT(b->pick({0, {}, kNoEndpoint}), 3u);
}

TEST(FactoryTest, NoEndpointsNoBalancer) {
  EXPECT_EQ(makeBalancer(cluster(config::BalancerKind::kRoundRobin, 0)), nullptr);
  EXPECT_EQ(makeBalancer(config::BalancerKind::kRandom, nullptr), nullptr);
}

TEST(FactoryTest, SharedEndpointSetAndInheritedHealth) {
  auto old_set = std::make_shared<EndpointSet>(hostPorts(3, 1));  // .1 .2 .3
  old_set->setHealthy(1, false);                                  // .2 down

  config::ClusterConfig c = cluster(config::BalancerKind::kRoundRobin);
  c.endpoints = hostPorts(2, 2);  // .2 .3 after the reload
  std::unique_ptr<Balancer> b = makeBalancer(c, {.seed = 3, .previous = old_set.get()});
  EXPECT_FALSE(b->endpoints().healthy(0));
  EXPECT_TRUE(b->endpoints().healthy(1));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(b->pick({0, {}, kNoEndpoint}), 1u);

  auto shared = std::make_shared<EndpointSet>(hostPorts(2));
  std::unique_ptr<Balancer> on_shared = makeBalancer(config::BalancerKind::kLeastRequest, shared);
  EXPECT_EQ(&on_shared->endpoints(), shared.get());
  on_shared->onRequestStart(1);
  EXPECT_EQ(shared->activeRequests(1), 1u);
}

TEST(FactoryTest, OnlyLeastRequestCounts) {
  for (config::BalancerKind kind :
       {config::BalancerKind::kRoundRobin, config::BalancerKind::kRandom,
        config::BalancerKind::kConsistentHash}) {
    std::unique_ptr<Balancer> b = makeBalancer(cluster(kind), {.seed = 5});
    b->onRequestStart(0);
    EXPECT_EQ(b->endpoints().activeRequests(0), 0u) << toString(kind);
    b->onRequestEnd(0);
  }
}

}  // namespace
}  // namespace switchyard::proxy
