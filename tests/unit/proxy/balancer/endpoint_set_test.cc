#include "proxy/balancer/endpoint_set.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "tests/unit/proxy/balancer/test_endpoints.h"

namespace switchyard::proxy {
namespace {

using testing::hostPorts;

TEST(EndpointSetTest, StartsHealthyWithNames) {
  std::vector<config::HostPort> endpoints = hostPorts(2);
  endpoints.push_back({"::1", 8080, config::HostKind::kIpv6});
  endpoints.push_back({"backend.internal", 9000, config::HostKind::kName});
  EndpointSet set(endpoints);
  ASSERT_EQ(set.size(), 4u);
  EXPECT_EQ(set.healthyCount(), 4u);
  EXPECT_EQ(set.name(0), "10.0.0.1:80");
  EXPECT_EQ(set.name(2), "[::1]:8080");
  EXPECT_EQ(set.name(3), "backend.internal:9000");
  EXPECT_EQ(set.endpoint(3).port, 9000);
  EXPECT_EQ(set.find("[::1]:8080"), 2u);
  EXPECT_EQ(set.find("10.0.0.9:80"), kNoEndpoint);
  for (size_t i = 0; i < set.size(); ++i) {
    EXPECT_TRUE(set.healthy(i));
    EXPECT_EQ(set.activeRequests(i), 0u);
  }
}

TEST(EndpointSetTest, HealthyCountFollowsChangesOnce) {
  EndpointSet set(hostPorts(3));
  EXPECT_TRUE(set.setHealthy(1, false));
  EXPECT_FALSE(set.setHealthy(1, false));  // no change: count must not move again
  EXPECT_EQ(set.healthyCount(), 2u);
  EXPECT_FALSE(set.healthy(1));
  set.setHealthy(0, false);
  set.setHealthy(2, false);
  EXPECT_EQ(set.healthyCount(), 0u);
  EXPECT_FALSE(set.setHealthy(2, true));
  EXPECT_TRUE(set.setHealthy(2, true));
  EXPECT_EQ(set.healthyCount(), 1u);
}

TEST(EndpointSetTest, InheritHealthByName) {
  EndpointSet before(hostPorts(3, 1));  // .1 .2 .3
  before.setHealthy(1, false);          // .2 is down
  before.setHealthy(2, false);          // .3 is down
  EndpointSet after(hostPorts(3, 2));   // .2 .3 .4
  after.inheritHealth(before);
  EXPECT_FALSE(after.healthy(0));  // .2
  EXPECT_FALSE(after.healthy(1));  // .3
  EXPECT_TRUE(after.healthy(2));   // .4 is new: healthy
  EXPECT_EQ(after.healthyCount(), 1u);
}

TEST(EndpointSetTest, ActiveRequestCounting) {
  EndpointSet set(hostPorts(3));
  set.addActiveRequest(1);
  set.addActiveRequest(1);
  set.removeActiveRequest(1);
  EXPECT_EQ(set.activeRequests(1), 1u);
  EXPECT_EQ(set.activeRequests(0), 0u);
}

}  // namespace
}  // namespace switchyard::proxy
