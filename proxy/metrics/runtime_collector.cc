#include "proxy/metrics/runtime_collector.h"

#include <algorithm>
#include <utility>

#include "config/units.h"
#include "proxy/metrics/exposition.h"
#include "runtime/runtime.h"

namespace switchyard::proxy::metrics {
namespace {

using prometheus::MetricType;

double d(uint64_t v) { return static_cast<double>(v); }

void gauge(std::vector<prometheus::MetricFamily>& out, const char* name, const char* help,
           double value) {
  auto family = makeFamily(name, help, MetricType::Gauge);
  addGauge(family, {}, value);
  out.push_back(std::move(family));
}

void counter(std::vector<prometheus::MetricFamily>& out, const char* name, const char* help,
             double value) {
  auto family = makeFamily(name, help, MetricType::Counter);
  addCounter(family, {}, value);
  out.push_back(std::move(family));
}

}  // namespace

RuntimeCollector::RuntimeCollector()
    : RuntimeCollector([] { return runtimeView(rt::snapshot()); }) {}

RuntimeCollector::RuntimeCollector(Source source) : source_(std::move(source)) {}

void RuntimeCollector::noteAffinity(std::vector<int> cpus, std::string mode) {
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  std::lock_guard lock(affinity_mu_);
  noted_affinity_ = AffinityInfo{std::move(cpus), std::move(mode)};
}

std::vector<prometheus::MetricFamily> RuntimeCollector::Collect() const {
  RuntimeView view = source_();
  if (!view.affinity.has_value()) {
    std::lock_guard lock(affinity_mu_);
    view.affinity = noted_affinity_;
  }
  return runtimeFamilies(view);
}

std::vector<prometheus::MetricFamily> runtimeFamilies(const RuntimeView& view) {
  const rt::SchedSnapshot& s = view.sched;
  std::vector<prometheus::MetricFamily> out;

  gauge(out, "switchyard_runtime_workers",
        "Workers (Ps): Tasks that may run at the same time (runtime.workers).",
        s.gomaxprocs);
  gauge(out, "switchyard_runtime_idle_workers", "Workers (Ps) with nothing to run.",
        s.idleprocs);
  if (view.affinity.has_value()) {
    auto info = makeFamily("switchyard_runtime_cpu_affinity_info",
                           "Always 1; labels: the CPUs runtime threads may use and the "
                           "affinity mode (none, spread, pin).",
                           MetricType::Gauge);
    addGauge(info,
             {{"cpus", config::formatCpuSet(view.affinity->cpus)},
              {"mode", view.affinity->mode}},
             1);
    out.push_back(std::move(info));
  }
  gauge(out, "switchyard_runtime_poller_handoff_interval_seconds",
        "Longest time the network may go unpolled while every worker is busy "
        "(runtime.poller_handoff_interval).",
        static_cast<double>(s.poller_handoff_interval_ns) / 1e9);
  gauge(out, "switchyard_runtime_netpoll_batch",
        "Most fd events taken per poll (runtime.netpoll_batch).", s.netpoll_batch);
  gauge(out, "switchyard_runtime_tasks", "Tasks (goroutines) spawned and not yet exited.",
        d(s.tasks_live));
  counter(out, "switchyard_runtime_tasks_spawned_total", "Tasks (goroutines) spawned.",
          d(s.tasks_spawned));
  gauge(out, "switchyard_runtime_threads", "OS threads (Ms) of the runtime.", s.threads);
  gauge(out, "switchyard_runtime_idle_threads", "OS threads (Ms) parked waiting for work.",
        s.idlethreads);
  gauge(out, "switchyard_runtime_spinning_threads",
        "OS threads (Ms) spinning: holding a worker and looking for work to steal.",
        s.spinningthreads);
  gauge(out, "switchyard_runtime_global_run_queue_length",
        "Runnable Tasks in the global run queue.", d(s.runqueue));

  auto runq = makeFamily("switchyard_runtime_run_queue_length",
                         "Runnable Tasks in a worker's local run queue.", MetricType::Gauge);
  auto ticks = makeFamily("switchyard_runtime_schedule_ticks_total",
                          "Scheduling rounds of a worker (Go's schedtick; 32 bits, wraps).",
                          MetricType::Counter);
  for (const rt::ProcessorSnapshot& p : s.processors) {
    const std::string worker = std::to_string(p.id);
    addGauge(runq, {{"worker", worker}}, p.runqsize);
    addCounter(ticks, {{"worker", worker}}, p.schedtick);
  }
  out.push_back(std::move(runq));
  out.push_back(std::move(ticks));

  counter(out, "switchyard_runtime_steals_total",
          "Tasks a worker took from another worker's run queue.", d(s.steals));
  counter(out, "switchyard_runtime_context_switches_total", "Task resumptions.",
          d(s.context_switches));
  counter(out, "switchyard_runtime_syscall_handoffs_total",
          "Workers sysmon took from a thread stuck in a blocking call (Go's handoffp).",
          d(s.sysmon_retakes));
  counter(out, "switchyard_runtime_preemption_requests_total",
          "Tasks sysmon asked to yield after running longer than 10ms.",
          d(s.sysmon_preempt_requests));
  gauge(out, "switchyard_runtime_task_stacks", "Task stacks mapped (in use or cached).",
        d(s.stacks_mapped));

  counter(out, "switchyard_runtime_netpoll_waits_total",
          "Blocking polls: a thread with no work waiting in epoll_wait/kevent.",
          d(s.netpoll_blocking_waits));
  counter(out, "switchyard_runtime_netpoll_forced_polls_total",
          "Polls sysmon made because the network went unpolled for the hand-off interval.",
          d(s.netpoll_forced_polls));
  gauge(out, "switchyard_runtime_netpoll_waiters",
        "Tasks parked on a socket, plus armed hooks.", d(s.netpoll_waiters));

  // Bucket i of the snapshot counts polls that took events in [2^(i-1), 2^i); bucket 0
  // none; the last one 2^(n-2) and more. As `le` bounds: 0, 1, 3, 7, ..., 2^(n-2)-1, +Inf.
  if (!s.netpoll_events_per_poll.empty()) {
    std::vector<double> bounds;
    for (size_t i = 0; i + 1 < s.netpoll_events_per_poll.size(); ++i) {
      bounds.push_back(static_cast<double>((uint64_t{1} << i) - 1));
    }
    auto events = makeFamily("switchyard_runtime_netpoll_events_per_wait",
                             "Fd events taken per poll, over every poll (blocking, "
                             "non-blocking and sysmon's).",
                             MetricType::Histogram);
    addHistogram(events, {}, bounds, s.netpoll_events_per_poll, d(s.netpoll_events));
    out.push_back(std::move(events));
  }

  if (!s.sched_latency_counts.empty() &&
      s.sched_latency_counts.size() == s.sched_latency_bounds_ns.size() + 1) {
    std::vector<double> bounds;
    for (int64_t ns : s.sched_latency_bounds_ns) bounds.push_back(static_cast<double>(ns) / 1e9);
    auto latency = makeFamily("switchyard_runtime_sched_latency_seconds",
                              "Time Tasks waited runnable before running (sampled: 1 in 8 "
                              "wake-ups, as Go's /sched/latencies:seconds).",
                              MetricType::Histogram);
    addHistogram(latency, {}, bounds, s.sched_latency_counts,
                 static_cast<double>(s.sched_latency_sum_ns) / 1e9);
    out.push_back(std::move(latency));
  }
  return out;
}

}  // namespace switchyard::proxy::metrics
