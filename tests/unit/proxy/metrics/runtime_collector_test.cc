// RuntimeCollector: histogram exposition built from the snapshot's bucket counts, the
// affinity info, and live values inside a running runtime (rt::set_workers()).
#include "proxy/metrics/runtime_collector.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "proxy/metrics/metrics_registry.h"
#include "runtime/runtime.h"
#include "tests/unit/proxy/metrics/exposition_reader.h"

namespace switchyard::proxy::metrics {
namespace {

using switchyard::testing::ExpositionReader;

RuntimeView fakeView() {
  RuntimeView view;
  rt::SchedSnapshot& s = view.sched;
  s.gomaxprocs = 3;
  s.idleprocs = 1;
  s.threads = 5;
  s.spinningthreads = 1;
  s.idlethreads = 2;
  s.runqueue = 4;
  s.tasks_live = 42;
  s.tasks_spawned = 1000;
  s.context_switches = 123456;
  s.steals = 77;
  s.sysmon_retakes = 3;
  s.sysmon_preempt_requests = 9;
  s.poller_handoff_interval_ns = 2'500'000;
  s.netpoll_batch = 128;
  s.netpoll_blocking_waits = 11;
  s.netpoll_forced_polls = 6;
  s.netpoll_events = 5000;
  // 0 events: 5 polls; 1: 4; 2-3: 3; 4-7: 2; 8-15: 1; ... >= 512: 7.
  s.netpoll_events_per_poll = {5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 7};
  s.sched_latency_bounds_ns = {1'000,     5'000,      10'000,     50'000,
                               100'000,   500'000,    1'000'000,  5'000'000,
                               10'000'000, 50'000'000, 100'000'000};
  s.sched_latency_counts = {10, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  s.sched_latency_sum_ns = 250'000'000;
  for (int i = 0; i < 3; ++i) {
    rt::ProcessorSnapshot p;
    p.id = i;
    p.runqsize = static_cast<uint32_t>(i * 2);
    p.schedtick = static_cast<uint32_t>(100 + i);
    s.processors.push_back(p);
  }
  return view;
}

std::string render(std::shared_ptr<RuntimeCollector> collector) {
  MetricsRegistry registry("test");
  registry.add(collector);
  return registry.renderMetrics();
}

TEST(RuntimeCollectorTest, ScalarsFromTheSnapshot) {
  ExpositionReader r(render(std::make_shared<RuntimeCollector>(fakeView)));
  EXPECT_EQ(r.raw("switchyard_runtime_workers"), "3");
  EXPECT_EQ(r.raw("switchyard_runtime_idle_workers"), "1");
  EXPECT_EQ(r.raw("switchyard_runtime_threads"), "5");
  EXPECT_EQ(r.raw("switchyard_runtime_idle_threads"), "2");
  EXPECT_EQ(r.raw("switchyard_runtime_spinning_threads"), "1");
  EXPECT_EQ(r.raw("switchyard_runtime_tasks"), "42");
  EXPECT_EQ(r.raw("switchyard_runtime_tasks_spawned_total"), "1000");
  EXPECT_EQ(r.raw("switchyard_runtime_global_run_queue_length"), "4");
  EXPECT_EQ(r.raw("switchyard_runtime_run_queue_length{worker=\"2\"}"), "4");
  EXPECT_EQ(r.raw("switchyard_runtime_schedule_ticks_total{worker=\"1\"}"), "101");
  EXPECT_EQ(r.raw("switchyard_runtime_steals_total"), "77");
  EXPECT_EQ(r.raw("switchyard_runtime_context_switches_total"), "123456");
  EXPECT_EQ(r.raw("switchyard_runtime_syscall_handoffs_total"), "3");
  EXPECT_EQ(r.raw("switchyard_runtime_preemption_requests_total"), "9");
  EXPECT_EQ(r.raw("switchyard_runtime_netpoll_waits_total"), "11");
  EXPECT_EQ(r.raw("switchyard_runtime_netpoll_forced_polls_total"), "6");
  EXPECT_EQ(r.raw("switchyard_runtime_poller_handoff_interval_seconds"), "0.0025");
  EXPECT_EQ(r.raw("switchyard_runtime_netpoll_batch"), "128");
  EXPECT_EQ(r.type("switchyard_runtime_steals_total"), "counter");
  EXPECT_EQ(r.type("switchyard_runtime_tasks"), "gauge");
}

TEST(RuntimeCollectorTest, NetpollEventsHistogramFromPowerOfTwoBuckets) {
  ExpositionReader r(render(std::make_shared<RuntimeCollector>(fakeView)));
  const std::string b = "switchyard_runtime_netpoll_events_per_wait_bucket{le=\"";
  EXPECT_EQ(r.raw(b + "0\"}"), "5");
  EXPECT_EQ(r.raw(b + "1\"}"), "9");
  EXPECT_EQ(r.raw(b + "3\"}"), "12");
  EXPECT_EQ(r.raw(b + "7\"}"), "14");
  EXPECT_EQ(r.raw(b + "15\"}"), "15");
  EXPECT_EQ(r.raw(b + "31\"}"), "15");
  EXPECT_EQ(r.raw(b + "255\"}"), "15");
  EXPECT_EQ(r.raw(b + "511\"}"), "15");
  EXPECT_EQ(r.raw(b + "+Inf\"}"), "22");
  EXPECT_FALSE(r.has(b + "1023\"}"));
  EXPECT_EQ(r.raw("switchyard_runtime_netpoll_events_per_wait_count"), "22");
  EXPECT_EQ(r.raw("switchyard_runtime_netpoll_events_per_wait_sum"), "5000");
  EXPECT_EQ(r.type("switchyard_runtime_netpoll_events_per_wait"), "histogram");
}

TEST(RuntimeCollectorTest, SchedLatencyHistogram) {
  ExpositionReader r(render(std::make_shared<RuntimeCollector>(fakeView)));
  const std::string b = "switchyard_runtime_sched_latency_seconds_bucket{le=\"";
  EXPECT_EQ(r.raw(b + "1e-06\"}"), "10");
  EXPECT_EQ(r.raw(b + "5e-06\"}"), "30");
  EXPECT_EQ(r.raw(b + "0.1\"}"), "30");
  EXPECT_EQ(r.raw(b + "+Inf\"}"), "31");
  EXPECT_EQ(r.raw("switchyard_runtime_sched_latency_seconds_count"), "31");
  EXPECT_EQ(r.raw("switchyard_runtime_sched_latency_seconds_sum"), "0.25");
}

TEST(RuntimeCollectorTest, AffinityInfoFromTheViewOrTheInterimNote) {
  auto collector = std::make_shared<RuntimeCollector>(fakeView);
  EXPECT_FALSE(ExpositionReader(render(collector)).has("switchyard_runtime_cpu_affinity_info"));
  collector->noteAffinity({8, 3, 0, 1, 2, 2}, "pin");
  EXPECT_EQ(ExpositionReader(render(collector))
                .raw("switchyard_runtime_cpu_affinity_info{cpus=\"0-3,8\",mode=\"pin\"}"),
            "1");
  // Once the runtime's snapshot carries it, the snapshot wins.
  auto wired = std::make_shared<RuntimeCollector>([] {
    RuntimeView view = fakeView();
    view.affinity = AffinityInfo{{0, 2, 4}, "spread"};
    return view;
  });
  wired->noteAffinity({1}, "pin");
  EXPECT_EQ(ExpositionReader(render(wired))
                .raw("switchyard_runtime_cpu_affinity_info{cpus=\"0,2,4\",mode=\"spread\"}"),
            "1");
}

TEST(RuntimeCollectorTest, FollowsTheLiveRuntime) {
  rt::Options options;
  options.workers = 2;
  options.netpoll_batch = 64;
  bool ran = false;
  rt::run(options, [&] {
    MetricsRegistry registry("test");
    registry.add(std::make_shared<RuntimeCollector>());
    ExpositionReader first(registry.renderMetrics());
    EXPECT_EQ(first.value("switchyard_runtime_workers"), rt::workers());
    EXPECT_EQ(first.value("switchyard_runtime_workers"), 2);
    EXPECT_EQ(first.raw("switchyard_runtime_netpoll_batch"), "64");
    EXPECT_TRUE(first.has("switchyard_runtime_run_queue_length{worker=\"1\"}"));
    EXPECT_FALSE(first.has("switchyard_runtime_run_queue_length{worker=\"2\"}"));
    EXPECT_GE(first.value("switchyard_runtime_tasks"), 1);
    EXPECT_EQ(first.type("switchyard_runtime_sched_latency_seconds"), "histogram");

    rt::set_workers(4);
    rt::set_poller_handoff_interval(std::chrono::milliseconds(3));
    ExpositionReader grown(registry.renderMetrics());
    EXPECT_EQ(grown.value("switchyard_runtime_workers"), rt::workers());
    EXPECT_EQ(grown.value("switchyard_runtime_workers"), 4);
    EXPECT_TRUE(grown.has("switchyard_runtime_run_queue_length{worker=\"3\"}"));
    EXPECT_EQ(grown.raw("switchyard_runtime_poller_handoff_interval_seconds"), "0.003");

    // Some scheduling to make the counters move, then shrink.
    for (int i = 0; i < 100; ++i) rt::go([] { rt::yield(); });
    for (int i = 0; i < 10; ++i) rt::sleep_for(std::chrono::milliseconds(1));
    rt::set_workers(1);
    ExpositionReader shrunk(registry.renderMetrics());
    EXPECT_EQ(shrunk.value("switchyard_runtime_workers"), 1);
    EXPECT_FALSE(shrunk.has("switchyard_runtime_run_queue_length{worker=\"1\"}"));
    EXPECT_GE(shrunk.value("switchyard_runtime_tasks_spawned_total"), 101);
    EXPECT_GE(shrunk.value("switchyard_runtime_context_switches_total"),
              grown.value("switchyard_runtime_context_switches_total"));
    ran = true;
  });
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace switchyard::proxy::metrics
