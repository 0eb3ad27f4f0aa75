// ClusterHealth's state machine: probe thresholds, outlier ejection with its growing
// interval and its cap on the ejected share, readmission, the gauge and the counter,
// and inheritance across a reload. Runs inside the runtime (ejections start Tasks).
#include "proxy/health/cluster_health.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "config/config.h"
#include "runtime/runtime.h"

namespace switchyard::proxy::health {
namespace {

using namespace std::chrono_literals;

config::Config configWith(config::ClusterConfig cluster) {
  config::Config config;
  config.clusters.push_back(std::move(cluster));
  return config;
}

config::ClusterConfig cluster(size_t endpoints) {
  config::ClusterConfig c;
  c.name = "c";
  for (size_t i = 0; i < endpoints; ++i) {
    c.endpoints.push_back({"127.0.0.1", static_cast<uint16_t>(9000 + i), config::HostKind::kIpv4});
  }
  return c;
}

std::shared_ptr<ClusterHealth> healthFor(const config::ClusterConfig& c) {
  return std::make_shared<ClusterHealth>(c, std::make_shared<EndpointSet>(c.endpoints));
}

bool gauge(const metrics::ProxyStats& stats, const std::string& endpoint) {
  metrics::ProxyTotals totals;
  stats.addTo(totals, true);
  return totals.endpoint_healthy[{"c", endpoint}];
}

uint64_t ejections(const metrics::ProxyStats& stats) {
  metrics::ProxyTotals totals;
  stats.addTo(totals, true);
  return totals.clusters["c"].events[static_cast<size_t>(metrics::ClusterEvent::kEjection)];
}

// Runs fn in a 2-worker runtime (ejections spawn Tasks; the checker uses rt sleeps).
void inRuntime(std::function<void()> fn) {
  rt::Options options;
  options.workers = 2;
  rt::run(options, std::move(fn));
}

TEST(ClusterHealth, ProbeThresholdsTakeOutAndBringBack) {
  config::ClusterConfig c = cluster(2);
  c.health_check.emplace();
  c.health_check->unhealthy_threshold = 3;
  c.health_check->healthy_threshold = 2;
  auto health = healthFor(c);
  auto stats = std::make_shared<metrics::ProxyStats>(configWith(c));
  health->attachStats(stats, 0);

  health->recordProbe(1, false);
  health->recordProbe(1, false);
  EXPECT_TRUE(health->activeHealthy(1));  // two failures: not yet
  health->recordProbe(1, true);           // a pass breaks the streak
  health->recordProbe(1, false);
  health->recordProbe(1, false);
  EXPECT_TRUE(health->activeHealthy(1));
  health->recordProbe(1, false);
  EXPECT_FALSE(health->activeHealthy(1));
  EXPECT_FALSE(health->endpoints().healthy(1));
  EXPECT_EQ(health->endpoints().healthyCount(), 1u);
  EXPECT_FALSE(gauge(*stats, "127.0.0.1:9001"));
  EXPECT_TRUE(gauge(*stats, "127.0.0.1:9000"));

  health->recordProbe(1, true);
  health->recordProbe(1, false);  // breaks the pass streak
  health->recordProbe(1, true);
  EXPECT_FALSE(health->activeHealthy(1));
  health->recordProbe(1, true);
  EXPECT_TRUE(health->activeHealthy(1));
  EXPECT_TRUE(gauge(*stats, "127.0.0.1:9001"));
  EXPECT_EQ(health->endpoints().healthyCount(), 2u);
}

TEST(ClusterHealth, ProbesAreIgnoredWithoutAHealthCheck) {
  auto health = healthFor(cluster(1));
  for (int i = 0; i < 10; ++i) health->recordProbe(0, false);
  EXPECT_TRUE(health->activeHealthy(0));
}

TEST(ClusterHealth, ConsecutiveErrorsEjectAndASuccessResetsTheStreak) {
  inRuntime([] {
    config::ClusterConfig c = cluster(2);
    c.outlier_detection.consecutive_5xx = 3;
    c.outlier_detection.base_ejection_time = 10s;
    auto health = healthFor(c);
    auto stats = std::make_shared<metrics::ProxyStats>(configWith(c));
    health->attachStats(stats, 0);
    health->report(0, UpstreamResult::kServerError);
    health->report(0, UpstreamResult::kGatewayFailure);
    health->report(0, UpstreamResult::kSuccess);
    health->report(0, UpstreamResult::kServerError);
    health->report(0, UpstreamResult::kServerError);
    EXPECT_FALSE(health->ejected(0));
    health->report(0, UpstreamResult::kServerError);
    EXPECT_TRUE(health->ejected(0));
    EXPECT_FALSE(health->endpoints().healthy(0));
    EXPECT_FALSE(gauge(*stats, "127.0.0.1:9000"));
    EXPECT_EQ(ejections(*stats), 1u);
    // More failures of an ejected endpoint (requests already in flight) change nothing.
    for (int i = 0; i < 5; ++i) health->report(0, UpstreamResult::kServerError);
    EXPECT_EQ(health->ejections(), 1u);
    health->stop();
  });
}

TEST(ClusterHealth, ConnectFailuresHaveTheirOwnThreshold) {
  inRuntime([] {
    config::ClusterConfig c = cluster(2);
    c.outlier_detection.consecutive_5xx = 0;  // off
    c.outlier_detection.consecutive_connect_failures = 2;
    auto health = healthFor(c);
    health->report(1, UpstreamResult::kServerError);
    health->report(1, UpstreamResult::kServerError);
    health->report(1, UpstreamResult::kServerError);
    EXPECT_FALSE(health->ejected(1));
    health->report(1, UpstreamResult::kConnectFailure);
    health->report(1, UpstreamResult::kServerError);  // it connected: the streak restarts
    health->report(1, UpstreamResult::kConnectFailure);
    EXPECT_FALSE(health->ejected(1));
    health->report(1, UpstreamResult::kConnectFailure);
    EXPECT_TRUE(health->ejected(1));
    health->stop();
  });
}

TEST(ClusterHealth, NeverEjectsMoreThanTheConfiguredShare) {
  inRuntime([] {
    config::ClusterConfig c = cluster(4);
    c.outlier_detection.consecutive_5xx = 1;
    c.outlier_detection.max_ejection_percent = 50;  // 2 of 4
    auto health = healthFor(c);
    for (size_t i = 0; i < 4; ++i) health->report(i, UpstreamResult::kServerError);
    EXPECT_EQ(health->ejections(), 2u);
    EXPECT_EQ(health->endpoints().healthyCount(), 2u);

    config::ClusterConfig two = cluster(2);
    two.outlier_detection.consecutive_5xx = 1;
    two.outlier_detection.max_ejection_percent = 49;  // rounds down to none of 2
    auto none = healthFor(two);
    none->report(0, UpstreamResult::kServerError);
    EXPECT_FALSE(none->ejected(0));
    health->stop();
    none->stop();
  });
}

TEST(ClusterHealth, ReadmitsAfterAnIntervalThatGrowsWithEachEjection) {
  inRuntime([] {
    config::ClusterConfig c = cluster(2);
    c.outlier_detection.consecutive_5xx = 1;
    c.outlier_detection.base_ejection_time = 200ms;
    c.outlier_detection.max_ejection_time = 10s;
    auto health = healthFor(c);
    health->start();

    auto timeEjected = [&] {
      health->report(0, UpstreamResult::kServerError);
      EXPECT_TRUE(health->ejected(0));
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < 2000 && health->ejected(0); ++i) rt::sleep_for(5ms);
      EXPECT_FALSE(health->ejected(0));
      return std::chrono::steady_clock::now() - start;
    };
    const auto first = timeEjected();
    const auto second = timeEjected();
    const auto third = timeEjected();
    // 200ms, 400ms, 600ms: lower bounds only (a loaded machine may be late, never early).
    EXPECT_GE(first, 190ms);
    EXPECT_GE(second, 390ms);
    EXPECT_GE(third, 590ms);
    EXPECT_TRUE(health->endpoints().healthy(0));
    EXPECT_EQ(health->ejections(), 3u);
    health->stop();
  });
}

TEST(ClusterHealth, StopEndsReadmissionTasks) {
  inRuntime([] {
    config::ClusterConfig c = cluster(2);
    c.outlier_detection.consecutive_5xx = 1;
    c.outlier_detection.base_ejection_time = 1h;
    std::weak_ptr<ClusterHealth> weak;
    {
      auto health = healthFor(c);
      weak = health;
      health->report(0, UpstreamResult::kServerError);
      ASSERT_TRUE(health->ejected(0));
      health->stop();
    }
    // The readmission Task held the last reference; stopped, it lets go.
    for (int i = 0; i < 1000 && !weak.expired(); ++i) rt::sleep_for(2ms);
    EXPECT_TRUE(weak.expired());
  });
}

TEST(ClusterHealth, InheritsByEndpointNameAcrossAReload) {
  inRuntime([] {
    config::ClusterConfig c = cluster(3);
    c.health_check.emplace();
    c.health_check->unhealthy_threshold = 1;
    c.outlier_detection.consecutive_5xx = 1;
    c.outlier_detection.base_ejection_time = 1h;
    auto before = healthFor(c);
    before->recordProbe(1, false);  // 9001 down by probe
    before->report(2, UpstreamResult::kServerError);  // 9002 ejected
    ASSERT_FALSE(before->activeHealthy(1));
    ASSERT_TRUE(before->ejected(2));

    // The next snapshot lists 9002, 9001 and a new 9005, in another order.
    config::ClusterConfig next = c;
    next.endpoints = {c.endpoints[2], c.endpoints[1],
                      {"127.0.0.1", 9005, config::HostKind::kIpv4}};
    auto after = healthFor(next);
    after->inherit(*before);
    EXPECT_TRUE(after->ejected(0));
    EXPECT_FALSE(after->activeHealthy(1));
    EXPECT_TRUE(after->activeHealthy(2));
    EXPECT_FALSE(after->ejected(2));
    EXPECT_EQ(after->endpoints().healthyCount(), 1u);
    before->stop();
    after->stop();
  });
}

}  // namespace
}  // namespace switchyard::proxy::health
