// RetryBudget (a share of active requests, with a floor), RetryPolicy (which failures
// may be retried, max_retries, budget slots returned at the end of the request), and
// ClusterLimits (reserve / release, never above the limit).
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "proxy/resilience/cluster_limits.h"
#include "proxy/resilience/retry_budget.h"
#include "proxy/resilience/retry_policy.h"

namespace switchyard::proxy::resilience {
namespace {

using Failure = RetryPolicy::Failure;
using Decision = RetryPolicy::Decision;

TEST(RetryBudget, AllowsAShareOfActiveRequestsWithAFloor) {
  RetryBudget budget(20, 2);
  EXPECT_EQ(budget.allowed(), 2);  // idle cluster: the floor
  for (int i = 0; i < 50; ++i) budget.requestStarted(i % 3);
  EXPECT_EQ(budget.activeRequests(), 50);
  EXPECT_EQ(budget.allowed(), 10);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(budget.tryStartRetry()) << i;
  EXPECT_FALSE(budget.tryStartRetry());
  budget.retryEnded();
  EXPECT_TRUE(budget.tryStartRetry());
  EXPECT_EQ(budget.activeRetries(), 10);
}

TEST(RetryBudget, RequestsMayEndOnAnotherWorkerThanTheyStarted) {
  RetryBudget budget(100, 0);
  for (int i = 0; i < 10; ++i) budget.requestStarted(0);
  for (int i = 0; i < 4; ++i) budget.requestEnded(7);  // Tasks that moved
  EXPECT_EQ(budget.activeRequests(), 6);
  budget.requestEnded(-1);  // outside a Task: wrapped, still counted
  EXPECT_EQ(budget.activeRequests(), 5);
}

TEST(RetryBudget, ConcurrentRetriesNeverExceedTheBudget) {
  RetryBudget budget(0, 8);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (budget.tryStartRetry()) granted++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted, 8);
}

config::RetryConfig retryConfig() {
  config::RetryConfig c;
  c.max_retries = 2;
  c.on_connect_failure = true;
  c.on_reset = true;
  c.on_statuses = {503};
  return c;
}

TEST(RetryPolicy, ConnectFailuresRetryAnyMethodOthersOnlyIdempotent) {
  const config::RetryConfig config = retryConfig();
  RetryBudget budget(100, 100);
  {
    RetryPolicy post(config, budget, /*idempotent=*/false);
    EXPECT_EQ(post.onFailure(Failure::kConnect), Decision::kRetry);
    EXPECT_EQ(post.onFailure(Failure::kReset), Decision::kNotRetryable);
    EXPECT_EQ(post.onFailure(Failure::kStatus, 503), Decision::kNotRetryable);
    EXPECT_FALSE(post.wantsStatus(503));
  }
  RetryPolicy get(config, budget, /*idempotent=*/true);
  EXPECT_TRUE(get.wantsStatus(503));
  EXPECT_FALSE(get.wantsStatus(502));
  EXPECT_EQ(get.onFailure(Failure::kStatus, 502), Decision::kNotRetryable);
  EXPECT_EQ(get.onFailure(Failure::kReset), Decision::kRetry);
  EXPECT_EQ(get.onFailure(Failure::kStatus, 503), Decision::kRetry);
  // max_retries = 2 spent.
  EXPECT_EQ(get.onFailure(Failure::kConnect), Decision::kNotRetryable);
  EXPECT_FALSE(get.wantsStatus(503));
  EXPECT_EQ(get.retries(), 2);
}

TEST(RetryPolicy, DisabledConditionsAreNotRetried) {
  config::RetryConfig config = retryConfig();
  config.on_connect_failure = false;
  config.on_reset = false;
  RetryBudget budget(100, 100);
  RetryPolicy get(config, budget, true);
  EXPECT_EQ(get.onFailure(Failure::kConnect), Decision::kNotRetryable);
  EXPECT_EQ(get.onFailure(Failure::kReset), Decision::kNotRetryable);
  config::RetryConfig none = retryConfig();
  none.max_retries = 0;
  RetryPolicy never(none, budget, true);
  EXPECT_EQ(never.onFailure(Failure::kConnect), Decision::kNotRetryable);
}

TEST(RetryPolicy, BudgetSlotsAreHeldUntilTheRequestEnds) {
  const config::RetryConfig config = retryConfig();
  RetryBudget budget(0, 1);  // one retry in flight, cluster-wide
  {
    RetryPolicy first(config, budget, true);
    EXPECT_EQ(first.onFailure(Failure::kReset), Decision::kRetry);
    RetryPolicy second(config, budget, true);
    EXPECT_EQ(second.onFailure(Failure::kReset), Decision::kBudgetExhausted);
    EXPECT_EQ(budget.activeRetries(), 1);
  }
  EXPECT_EQ(budget.activeRetries(), 0);
  RetryPolicy third(config, budget, true);
  EXPECT_EQ(third.onFailure(Failure::kReset), Decision::kRetry);
}

TEST(ClusterLimits, ZeroMeansNoLimit) {
  ClusterLimits limits(config::ClusterLimits{});
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(limits.tryStartRequest());
    EXPECT_TRUE(limits.tryReserveConnect());
  }
  EXPECT_EQ(limits.requests(), 0);  // not even counted
}

TEST(ClusterLimits, RequestsAreReservedAndReleased) {
  ClusterLimits limits(config::ClusterLimits{0, 2});
  EXPECT_TRUE(limits.tryStartRequest());
  EXPECT_TRUE(limits.tryStartRequest());
  EXPECT_FALSE(limits.tryStartRequest());
  limits.endRequest();
  EXPECT_TRUE(limits.tryStartRequest());
  EXPECT_EQ(limits.requests(), 2);
}

TEST(ClusterLimits, ConnectionsCountReservationsAndLiveConnections) {
  ClusterLimits limits(config::ClusterLimits{2, 0});
  ASSERT_TRUE(limits.tryReserveConnect());
  limits.releaseConnect();       // connected: the reservation becomes...
  limits.connectionsChanged(+1);  // ...a live connection (the gauge's +1)
  ASSERT_TRUE(limits.tryReserveConnect());
  EXPECT_FALSE(limits.tryReserveConnect());  // one live, one connecting
  limits.releaseConnect();                   // that connect failed
  EXPECT_TRUE(limits.tryReserveConnect());
  limits.releaseConnect();
  limits.connectionsChanged(-1);  // the live one closed
  EXPECT_EQ(limits.connections(), 0);
}

}  // namespace
}  // namespace switchyard::proxy::resilience
