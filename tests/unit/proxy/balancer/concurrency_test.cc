// Many threads (standing in for Ps, one worker id each) pick and count concurrently while
// another flips health flags: no pick is out of range, and least_request's counters
// return to zero. Meaningful under --config=tsan and --config=asan.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "proxy/balancer/factory.h"
#include "tests/unit/proxy/balancer/test_endpoints.h"

namespace switchyard::proxy {
namespace {

TEST(BalancerConcurrencyTest, WorkersPickWhileHealthChanges) {
  for (config::BalancerKind kind :
       {config::BalancerKind::kRoundRobin, config::BalancerKind::kRandom,
        config::BalancerKind::kLeastRequest, config::BalancerKind::kConsistentHash}) {
    config::ClusterConfig cluster;
    cluster.name = "c";
    cluster.endpoints = testing::hostPorts(6);
    cluster.balancer = kind;
    std::unique_ptr<Balancer> b = makeBalancer(cluster, {.seed = 99});

    std::atomic<bool> stop{false};
    std::atomic<size_t> out_of_range{0};
    std::thread flipper([&] {
      size_t i = 0;
      while (!stop.load()) {
        b->endpoints().setHealthy(i % 6, (i / 6) % 2 == 0);
        ++i;
      }
    });
    std::vector<std::thread> workers;
    for (int w = 0; w < 4; ++w) {
      workers.emplace_back([&, w] {
        const std::string key = "key-" + std::to_string(w);
        for (int i = 0; i < 20000; ++i) {
          const size_t e = b->pick({w, key, i % 5 == 0 ? size_t{1} : kNoEndpoint});
          if (e >= 6) {
            out_of_range.fetch_add(1);
            continue;
          }
          b->onRequestStart(e);
          b->onRequestEnd(e);
        }
      });
    }
    for (std::thread& t : workers) t.join();
    stop.store(true);
    flipper.join();

    EXPECT_EQ(out_of_range.load(), 0u) << toString(kind);
    for (size_t e = 0; e < 6; ++e) EXPECT_EQ(b->endpoints().activeRequests(e), 0u);
  }
}

}  // namespace
}  // namespace switchyard::proxy
