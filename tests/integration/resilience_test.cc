// Upstream resilience (issue 9) over real sockets: active health checks take an endpoint
// out and bring it back, a cluster with no healthy endpoint answers 503 and makes /readyz
// unready, an endpoint killed under load is ejected with no failed idempotent request
// and readmitted once it is back, the retry budget caps a retry storm, retries go to
// another endpoint, and [cluster.limits] answer 503 instead of queueing.
//
// Timing: probes run every 100ms and ejections last 1s, so each test takes a few
// seconds; every wait is bounded (Origin::eventually, stretched under sanitizers) and no
// assertion depends on a tight time bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "proxy/metrics/proxy_stats.h"
#include "tests/integration/origin.h"
#include "tests/integration/proxy_harness.h"

namespace switchyard::itest {
namespace {

using proxy::metrics::ClusterEvent;

// An upstream whose /health answer and whose traffic answer a test can switch, and
// which counts the traffic (not the probes) it serves and its peak concurrency.
class Backend {
 public:
  explicit Backend(uint16_t port = 0)
      : origin_(httpHandler([this](const Message& req, OriginConn&) { return respond(req); }),
                "127.0.0.1", 128, port) {}

  std::string address() const { return origin_.address(); }
  uint16_t port() const { return origin_.port(); }
  void stop() { origin_.stop(); }

  std::atomic<bool> healthy{true};  // /health: 200, or 503
  std::atomic<int> status{200};     // every other path
  std::atomic<int> delay_ms{0};     // before answering other paths
  std::atomic<int> traffic{0};      // requests other than /health
  std::atomic<int> probes{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> peak_in_flight{0};

 private:
  std::string respond(const Message& req) {
    if (req.target == "/health") {
      probes++;
      return makeResponse(healthy ? 200 : 503, "health\n");
    }
    traffic++;
    const int now = ++in_flight;
    int peak = peak_in_flight.load();
    while (now > peak && !peak_in_flight.compare_exchange_weak(peak, now)) {
    }
    if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
    --in_flight;
    return makeResponse(status, "from " + address() + "\n");
  }

  Origin origin_;
};

std::string clusterConfig(const std::string& endpoints, const std::string& extra) {
  return fill(R"toml(
[log]
access = "off"

[[listener]]
name = "main"
address = "127.0.0.1:0"

[[route]]
cluster = "c"

[[cluster]]
name = "c"
endpoints = [{ENDPOINTS}]
{EXTRA}
)toml",
              {{"ENDPOINTS", endpoints}, {"EXTRA", extra}});
}

std::string quoted(const std::vector<std::string>& addresses) {
  std::string out;
  for (const auto& a : addresses) out += (out.empty() ? "\"" : ", \"") + a + "\"";
  return out;
}

constexpr std::string_view kHealthCheck = R"toml(
[cluster.health_check]
path = "/health"
interval = "100ms"
timeout = "500ms"
healthy_threshold = 2
unhealthy_threshold = 2

[cluster.outlier_detection]
consecutive_5xx = 0
consecutive_connect_failures = 0
)toml";

std::shared_ptr<const server::ProxyState> stateOf(ProxyHarness& proxy) {
  return proxy.server().state();
}

uint64_t eventCount(ProxyHarness& proxy, ClusterEvent event) {
  auto state = stateOf(proxy);
  if (state->stats == nullptr) return 0;
  proxy::metrics::ProxyTotals totals;
  state->stats->addTo(totals, true);
  return totals.clusters["c"].events[static_cast<size_t>(event)];
}

bool gaugeHealthy(ProxyHarness& proxy, const std::string& endpoint) {
  auto state = stateOf(proxy);
  proxy::metrics::ProxyTotals totals;
  state->stats->addTo(totals, true);
  return totals.endpoint_healthy[{"c", endpoint}];
}

// n GETs, each on its own connection; returns how many got `expect`.
int getMany(ProxyHarness& proxy, int n, int expect, std::string* last_body = nullptr) {
  int ok = 0;
  for (int i = 0; i < n; i++) {
    Client c(proxy.port());
    Message m = c.get("/r" + std::to_string(i));
    if (m.status == expect) ok++;
    if (last_body != nullptr) *last_body = m.body;
  }
  return ok;
}

ProxyHarness::Options withStats() {
  ProxyHarness::Options o;
  o.with_stats = true;
  return o;
}

TEST(ResilienceTest, ActiveHealthCheckTakesAnEndpointOutAndBringsItBack) {
  Backend a, b;
  ProxyHarness proxy(clusterConfig(quoted({a.address(), b.address()}), std::string(kHealthCheck)),
                     withStats());
  ASSERT_TRUE(proxy.ok());
  // Probes run per endpoint, from the start.
  ASSERT_TRUE(Origin::eventually([&] { return a.probes >= 2 && b.probes >= 2; }, 5s));

  b.healthy = false;
  ASSERT_TRUE(Origin::eventually(
      [&] { return !stateOf(proxy)->clusters[0]->health().activeHealthy(1); }, 5s));
  EXPECT_FALSE(gaugeHealthy(proxy, b.address()));
  EXPECT_TRUE(gaugeHealthy(proxy, a.address()));
  const int b_before = b.traffic;
  EXPECT_EQ(getMany(proxy, 20, 200), 20);
  EXPECT_EQ(b.traffic, b_before) << "an unhealthy endpoint got traffic";

  b.healthy = true;
  ASSERT_TRUE(Origin::eventually(
      [&] { return stateOf(proxy)->clusters[0]->health().activeHealthy(1); }, 5s));
  EXPECT_TRUE(gaugeHealthy(proxy, b.address()));
  EXPECT_EQ(getMany(proxy, 20, 200), 20);
  EXPECT_GE(b.traffic - b_before, 5) << "a recovered endpoint got no traffic back";
}

TEST(ResilienceTest, NoHealthyEndpointAnswers503AndReadyzIsUnready) {
  Backend a, b;
  ProxyHarness proxy(clusterConfig(quoted({a.address(), b.address()}), std::string(kHealthCheck)),
                     withStats());
  ASSERT_TRUE(proxy.ok());
  std::string why;
  EXPECT_TRUE(proxy.server().ready(why)) << why;

  a.healthy = false;
  b.healthy = false;
  ASSERT_TRUE(Origin::eventually(
      [&] { return stateOf(proxy)->clusters[0]->balancer().endpoints().healthyCount() == 0; },
      5s));
  const int traffic_before = a.traffic + b.traffic;
  std::string body;
  EXPECT_EQ(getMany(proxy, 3, 503, &body), 3);
  EXPECT_EQ(body, "no healthy upstream\n");
  EXPECT_EQ(a.traffic + b.traffic, traffic_before);
  EXPECT_EQ(eventCount(proxy, ClusterEvent::kNoHealthyEndpoint), 3u);
  EXPECT_FALSE(proxy.server().ready(why));
  EXPECT_NE(why.find("no healthy endpoint"), std::string::npos) << why;

  a.healthy = true;
  ASSERT_TRUE(Origin::eventually([&] { return proxy.server().ready(why); }, 5s)) << why;
  EXPECT_EQ(getMany(proxy, 3, 200), 3);
}

TEST(ResilienceTest, HealthFollowsAReloadAndOldCheckersStop) {
  Backend a, b;
  const std::string config =
      clusterConfig(quoted({a.address(), b.address()}), std::string(kHealthCheck));
  ProxyHarness proxy(config, withStats());
  ASSERT_TRUE(proxy.ok());
  b.healthy = false;
  ASSERT_TRUE(Origin::eventually(
      [&] { return !stateOf(proxy)->clusters[0]->health().activeHealthy(1); }, 5s));

  // The same cluster in a new snapshot: the verdict carries over at once (no request
  // slips to the dead endpoint while the new checkers catch up).
  proxy.reload(config + "\n# reloaded\n");
  auto state = stateOf(proxy);
  EXPECT_FALSE(state->clusters[0]->health().activeHealthy(1));
  EXPECT_EQ(state->clusters[0]->balancer().endpoints().healthyCount(), 1u);
  EXPECT_FALSE(gaugeHealthy(proxy, b.address()));

  // One checker per endpoint, not one per snapshot: probes keep their pace (10/s at
  // 100ms). Leftover checkers of the old snapshot would double it.
  std::this_thread::sleep_for(300ms);
  const int before = a.probes;
  std::this_thread::sleep_for(2s);
  const int probes = a.probes - before;
  EXPECT_GE(probes, 5);
  EXPECT_LE(probes, 30);  // 2 snapshots' checkers would give ~40

  // A reload that adds an endpoint probes it too.
  Backend c;
  proxy.reload(clusterConfig(quoted({a.address(), b.address(), c.address()}),
                             std::string(kHealthCheck)));
  EXPECT_TRUE(Origin::eventually([&] { return c.probes >= 1; }, 5s));
  EXPECT_FALSE(stateOf(proxy)->clusters[0]->health().activeHealthy(1));
}

constexpr std::string_view kOutlier = R"toml(
[cluster.retry]
max_retries = 2
retry_on = ["connect_failure", "reset"]

[cluster.outlier_detection]
consecutive_5xx = 3
consecutive_connect_failures = 2
base_ejection_time = "1s"
max_ejection_time = "10s"
max_ejection_percent = 50
)toml";

TEST(ResilienceTest, EndpointKilledUnderLoadIsEjectedWithoutFailedRequestsAndReadmitted) {
  Backend a;
  auto b = std::make_unique<Backend>();
  const uint16_t b_port = b->port();
  const std::string b_address = b->address();
  ProxyHarness proxy(clusterConfig(quoted({a.address(), b_address}), std::string(kOutlier)),
                     withStats());
  ASSERT_TRUE(proxy.ok());

  std::atomic<bool> stop{false};
  std::atomic<int> sent{0}, failed{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; t++) {
    clients.emplace_back([&, t] {
      auto c = std::make_unique<Client>(proxy.port());
      for (int i = 0; i < 100000 && !stop; i++) {
        Message m = c->get("/load/" + std::to_string(t) + "/" + std::to_string(i));
        sent++;
        if (m.status != 200) failed++;
        if (m.status != 200 || m.header("connection") == "close") {
          c = std::make_unique<Client>(proxy.port());
        }
      }
    });
  }
  ASSERT_TRUE(Origin::eventually([&] { return b->traffic >= 20; }, 5s));
  b->stop();  // connections reset, then refused
  auto& health = stateOf(proxy)->clusters[0]->health();
  EXPECT_TRUE(Origin::eventually([&] { return health.ejected(1); }, 5s));
  EXPECT_GE(eventCount(proxy, ClusterEvent::kEjection), 1u);
  const int sent_at_ejection = sent;
  std::this_thread::sleep_for(300ms);
  EXPECT_GT(sent, sent_at_ejection) << "traffic stopped after the ejection";

  // Back on the same port: readmitted after its ejection time, and traffic returns.
  b = std::make_unique<Backend>(b_port);
  EXPECT_TRUE(Origin::eventually([&] { return b->traffic >= 5; }, 15s))
      << "a recovered endpoint never got traffic back";
  stop = true;
  for (auto& t : clients) t.join();
  std::printf("killed endpoint: %d requests, %d failed, %llu ejection(s)\n", sent.load(),
              failed.load(),
              static_cast<unsigned long long>(eventCount(proxy, ClusterEvent::kEjection)));
  EXPECT_EQ(failed, 0) << "of " << sent << " idempotent requests";
  EXPECT_GT(sent, 100);
}

TEST(ResilienceTest, RetriesGoToAnotherEndpoint) {
  Backend good, bad;
  bad.status = 503;
  ProxyHarness proxy(clusterConfig(quoted({good.address(), bad.address()}), R"toml(
[cluster.retry]
max_retries = 1
retry_on = ["503"]

[cluster.outlier_detection]
consecutive_5xx = 0
)toml"),
                     withStats());
  ASSERT_TRUE(proxy.ok());
  EXPECT_EQ(getMany(proxy, 20, 200), 20);
  EXPECT_GE(bad.traffic, 5);  // round robin sent it about half of the first tries
  EXPECT_EQ(eventCount(proxy, ClusterEvent::kRetry), static_cast<uint64_t>(bad.traffic));
}

// 20 requests at once to a cluster whose endpoints all answer 503 slowly, each allowed
// 3 retries: without a budget the upstream would get 80 requests.
int retryStorm(const std::string& budget, uint64_t* exhausted) {
  Backend a, b;
  a.status = b.status = 503;
  a.delay_ms = b.delay_ms = 400;
  ProxyHarness proxy(clusterConfig(quoted({a.address(), b.address()}), R"toml(
[cluster.retry]
max_retries = 3
retry_on = ["503"]
)toml" + budget + R"toml(
[cluster.outlier_detection]
consecutive_5xx = 0
)toml"),
                     withStats());
  if (!proxy.ok()) return -1;
  std::vector<std::thread> clients;
  std::atomic<int> got503{0};
  for (int i = 0; i < 20; i++) {
    clients.emplace_back([&, i] {
      Client c(proxy.port());
      if (c.get("/storm/" + std::to_string(i)).status == 503) got503++;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(got503, 20);
  *exhausted = eventCount(proxy, ClusterEvent::kRetryBudgetExhausted);
  return a.traffic + b.traffic;
}

TEST(ResilienceTest, RetryBudgetCapsARetryStorm) {
  uint64_t exhausted = 0;
  const int capped = retryStorm("budget_percent = 20\nmin_retry_concurrency = 1\n", &exhausted);
  // 20 first tries, then at most 20% of the 20 active requests retry at once: 4, and
  // fewer as requests finish.
  EXPECT_GE(capped, 20);
  EXPECT_LE(capped, 30);
  EXPECT_GE(exhausted, 10u);

  std::printf("retry storm with a 20%% budget: %d upstream requests, %llu retries refused\n",
              capped, static_cast<unsigned long long>(exhausted));

  // The control: a budget that allows everything lets the storm through.
  const int uncapped =
      retryStorm("budget_percent = 100\nmin_retry_concurrency = 1000\n", &exhausted);
  std::printf("retry storm without a budget: %d upstream requests\n", uncapped);
  EXPECT_EQ(uncapped, 80);
  EXPECT_EQ(exhausted, 0u);
}

// 4 keep-alive clients, 40 requests each, to a fast (5ms) and a 10x slower (50ms)
// endpoint; returns the slow endpoint's share of the traffic.
double slowShare(const std::string& balancer) {
  Backend fast, slow;
  fast.delay_ms = 5;
  slow.delay_ms = 50;
  ProxyHarness proxy(clusterConfig(quoted({fast.address(), slow.address()}),
                                   "balancer = \"" + balancer + "\"\n"));
  if (!proxy.ok()) return -1;
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; t++) {
    clients.emplace_back([&, t] {
      Client c(proxy.port());
      for (int i = 0; i < 40; i++) {
        if (c.get("/ewma/" + std::to_string(t) + "/" + std::to_string(i)).status == 200) ok++;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok, 160);
  std::printf("%s: fast endpoint %d requests, 10x slower endpoint %d\n", balancer.c_str(),
              fast.traffic.load(), slow.traffic.load());
  return static_cast<double>(slow.traffic) / static_cast<double>(fast.traffic + slow.traffic);
}

TEST(ResilienceTest, PeakEwmaSendsLessTrafficToA10xSlowerEndpoint) {
  EXPECT_LT(slowShare("peak_ewma"), 0.2);
  // The control: round robin ignores latency and splits evenly.
  EXPECT_GT(slowShare("round_robin"), 0.4);
}

TEST(ResilienceTest, MaxRequestsAnswers503InsteadOfQueueing) {
  Backend a;
  a.delay_ms = 500;
  ProxyHarness proxy(clusterConfig(quoted({a.address()}), R"toml(
[cluster.limits]
max_requests = 2
)toml"),
                     withStats());
  ASSERT_TRUE(proxy.ok());
  std::vector<std::thread> clients;
  std::atomic<int> ok{0}, refused{0};
  for (int i = 0; i < 6; i++) {
    clients.emplace_back([&, i] {
      Client c(proxy.port());
      Message m = c.get("/limit/" + std::to_string(i));
      if (m.status == 200) ok++;
      if (m.status == 503 && m.body == "upstream request limit reached\n") refused++;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok + refused, 6);
  EXPECT_GE(refused, 1);
  EXPECT_LE(a.peak_in_flight, 2);
  EXPECT_EQ(eventCount(proxy, ClusterEvent::kOverflowRequests), static_cast<uint64_t>(refused));
  // Below the limit again: served.
  EXPECT_EQ(getMany(proxy, 2, 200), 2);
}

TEST(ResilienceTest, MaxConnectionsAnswers503) {
  Backend a;
  a.delay_ms = 500;
  ProxyHarness proxy(clusterConfig(quoted({a.address()}), R"toml(
[cluster.limits]
max_connections = 1

[cluster.pool]
max_idle_per_worker = 0
)toml"),
                     withStats());
  ASSERT_TRUE(proxy.ok());
  std::vector<std::thread> clients;
  std::atomic<int> ok{0}, refused{0};
  for (int i = 0; i < 4; i++) {
    clients.emplace_back([&, i] {
      Client c(proxy.port());
      Message m = c.get("/conn/" + std::to_string(i));
      if (m.status == 200) ok++;
      if (m.status == 503 && m.body == "upstream connection limit reached\n") refused++;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok + refused, 4);
  EXPECT_GE(refused, 1);
  EXPECT_LE(a.peak_in_flight, 1);
  EXPECT_EQ(eventCount(proxy, ClusterEvent::kOverflowConnections),
            static_cast<uint64_t>(refused));
  // The connection closes after its request (no pooling): the next ones, one at a time,
  // are served. The proxy closes it just after the response went out, so wait for that.
  a.delay_ms = 0;
  auto& limits = stateOf(proxy)->clusters[0]->limits();
  for (int i = 0; i < 3; i++) {
    ASSERT_TRUE(Origin::eventually([&] { return limits.connections() == 0; }, 5s));
    EXPECT_EQ(getMany(proxy, 1, 200), 1);
  }
}

}  // namespace
}  // namespace switchyard::itest
