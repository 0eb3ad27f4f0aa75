// ClusterHealth: which endpoints of one cluster may receive requests.
//
// Design
// ------
// Two sources decide, and an endpoint is usable only when both agree:
//   - Active health checks ([cluster.health_check]): one checker Task (G) per endpoint --
//     not per worker, so N workers do not multiply the probes -- sends a GET every
//     `interval` (probe.h). `unhealthy_threshold` failures in a row take the endpoint
//     out, `healthy_threshold` passes in a row bring it back. Endpoints start healthy
//     (a fresh proxy serves at once; a dead endpoint costs a few failed requests, which
//     retries and outlier detection absorb).
//   - Passive outlier detection ([cluster.outlier_detection]): the request path reports
//     every upstream exchange's result. `consecutive_5xx` gateway errors or
//     `consecutive_connect_failures` failed connects in a row eject the endpoint for
//     n * base_ejection_time (n-th ejection of a streak, capped at max_ejection_time);
//     a Task sleeps out the ejection and readmits it. At most max_ejection_percent of the
//     endpoints are ejected at once, so a cluster-wide failure (an upstream's database
//     down) cannot eject everything and turn a partial outage into a total one.
// The verdict is written to the EndpointSet (the balancers and /readyz read it) and to
// ProxyStats (switchyard_upstream_endpoint_healthy).
//
// Threads and costs:
//   - report() runs on every upstream exchange, on every worker. A success reads two
//     relaxed counters and writes nothing unless a failure streak was running; a failure
//     is one relaxed fetch_add. Only reaching a threshold takes mu_ (cold: at most once
//     per ejection).
//   - Probe results, ejections and readmissions (rare) take mu_, a std::mutex held for a
//     few stores and never across a park.
//   - Checker and readmission Tasks hold a shared_ptr to this object; stop() wakes them
//     and they exit (a probe in progress finishes first, bounded by its timeout).
//
// Lifetime and reloads: one ClusterHealth per cluster per ProxyState snapshot. A reload
// builds the next one, inherit()s the state of endpoints the previous snapshot's cluster of
// the same name also had (probe streaks, ejections and their deadlines), start()s it, and
// stop()s the previous one. Probing restarts for every endpoint (the first probe of a kept
// endpoint runs one interval after the reload, as the inherited streak expects).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

#include "config/config.h"
#include "proxy/balancer/endpoint_set.h"
#include "proxy/metrics/proxy_stats.h"
#include "runtime/sync/sync.h"

namespace switchyard::proxy::health {

// What one upstream exchange did, as outlier detection counts it.
enum class UpstreamResult {
  kSuccess,         // a response below 500 (or a 5xx the cluster does not count; none now)
  kServerError,     // a 5xx response from the upstream
  kConnectFailure,  // the connect failed (refused, unreachable, timed out)
  kGatewayFailure,  // connected, then reset/closed/timed out before a whole response
};

class ClusterHealth : public std::enable_shared_from_this<ClusterHealth> {
 public:
  ClusterHealth(const config::ClusterConfig& cluster, std::shared_ptr<EndpointSet> endpoints);
  ~ClusterHealth();
  ClusterHealth(const ClusterHealth&) = delete;
  ClusterHealth& operator=(const ClusterHealth&) = delete;

  // Before start(): takes over the state of every endpoint `previous` also has (same
  // "host:port"), and applies it to the EndpointSet.
  void inherit(const ClusterHealth& previous);
  // Where the endpoint_healthy gauge and the ejection counter go: this cluster's index
  // in the snapshot's stats. Writes the current verdicts there. May be null.
  void attachStats(std::shared_ptr<metrics::ProxyStats> stats, size_t cluster_index);

  // From a Task: starts the checker Tasks (if a health check is configured) and the
  // readmission Tasks of inherited ejections. Once. `tasks`, if given, counts every Task
  // this object starts (now and later), so that an owner can wait for them to end after
  // stop() -- a Task still parked when the runtime exits would never free its state.
  void start(rt::WaitGroup* tasks = nullptr);
  // From a Task: stops every Task of this object. Idempotent; does not wait.
  void stop();

  // Request path, any worker: the result of one exchange with `endpoint`.
  void report(size_t endpoint, UpstreamResult result);

  // A probe's verdict (the checker Tasks call this; tests may too).
  void recordProbe(size_t endpoint, bool passed);

  size_t size() const { return endpoints_->size(); }
  bool activeHealthy(size_t endpoint) const;
  bool ejected(size_t endpoint) const;
  uint64_t ejections() const { return ejections_.load(std::memory_order_relaxed); }
  EndpointSet& endpoints() const { return *endpoints_; }

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;

  struct alignas(64) EndpointState {
    // Written by report() on any worker (relaxed; a streak is a hint, not a ledger).
    std::atomic<uint32_t> consecutive_errors{0};
    std::atomic<uint32_t> consecutive_connect_failures{0};
    // Guarded by mu_.
    bool active_healthy = true;
    int probe_passes = 0;    // in a row, while unhealthy
    int probe_failures = 0;  // in a row, while healthy
    bool ejected = false;
    int ejection_streak = 0;  // ejections without a quiet max_ejection_time in between
    SteadyTime ejected_until{};
    SteadyTime readmitted_at{};
    uint64_t ejection_id = 0;  // which readmission Task owns the current ejection
  };

  // Starts fn in a Task counted by tasks_ (if set).
  template <class F>
  void spawn(F&& fn);
  void checkerLoop(size_t endpoint);
  void readmitLoop(size_t endpoint, uint64_t ejection_id);
  void eject(size_t endpoint);  // takes mu_
  // Writes endpoint i's verdict to the EndpointSet and the gauge. mu_ must be held.
  void publishLocked(size_t endpoint);
  // Sleeps until `until` or stop(); false once stopped.
  bool sleepUntil(SteadyTime until);
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }

  const std::optional<config::HealthCheckConfig> check_;
  const config::OutlierDetectionConfig outlier_;
  const std::shared_ptr<EndpointSet> endpoints_;
  std::unique_ptr<EndpointState[]> state_;

  mutable std::mutex mu_;
  std::shared_ptr<metrics::ProxyStats> stats_;  // guarded by mu_
  size_t cluster_index_ = 0;                    // guarded by mu_
  size_t ejected_count_ = 0;                    // guarded by mu_
  std::atomic<uint64_t> ejections_{0};

  std::atomic<bool> started_{false};
  std::atomic<rt::WaitGroup*> tasks_{nullptr};
  std::atomic<bool> stopped_{false};
  rt::Mutex stop_mu_;
  rt::CondVar stop_cv_;
};

}  // namespace switchyard::proxy::health
