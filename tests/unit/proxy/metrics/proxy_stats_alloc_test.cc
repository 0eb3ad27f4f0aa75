// The request path's recording calls must not allocate: 100k requestDone() calls (and
// the other per-request calls) under a replaced operator new (alloc_counter).
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "proxy/metrics/proxy_stats.h"
#include "tests/unit/proxy/metrics/test_configs.h"
#include "tests/unit/proxy/router/alloc_counter.h"

namespace switchyard::proxy::metrics {
namespace {

// Keeps the compiler from eliding an allocation whose result is unused.
void escape(void* p) { asm volatile("" : : "g"(p) : "memory"); }

TEST(ProxyStatsAllocTest, CounterSeesAllocations) {
  switchyard::testing::AllocationScope scope;
  auto v = std::make_unique<std::vector<int>>(10);
  escape(v.get());
  escape(v->data());
  EXPECT_GE(scope.allocations(), 1u);
}

TEST(ProxyStatsAllocTest, HotPathDoesNotAllocate) {
  ProxyStats stats(switchyard::testing::twoListenerConfig(), /*reserve_workers=*/2);
  size_t allocations = 0;
  {
    switchyard::testing::AllocationScope scope;
    for (int i = 0; i < 100'000; ++i) {
      const int worker = i & 1;
      stats.requestDone(worker, 0, static_cast<size_t>(i % 2), static_cast<size_t>(i % 2),
                        100 + (i % 500), static_cast<uint64_t>(i) * 997, i % 3 == 0 ? -1 : i);
    }
    for (int i = 0; i < 10'000; ++i) {
      const int worker = i & 1;
      stats.connectionOpened(worker, 1);
      stats.bytes(worker, 1, 512, 4096);
      stats.upstreamConnections(worker, 0, -1, +1);
      stats.upstreamConnections(worker, 0, +1, -1);
      stats.tlsHandshake(worker, 1, i % 7 != 0 ? TlsHandshakeResult::kSuccess : TlsHandshakeResult::kFailure);
      stats.connectionClosed(worker ^ 1, 1);
      stats.requestDone(worker, 1, ProxyStats::kNoRoute, ProxyStats::kNoCluster, 404, 10, -1);
      stats.setEndpointHealthy(0, 1, i % 2 == 0);
    }
    allocations = scope.allocations();
  }
  EXPECT_EQ(allocations, 0u);
  ProxyTotals totals;
  stats.addTo(totals, true);
  EXPECT_EQ(totals.listeners["public"].request_duration.counts.size(), kLatencyBuckets);
  uint64_t public_requests = 0;
  for (uint64_t c : totals.listeners["public"].request_duration.counts) public_requests += c;
  EXPECT_EQ(public_requests, 100'000u);
  EXPECT_EQ(totals.invalid_records, 0u);
}

}  // namespace
}  // namespace switchyard::proxy::metrics
