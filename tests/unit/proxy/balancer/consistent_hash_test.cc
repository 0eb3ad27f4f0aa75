#include "proxy/balancer/consistent_hash.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "tests/unit/proxy/balancer/test_endpoints.h"

namespace switchyard::proxy {
namespace {

using testing::hostPorts;
using testing::kSeed;

constexpr size_t kKeys = 100000;

std::vector<std::string> keys() {
  std::vector<std::string> out;
  out.reserve(kKeys);
  for (size_t i = 0; i < kKeys; ++i) out.push_back("user-" + std::to_string(i));
  return out;
}

std::unique_ptr<ConsistentHashBalancer> ring(std::vector<config::HostPort> endpoints,
                                             uint64_t seed = kSeed) {
  return std::make_unique<ConsistentHashBalancer>(
      std::make_shared<EndpointSet>(std::move(endpoints)), config::HashKey{}, seed);
}

// Key -> endpoint name, for comparing rings with different endpoint lists.
std::vector<std::string> assign(ConsistentHashBalancer& b, const std::vector<std::string>& ks,
                                size_t exclude = kNoEndpoint) {
  std::vector<std::string> out;
  out.reserve(ks.size());
  for (const std::string& k : ks) out.push_back(b.endpoints().name(b.pick({0, k, exclude})));
  return out;
}

TEST(ConsistentHashTest, RingHasVirtualNodes) {
  auto b = ring(hostPorts(5));
  EXPECT_EQ(b->ringSize(), 5 * ConsistentHashBalancer::kDefaultVirtualNodes);
  EXPECT_EQ(b->kind(), config::BalancerKind::kConsistentHash);
  ASSERT_NE(b->hashKey(), nullptr);
  EXPECT_EQ(b->hashKey()->source, config::HashKey::Source::kClientIp);
}

TEST(ConsistentHashTest, HashIsStable) {
  // The hash is part of the cross-instance contract (every proxy of a fleet must send a
  // key to the same endpoint): these values must never change. Computed independently
  // (FNV-1a 64 followed by MurmurHash3 fmix64).
  EXPECT_EQ(ConsistentHashBalancer::hashOf(""), 0xefd01f60ba992926ULL);
  EXPECT_EQ(ConsistentHashBalancer::hashOf("10.0.0.1"), 0xc879e56ddc6c5c88ULL);
  EXPECT_EQ(ConsistentHashBalancer::hashOf("user-42"), 0xa39532c7ab051e8dULL);
}

TEST(ConsistentHashTest, SameKeySameEndpointEverywhere) {
  const std::vector<std::string> ks = keys();
  auto a = ring(hostPorts(5), 1);
  auto b = ring(hostPorts(5), 2);  // another proxy instance: another seed
  std::vector<config::HostPort> reversed = hostPorts(5);
  std::reverse(reversed.begin(), reversed.end());
  auto c = ring(reversed, 3);  // the same endpoints listed in another order
  const std::vector<std::string> on_a = assign(*a, ks);
  EXPECT_EQ(on_a, assign(*b, ks));
  EXPECT_EQ(on_a, assign(*c, ks));
  for (int worker : {1, 17, 255}) {
    for (size_t i = 0; i < 1000; ++i) {
      EXPECT_EQ(a->endpoints().name(a->pick({worker, ks[i], kNoEndpoint})), on_a[i]);
    }
  }
}

TEST(ConsistentHashTest, SharesAreBalanced) {
  auto b = ring(hostPorts(5));
  std::vector<size_t> counts(5);
  for (const std::string& k : keys()) ++counts[b->pick({0, k, kNoEndpoint})];
  // 160 points per endpoint: shares within ~8% (one sigma) of 20%; allow +-40%.
  for (size_t c : counts) {
    EXPECT_GT(c, kKeys * 12 / 100);
    EXPECT_LT(c, kKeys * 28 / 100);
  }
}

TEST(ConsistentHashTest, RemovingOneOfFiveRemapsOnlyItsKeys) {
  const std::vector<std::string> ks = keys();
  std::vector<config::HostPort> five = hostPorts(5);
  std::vector<config::HostPort> four = five;
  four.erase(four.begin() + 2);
  const std::string removed = five[2].toString();

  auto before = ring(five);
  auto after = ring(four);
  const std::vector<std::string> on_before = assign(*before, ks);
  const std::vector<std::string> on_after = assign(*after, ks);
  size_t moved = 0;
  for (size_t i = 0; i < ks.size(); ++i) {
    if (on_before[i] == on_after[i]) continue;
    ++moved;
    EXPECT_EQ(on_before[i], removed) << "key " << ks[i] << " moved without cause";
  }
  const double fraction = static_cast<double>(moved) / ks.size();
  EXPECT_GT(fraction, 0.12);
  EXPECT_LT(fraction, 0.28);
}

TEST(ConsistentHashTest, AddingOneTakesOnlyItsShare) {
  const std::vector<std::string> ks = keys();
  auto before = ring(hostPorts(5));
  auto after = ring(hostPorts(6));
  const std::string added = hostPorts(6)[5].toString();
  const std::vector<std::string> on_before = assign(*before, ks);
  const std::vector<std::string> on_after = assign(*after, ks);
  size_t moved = 0;
  for (size_t i = 0; i < ks.size(); ++i) {
    if (on_before[i] == on_after[i]) continue;
    ++moved;
    EXPECT_EQ(on_after[i], added);
  }
  const double fraction = static_cast<double>(moved) / ks.size();
  EXPECT_GT(fraction, 0.10);
  EXPECT_LT(fraction, 0.24);
}

TEST(ConsistentHashTest, UnhealthyKeysSpreadOthersStay) {
  const std::vector<std::string> ks = keys();
  auto b = ring(hostPorts(5));
  const std::vector<std::string> healthy = assign(*b, ks);
  b->endpoints().setHealthy(2, false);
  const std::string dead = b->endpoints().name(2);
  const std::vector<std::string> degraded = assign(*b, ks);

  std::vector<size_t> moved_to(5);
  for (size_t i = 0; i < ks.size(); ++i) {
    EXPECT_NE(degraded[i], dead);
    if (healthy[i] != dead) {
      EXPECT_EQ(degraded[i], healthy[i]);
    } else {
      ++moved_to[b->endpoints().find(degraded[i])];
    }
  }
  for (size_t e : {0, 1, 3, 4}) EXPECT_GT(moved_to[e], 0u) << "endpoint " << e;

  // Recovery brings every key back.
  b->endpoints().setHealthy(2, true);
  EXPECT_EQ(assign(*b, ks), healthy);
}

TEST(ConsistentHashTest, AllUnhealthyIgnoresHealth) {
  const std::vector<std::string> ks = keys();
  auto b = ring(hostPorts(4));
  const std::vector<std::string> healthy = assign(*b, ks);
  for (size_t e = 0; e < 4; ++e) b->endpoints().setHealthy(e, false);
  EXPECT_EQ(assign(*b, ks), healthy);
}

TEST(ConsistentHashTest, ExcludeWalksToTheNextEndpoint) {
  auto b = ring(hostPorts(5));
  for (int i = 0; i < 1000; ++i) {
    const std::string key = "session-" + std::to_string(i);
    const size_t first = b->pick({0, key, kNoEndpoint});
    const size_t retry = b->pick({0, key, first});
    EXPECT_NE(retry, first);
    EXPECT_EQ(b->pick({5, key, first}), retry);  // deterministic: the next on the ring
  }
}

TEST(ConsistentHashTest, EmptyKeyIsRandom) {
  auto b = ring(hostPorts(4));
  std::vector<size_t> counts(4);
  for (int i = 0; i < 40000; ++i) ++counts[b->pick({0, {}, kNoEndpoint})];
  for (size_t c : counts) EXPECT_NEAR(c / 40000.0, 0.25, 0.02);
  b->endpoints().setHealthy(3, false);
  counts.assign(4, 0);
  for (int i = 0; i < 3000; ++i) ++counts[b->pick({0, {}, kNoEndpoint})];
  EXPECT_EQ(counts[3], 0u);
}

TEST(ConsistentHashTest, HeaderHashKeyIsKept) {
  config::HashKey key;
  key.source = config::HashKey::Source::kHeader;
  key.header = "X-User";
  ConsistentHashBalancer b(testing::endpointSet(2), key, kSeed, 10);
  EXPECT_EQ(b.ringSize(), 20u);
  ASSERT_NE(b.hashKey(), nullptr);
  EXPECT_EQ(b.hashKey()->header, "X-User");
}

}  // namespace
}  // namespace switchyard::proxy
