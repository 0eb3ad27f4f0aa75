// ProxyStats + ProxyStatsCollector + MetricsRegistry: what the request path records is
// what /metrics shows, exactly, summed over workers and over reloads.
#include "proxy/metrics/proxy_stats.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "proxy/metrics/metrics_registry.h"
#include "proxy/metrics/proxy_stats_collector.h"
#include "tests/unit/proxy/metrics/exposition_reader.h"
#include "tests/unit/proxy/metrics/test_configs.h"

namespace switchyard::proxy::metrics {
namespace {

using switchyard::testing::ExpositionReader;
using switchyard::testing::twoListenerConfig;

// Indices in twoListenerConfig().
constexpr size_t kPublic = 0, kInternal = 1;
constexpr size_t kRouteApi = 0, kRouteWeb = 1, kRouteAdmin = 2;
constexpr size_t kApi = 0, kWeb = 1;

std::string requests(const std::string& listener, const std::string& route,
                     const std::string& cluster, const std::string& code) {
  return "switchyard_http_requests_total{listener=\"" + listener + "\",route=\"" + route +
         "\",cluster=\"" + cluster + "\",code=\"" + code + "\"}";
}

std::string bucket(const std::string& family, const std::string& label,
                   const std::string& value, const std::string& le) {
  return family + "_bucket{" + label + "=\"" + value + "\",le=\"" + le + "\"}";
}

TEST(ProxyStatsTest, RequestsOnTwoWorkersAddUpExactly) {
  MetricsRegistry registry("1.2.3");
  std::shared_ptr<ProxyStats> stats = registry.proxyStats().publish(twoListenerConfig(), 2);
  constexpr int kPerWorker = 1000;
  std::vector<std::thread> workers;
  for (int worker = 0; worker < 2; ++worker) {
    workers.emplace_back([stats, worker] {
      for (int i = 0; i < kPerWorker; ++i) {
        // Per worker: 1000 api requests (900 200s, 100 503s), 500 web 304s.
        const int status = i % 10 == 0 ? 503 : 200;
        stats->requestDone(worker, kPublic, kRouteApi, kApi, status, 1'000'000, 800'000);
        if (i % 2 == 0) {
          stats->requestDone(worker, kPublic, kRouteWeb, kWeb, 304, 200'000, 100'000);
        }
        stats->bytes(worker, kPublic, 100, 1000);
      }
      stats->connectionOpened(worker, kPublic);
    });
  }
  for (std::thread& worker : workers) worker.join();

  ExpositionReader r(registry.renderMetrics());
  EXPECT_EQ(r.raw(requests("public", "api", "api", "2xx")), "1800");
  EXPECT_EQ(r.raw(requests("public", "api", "api", "5xx")), "200");
  EXPECT_EQ(r.raw(requests("public", "web", "web", "3xx")), "1000");
  EXPECT_FALSE(r.has(requests("public", "api", "api", "4xx")));  // zero series are left out
  EXPECT_FALSE(r.has(requests("internal", "api", "api", "2xx")));
  EXPECT_EQ(r.raw("switchyard_downstream_bytes_received_total{listener=\"public\"}"), "200000");
  EXPECT_EQ(r.raw("switchyard_downstream_bytes_sent_total{listener=\"public\"}"), "2000000");
  EXPECT_EQ(r.raw("switchyard_downstream_connections_total{listener=\"public\"}"), "2");
  EXPECT_EQ(r.raw("switchyard_downstream_connections_active{listener=\"public\"}"), "2");
  EXPECT_EQ(r.raw("switchyard_downstream_connections_total{listener=\"internal\"}"), "0");
  EXPECT_EQ(r.raw("switchyard_http_request_duration_seconds_count{listener=\"public\"}"),
            "3000");
  EXPECT_EQ(r.raw("switchyard_upstream_response_duration_seconds_count{cluster=\"api\"}"),
            "2000");
  EXPECT_EQ(r.raw("switchyard_upstream_response_duration_seconds_count{cluster=\"web\"}"),
            "1000");
  EXPECT_DOUBLE_EQ(r.value("switchyard_http_request_duration_seconds_sum{listener=\"public\"}"),
                   2000 * 0.001 + 1000 * 0.0002);
  EXPECT_EQ(r.raw("switchyard_build_info{version=\"1.2.3\"}"), "1");
  EXPECT_EQ(r.type("switchyard_http_requests_total"), "counter");
  EXPECT_EQ(r.type("switchyard_http_request_duration_seconds"), "histogram");
  EXPECT_EQ(r.type("switchyard_downstream_connections_active"), "gauge");
  EXPECT_EQ(r.raw("switchyard_metrics_invalid_records_total"), "0");
}

TEST(ProxyStatsTest, HistogramBucketsAreCumulativeWithInclusiveBounds) {
  MetricsRegistry registry("test");
  std::shared_ptr<ProxyStats> stats = registry.proxyStats().publish(twoListenerConfig(), 1);
  // 50us and exactly 100us land in le=0.0001; 100us+1ns in le=0.00025; 1ms in le=0.001;
  // 40s beyond the last bound (30s) in +Inf only.
  for (uint64_t ns : {50'000ull, 100'000ull, 100'001ull, 1'000'000ull, 40'000'000'000ull}) {
    stats->requestDone(0, kInternal, ProxyStats::kNoRoute, ProxyStats::kNoCluster, 404, ns, -1);
  }
  ExpositionReader r(registry.renderMetrics());
  const std::string family = "switchyard_http_request_duration_seconds";
  EXPECT_EQ(r.raw(bucket(family, "listener", "internal", "0.0001")), "2");
  EXPECT_EQ(r.raw(bucket(family, "listener", "internal", "0.00025")), "3");
  EXPECT_EQ(r.raw(bucket(family, "listener", "internal", "0.0005")), "3");
  EXPECT_EQ(r.raw(bucket(family, "listener", "internal", "0.001")), "4");
  EXPECT_EQ(r.raw(bucket(family, "listener", "internal", "10")), "4");
  EXPECT_EQ(r.raw(bucket(family, "listener", "internal", "30")), "4");
  EXPECT_EQ(r.raw(bucket(family, "listener", "internal", "+Inf")), "5");
  EXPECT_EQ(r.raw(family + "_count{listener=\"internal\"}"), "5");
  EXPECT_DOUBLE_EQ(r.value(family + "_sum{listener=\"internal\"}"),
                   (50'000 + 100'000 + 100'001 + 1'000'000 + 40'000'000'000.0) / 1e9);
  // Every bound is present, in order, and the counts never decrease.
  double previous = 0;
  size_t present = 0;
  for (const char* le : {"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
                         "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30",
                         "+Inf"}) {
    const double count = r.value(bucket(family, "listener", "internal", le));
    ASSERT_FALSE(std::isnan(count)) << le;
    EXPECT_GE(count, previous) << le;
    previous = count;
    ++present;
  }
  EXPECT_EQ(present, kLatencyBuckets);
  // No route and no upstream: empty route and cluster labels, no upstream observation.
  EXPECT_EQ(r.raw(requests("internal", "", "", "4xx")), "5");
  EXPECT_EQ(r.raw("switchyard_upstream_response_duration_seconds_count{cluster=\"api\"}"),
            "0");
}

TEST(ProxyStatsTest, LatencyBucketMatchesPrometheusLe) {
  EXPECT_EQ(latencyBucket(0), 0u);
  EXPECT_EQ(latencyBucket(100'000), 0u);
  EXPECT_EQ(latencyBucket(100'001), 1u);
  EXPECT_EQ(latencyBucket(30'000'000'000), kLatencyBoundsNs.size() - 1);
  EXPECT_EQ(latencyBucket(30'000'000'001), kLatencyBoundsNs.size());
  EXPECT_EQ(latencyBucket(UINT64_MAX), kLatencyBoundsNs.size());
}

TEST(ProxyStatsTest, CodeClasses) {
  EXPECT_STREQ(kCodeClassNames[codeClass(101)], "1xx");
  EXPECT_STREQ(kCodeClassNames[codeClass(200)], "2xx");
  EXPECT_STREQ(kCodeClassNames[codeClass(399)], "3xx");
  EXPECT_STREQ(kCodeClassNames[codeClass(404)], "4xx");
  EXPECT_STREQ(kCodeClassNames[codeClass(599)], "5xx");
  EXPECT_STREQ(kCodeClassNames[codeClass(600)], "other");
  EXPECT_STREQ(kCodeClassNames[codeClass(0)], "other");
  EXPECT_STREQ(kCodeClassNames[codeClass(99)], "other");
}

TEST(ProxyStatsTest, DirectResponseHasNoClusterAndRoutesStayOnTheirListener) {
  MetricsRegistry registry("test");
  std::shared_ptr<ProxyStats> stats = registry.proxyStats().publish(twoListenerConfig(), 1);
  stats->requestDone(0, kInternal, kRouteAdmin, ProxyStats::kNoCluster, 204, 1000, -1);
  // "web" is bound to "public": recording it on "internal" is a caller bug, counted.
  stats->requestDone(0, kInternal, kRouteWeb, kWeb, 200, 1000, 1000);
  stats->requestDone(0, 7, kRouteApi, kApi, 200, 1000, 1000);  // no listener 7
  stats->connectionOpened(0, 9);
  stats->upstreamConnections(0, 5, 1, 0);
  stats->setEndpointHealthy(kApi, 2, false);  // api has 2 endpoints
  ExpositionReader r(registry.renderMetrics());
  EXPECT_EQ(r.raw(requests("internal", "admin", "", "2xx")), "1");
  EXPECT_FALSE(r.has(requests("internal", "web", "web", "2xx")));
  EXPECT_EQ(r.raw("switchyard_metrics_invalid_records_total"), "5");
}

TEST(ProxyStatsTest, GaugesBalanceAcrossWorkers) {
  MetricsRegistry registry("test");
  std::shared_ptr<ProxyStats> stats = registry.proxyStats().publish(twoListenerConfig(), 4);
  // A connection accepted on worker 0 and closed on worker 3 (its Task migrated).
  stats->connectionOpened(0, kPublic);
  stats->connectionOpened(0, kPublic);
  stats->connectionClosed(3, kPublic);
  // Pool: connect on 1 (active), release on 2 (idle), take on 0 (active), close on 3.
  stats->upstreamConnections(1, kApi, 0, +1);
  stats->upstreamConnections(2, kApi, +1, -1);
  stats->upstreamConnections(0, kApi, -1, +1);
  stats->upstreamConnections(1, kApi, 0, +1);
  stats->upstreamConnections(3, kApi, +1, -1);
  stats->tlsHandshake(2, kPublic, TlsHandshakeResult::kSuccess);
  stats->tlsHandshake(3, kPublic, TlsHandshakeResult::kFailure);
  stats->tlsHandshake(3, kPublic, TlsHandshakeResult::kSuccess);
  stats->tlsHandshake(1, kPublic, TlsHandshakeResult::kResumed);
  ExpositionReader r(registry.renderMetrics());
  EXPECT_EQ(r.raw("switchyard_downstream_connections_active{listener=\"public\"}"), "1");
  EXPECT_EQ(r.raw("switchyard_downstream_connections_total{listener=\"public\"}"), "2");
  EXPECT_EQ(r.raw("switchyard_upstream_connections{cluster=\"api\",state=\"active\"}"), "1");
  EXPECT_EQ(r.raw("switchyard_upstream_connections{cluster=\"api\",state=\"idle\"}"), "1");
  EXPECT_EQ(r.raw("switchyard_upstream_connections{cluster=\"web\",state=\"idle\"}"), "0");
  EXPECT_EQ(r.raw("switchyard_tls_handshakes_total{listener=\"public\",result=\"success\"}"), "2");
  EXPECT_EQ(r.raw("switchyard_tls_handshakes_total{listener=\"public\",result=\"failure\"}"), "1");
  EXPECT_EQ(r.raw("switchyard_tls_handshakes_total{listener=\"public\",result=\"resumed\"}"), "1");
  EXPECT_EQ(r.raw("switchyard_tls_handshakes_total{listener=\"public\",result=\"timeout\"}"), "0");
  // A listener without handshakes (plain HTTP) has no TLS series.
  EXPECT_EQ(registry.renderMetrics().find("switchyard_tls_handshakes_total{listener=\"internal"),
            std::string::npos);
}

TEST(ProxyStatsTest, EndpointHealthOfTheCurrentSnapshot) {
  MetricsRegistry registry("test");
  std::shared_ptr<ProxyStats> stats = registry.proxyStats().publish(twoListenerConfig(), 1);
  stats->setEndpointHealthy(kApi, 1, false);
  ExpositionReader r(registry.renderMetrics());
  EXPECT_EQ(r.raw("switchyard_upstream_endpoint_healthy{cluster=\"api\",endpoint=\"10.0.0.1:8080\"}"),
            "1");
  EXPECT_EQ(r.raw("switchyard_upstream_endpoint_healthy{cluster=\"api\",endpoint=\"[::1]:8081\"}"),
            "0");
  EXPECT_EQ(r.raw("switchyard_upstream_endpoint_healthy{cluster=\"web\",endpoint=\"web.internal:80\"}"),
            "1");

  // After a reload without cluster "web", only the new snapshot's endpoints are shown,
  // healthy until its health checker says otherwise.
  config::Config next = twoListenerConfig();
  next.clusters.pop_back();
  next.routes.erase(next.routes.begin() + kRouteWeb);
  auto next_stats = registry.proxyStats().publish(next, 1);
  ExpositionReader after(registry.renderMetrics());
  EXPECT_EQ(after.raw("switchyard_upstream_endpoint_healthy{cluster=\"api\",endpoint=\"[::1]:8081\"}"),
            "1");
  EXPECT_FALSE(after.has("switchyard_upstream_endpoint_healthy{cluster=\"web\",endpoint=\"web.internal:80\"}"));
}

TEST(ProxyStatsTest, CountersSurviveReloadsAndInFlightRequestsOnTheOldSnapshot) {
  MetricsRegistry registry("test");
  ProxyStatsCollector& collector = registry.proxyStats();
  std::shared_ptr<ProxyStats> old_stats = collector.publish(twoListenerConfig(), 2);
  for (int i = 0; i < 5; ++i) old_stats->requestDone(i % 2, kPublic, kRouteApi, kApi, 200, 10, 5);
  old_stats->requestDone(0, kPublic, kRouteWeb, kWeb, 200, 10, 5);
  old_stats->connectionOpened(1, kPublic);  // a long-lived connection from before the reload

  // Reload: route "web" and cluster "web" removed, route "api" moved to index 0 of a
  // different table (a new route in front of it), listener order swapped.
  config::Config next = twoListenerConfig();
  std::swap(next.listeners[0], next.listeners[1]);
  next.clusters.pop_back();
  next.routes.erase(next.routes.begin() + kRouteWeb);
  config::RouteConfig health;
  health.name = "health";
  health.action = config::DirectResponse{200, "ok"};
  next.routes.insert(next.routes.begin(), health);
  std::shared_ptr<ProxyStats> new_stats = collector.publish(next, 2);
  const size_t new_public = 1, new_route_api = 1;

  // In flight on the old snapshot, new requests on the new one.
  for (int i = 0; i < 3; ++i) old_stats->requestDone(1, kPublic, kRouteApi, kApi, 200, 10, 5);
  for (int i = 0; i < 2; ++i) new_stats->requestDone(0, new_public, new_route_api, 0, 200, 10, 5);
  EXPECT_EQ(collector.liveGenerations(), 1u);
  ExpositionReader during(registry.renderMetrics());
  EXPECT_EQ(during.raw(requests("public", "api", "api", "2xx")), "10");
  EXPECT_EQ(during.raw("switchyard_downstream_connections_active{listener=\"public\"}"), "1");

  // The connection closes under the new snapshot; the old snapshot is released.
  new_stats->connectionClosed(0, new_public);
  old_stats.reset();
  EXPECT_EQ(collector.liveGenerations(), 0u);  // folded into the retired totals
  new_stats->requestDone(1, new_public, new_route_api, 0, 500, 10, 5);
  ExpositionReader after(registry.renderMetrics());
  EXPECT_EQ(after.raw(requests("public", "api", "api", "2xx")), "10");
  EXPECT_EQ(after.raw(requests("public", "api", "api", "5xx")), "1");
  // A removed route keeps its final value rather than vanishing (and later "resetting").
  EXPECT_EQ(after.raw(requests("public", "web", "web", "2xx")), "1");
  EXPECT_EQ(after.raw("switchyard_downstream_connections_active{listener=\"public\"}"), "0");
  EXPECT_EQ(after.raw("switchyard_downstream_connections_total{listener=\"public\"}"), "1");
  EXPECT_EQ(after.raw("switchyard_upstream_response_duration_seconds_count{cluster=\"api\"}"),
            "11");
  EXPECT_EQ(after.raw("switchyard_http_request_duration_seconds_count{listener=\"public\"}"),
            "12");

  // Another reload with no scrape in between folds the released generation too.
  std::shared_ptr<ProxyStats> third = collector.publish(next, 1);
  new_stats.reset();
  ExpositionReader last(registry.renderMetrics());
  EXPECT_EQ(last.raw(requests("public", "api", "api", "2xx")), "10");
  EXPECT_EQ(collector.liveGenerations(), 0u);
}

TEST(ProxyStatsTest, ReloadsWhileWorkersRecordLoseNothing) {
  MetricsRegistry registry("test");
  ProxyStatsCollector& collector = registry.proxyStats();
  collector.publish(twoListenerConfig(), 2);
  constexpr int kWorkers = 2;
  constexpr int kRequests = 20000;
  std::vector<std::thread> workers;
  for (int worker = 0; worker < kWorkers; ++worker) {
    workers.emplace_back([&collector, worker] {
      // Each request takes the current snapshot's stats, as a connection would at the
      // start of a request, and drops it afterwards.
      for (int i = 0; i < kRequests; ++i) {
        std::shared_ptr<ProxyStats> stats = collector.current();
        stats->requestDone(worker, kPublic, kRouteApi, kApi, 200, 1000, 500);
      }
    });
  }
  std::thread reloader([&collector] {
    for (int i = 0; i < 50; ++i) {
      collector.publish(twoListenerConfig(), 2);
      (void)collector.totals();
    }
  });
  reloader.join();
  for (std::thread& worker : workers) worker.join();
  EXPECT_EQ(collector.liveGenerations(), 0u);
  ExpositionReader r(registry.renderMetrics());
  EXPECT_EQ(r.value(requests("public", "api", "api", "2xx")), double{kWorkers} * kRequests);
}

TEST(ProxyStatsTest, LabelValuesAreEscaped) {
  config::Config config = twoListenerConfig();
  config.listeners[0].name = "back\\slash";
  config.routes[kRouteApi].name = "quote\"d\nnewline";
  config.clusters[kApi].name = "spaces and = signs, {braces}";
  std::get<config::ClusterTarget>(config.routes[kRouteApi].action).cluster =
      config.clusters[kApi].name;
  MetricsRegistry registry("v\"1\\2\n");
  auto stats = registry.proxyStats().publish(config, 1);
  stats->requestDone(0, kPublic, kRouteApi, kApi, 200, 1000, 1000);
  const std::string text = registry.renderMetrics();
  ExpositionReader r(text);
  EXPECT_EQ(r.raw("switchyard_http_requests_total{listener=\"back\\\\slash\",route=\"quote\\\"d"
                  "\\nnewline\",cluster=\"spaces and = signs, {braces}\",code=\"2xx\"}"),
            "1")
      << text;
  EXPECT_EQ(r.raw("switchyard_build_info{version=\"v\\\"1\\\\2\\n\"}"), "1");
  // No raw newline inside a sample line: every line is a comment or a sample.
  EXPECT_EQ(text.find("quote\"d"), std::string::npos);
}

TEST(ProxyStatsTest, ScrapesWhileWorkersRecordSeeMonotonicCounters) {
  MetricsRegistry registry("test");
  std::shared_ptr<ProxyStats> stats = registry.proxyStats().publish(twoListenerConfig(), 3);
  constexpr int kWorkers = 3;
  constexpr int kRequests = 20000;
  std::atomic<int> running{kWorkers};
  std::vector<std::thread> workers;
  for (int worker = 0; worker < kWorkers; ++worker) {
    workers.emplace_back([&, worker] {
      for (int i = 0; i < kRequests; ++i) {
        stats->requestDone(worker, kPublic, kRouteApi, kApi, 200, 1000 * i, 500 * i);
      }
      running.fetch_sub(1);
    });
  }
  double last = 0;
  const std::string series = requests("public", "api", "api", "2xx");
  while (running.load() > 0) {
    ExpositionReader r(registry.renderMetrics());
    const double now = r.has(series) ? r.value(series) : 0;
    ASSERT_GE(now, last);
    last = now;
    // _count is the +Inf bucket, always.
    EXPECT_EQ(r.raw("switchyard_http_request_duration_seconds_count{listener=\"public\"}"),
              r.raw(bucket("switchyard_http_request_duration_seconds", "listener", "public",
                           "+Inf")));
  }
  for (std::thread& worker : workers) worker.join();
  ExpositionReader r(registry.renderMetrics());
  EXPECT_EQ(r.value(series), double{kWorkers} * kRequests);
}

}  // namespace
}  // namespace switchyard::proxy::metrics

namespace switchyard::proxy::metrics {
namespace {

// Resilience events: one family per event, every cluster listed from the start (zero),
// counts summed over workers and kept across a reload.
TEST(ProxyStatsResilienceTest, ClusterEventsAreExportedPerClusterAndSurviveReloads) {
  MetricsRegistry registry("test");
  std::shared_ptr<ProxyStats> stats = registry.proxyStats().publish(twoListenerConfig(), 2);
  ExpositionReader empty(registry.renderMetrics());
  EXPECT_EQ(empty.raw("switchyard_upstream_ejections_total{cluster=\"web\"}"), "0");
  EXPECT_EQ(empty.raw("switchyard_upstream_overflow_total{cluster=\"api\",limit=\"max_requests\"}"),
            "0");

  stats->clusterEvent(0, kApi, ClusterEvent::kEjection);
  stats->clusterEvent(1, kApi, ClusterEvent::kEjection);
  stats->clusterEvent(1, kApi, ClusterEvent::kRetry);
  stats->clusterEvent(-1, kWeb, ClusterEvent::kRetryBudgetExhausted);  // not on a worker
  stats->clusterEvent(0, kWeb, ClusterEvent::kNoHealthyEndpoint);
  stats->clusterEvent(0, kApi, ClusterEvent::kOverflowConnections);
  stats->clusterEvent(0, kApi, ClusterEvent::kOverflowRequests);
  stats->clusterEvent(0, kApi, ClusterEvent::kOverflowRequests);
  stats->clusterEvent(0, 99, ClusterEvent::kRetry);  // an index this snapshot lacks

  auto next = registry.proxyStats().publish(twoListenerConfig(), 2);
  stats.reset();  // the old snapshot retires; its counts stay
  next->clusterEvent(0, kApi, ClusterEvent::kEjection);

  ExpositionReader r(registry.renderMetrics());
  EXPECT_EQ(r.raw("switchyard_upstream_ejections_total{cluster=\"api\"}"), "3");
  EXPECT_EQ(r.raw("switchyard_upstream_ejections_total{cluster=\"web\"}"), "0");
  EXPECT_EQ(r.raw("switchyard_upstream_retries_total{cluster=\"api\"}"), "1");
  EXPECT_EQ(r.raw("switchyard_upstream_retry_budget_exhausted_total{cluster=\"web\"}"), "1");
  EXPECT_EQ(r.raw("switchyard_upstream_no_healthy_endpoint_total{cluster=\"web\"}"), "1");
  EXPECT_EQ(r.raw("switchyard_upstream_overflow_total{cluster=\"api\",limit=\"max_connections\"}"),
            "1");
  EXPECT_EQ(r.raw("switchyard_upstream_overflow_total{cluster=\"api\",limit=\"max_requests\"}"),
            "2");
  EXPECT_EQ(r.raw("switchyard_metrics_invalid_records_total"), "1");
}

}  // namespace
}  // namespace switchyard::proxy::metrics
