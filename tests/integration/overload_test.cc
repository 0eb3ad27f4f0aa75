// Load shedding from the runtime's scheduling latency ([overload]): with one worker and
// Tasks burning its CPU, runnable Tasks wait tens of milliseconds before they run; the
// monitor sees it in the runtime's own latency histogram, new requests get 503 and
// /readyz turns unready; when the burning stops, it recovers. The burners are Tasks of
// the proxy's runtime (as a CPU-heavy handler would be), yielding only when sysmon asks.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <chrono>
#include <string>

#include "proxy/metrics/proxy_stats.h"
#include "runtime/runtime.h"
#include "tests/integration/origin.h"
#include "tests/integration/proxy_harness.h"

namespace switchyard::itest {
namespace {

constexpr std::string_view kConfig = R"toml(
[log]
access = "off"

[[listener]]
name = "main"
address = "127.0.0.1:0"

[[route]]
direct_response = { status = 200, body = "ok\n" }

[overload]
sched_latency_threshold = "5ms"
window = "100ms"
trip_after = 2
recover_after = 3
)toml";

uint64_t shed(ProxyHarness& proxy) {
  proxy::metrics::ProxyTotals totals;
  proxy.server().state()->stats->addTo(totals, true);
  return totals.listeners["main"].overload_shed;
}

TEST(OverloadTest, SchedulingLatencyShedsLoadAndRecovers) {
  ProxyHarness::Options options;
  options.workers = 1;
  options.with_stats = true;
  ProxyHarness proxy(kConfig, options);
  ASSERT_TRUE(proxy.ok());
  std::string why;
  {
    Client c(proxy.port());
    EXPECT_EQ(c.get("/").status, 200);
  }
  // Idle for several windows: never overloaded.
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(proxy.server().overloaded());
  EXPECT_TRUE(proxy.server().ready(why)) << why;

  std::atomic<bool> burn{true};
  std::atomic<int> burners{0};
  for (int i = 0; i < 6; i++) {
    proxy.startTask([&] {
      burners++;
      const auto end = std::chrono::steady_clock::now() + patience(30s);
      while (burn.load(std::memory_order_relaxed) && std::chrono::steady_clock::now() < end) {
        volatile uint64_t x = 0;
        for (int k = 0; k < 100000; k++) x = x + k;
        rt::yield_if_preempted();
      }
      burners--;
    });
  }
  // The estimate that tripped it (the gauge shows the latest window with samples, which
  // may be a calmer one by the time the test reads it: keep the largest seen).
  int64_t max_p99 = -1;
  auto p99 = [&] {
    proxy::metrics::ProxyTotals t;
    proxy.server().state()->stats->addTo(t, true);
    return t.overload_p99_ns;
  };
  ASSERT_TRUE(Origin::eventually(
      [&] {
        max_p99 = std::max(max_p99, p99());
        return proxy.server().overloaded();
      },
      10s));
  max_p99 = std::max(max_p99, p99());
  {
    Client c(proxy.port());
    Message m = c.get("/");
    EXPECT_EQ(m.status, 503);
    EXPECT_EQ(m.body, "overloaded\n");
  }
  EXPECT_FALSE(proxy.server().ready(why));
  EXPECT_NE(why.find("overloaded"), std::string::npos) << why;
  EXPECT_GE(shed(proxy), 1u);
  proxy::metrics::ProxyTotals totals;
  proxy.server().state()->stats->addTo(totals, true);
  EXPECT_TRUE(totals.overload_active);
  EXPECT_GT(max_p99, 5'000'000);
  std::printf("overloaded: window p99 %.1f ms\n", static_cast<double>(max_p99) / 1e6);

  burn = false;
  ASSERT_TRUE(Origin::eventually([&] { return burners.load() == 0; }, 10s));
  ASSERT_TRUE(Origin::eventually([&] { return !proxy.server().overloaded(); }, 10s));
  EXPECT_TRUE(proxy.server().ready(why)) << why;
  Client c(proxy.port());
  EXPECT_EQ(c.get("/").status, 200);
}

}  // namespace
}  // namespace switchyard::itest
