#include "proxy/health/cluster_health.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "proxy/health/probe.h"
#include "runtime/runtime.h"

namespace switchyard::proxy::health {

ClusterHealth::ClusterHealth(const config::ClusterConfig& cluster,
                             std::shared_ptr<EndpointSet> endpoints)
    : check_(cluster.health_check),
      outlier_(cluster.outlier_detection),
      endpoints_(std::move(endpoints)),
      state_(new EndpointState[endpoints_->size()]) {}

ClusterHealth::~ClusterHealth() = default;

void ClusterHealth::inherit(const ClusterHealth& previous) {
  std::scoped_lock lock(mu_, previous.mu_);
  for (size_t i = 0; i < size(); ++i) {
    const size_t before = previous.endpoints_->find(endpoints_->name(i));
    if (before == kNoEndpoint) continue;
    const EndpointState& from = previous.state_[before];
    EndpointState& to = state_[i];
    to.consecutive_errors.store(from.consecutive_errors.load(std::memory_order_relaxed),
                                std::memory_order_relaxed);
    to.consecutive_connect_failures.store(
        from.consecutive_connect_failures.load(std::memory_order_relaxed),
        std::memory_order_relaxed);
    // A health check that was removed (or added) on reload restarts from "healthy": the
    // old verdict came from probes that no longer run (or never ran).
    const bool same_check = check_.has_value() && previous.check_.has_value();
    to.active_healthy = same_check ? from.active_healthy : true;
    to.probe_passes = same_check ? from.probe_passes : 0;
    to.probe_failures = same_check ? from.probe_failures : 0;
    to.ejected = from.ejected;
    to.ejection_streak = from.ejection_streak;
    to.ejected_until = from.ejected_until;
    to.readmitted_at = from.readmitted_at;
    if (to.ejected) ++ejected_count_;
    publishLocked(i);
  }
}

void ClusterHealth::attachStats(std::shared_ptr<metrics::ProxyStats> stats,
                                size_t cluster_index) {
  std::lock_guard lock(mu_);
  stats_ = std::move(stats);
  cluster_index_ = cluster_index;
  for (size_t i = 0; i < size(); ++i) publishLocked(i);
}

void ClusterHealth::publishLocked(size_t i) {
  const bool usable = state_[i].active_healthy && !state_[i].ejected;
  endpoints_->setHealthy(i, usable);
  if (stats_ != nullptr) stats_->setEndpointHealthy(cluster_index_, i, usable);
}

template <class F>
void ClusterHealth::spawn(F&& fn) {
  rt::WaitGroup* tasks = tasks_.load(std::memory_order_acquire);
  if (tasks != nullptr) tasks->add(1);
  rt::go([tasks, fn = std::forward<F>(fn)]() mutable {
    fn();
    fn = {};  // drop the captured shared_ptr before saying done
    if (tasks != nullptr) tasks->done();
  });
}

void ClusterHealth::start(rt::WaitGroup* tasks) {
  if (started_.exchange(true, std::memory_order_acq_rel)) return;
  tasks_.store(tasks, std::memory_order_release);
  std::shared_ptr<ClusterHealth> self = shared_from_this();
  if (check_.has_value()) {
    for (size_t i = 0; i < size(); ++i) {
      spawn(std::function<void()>([self, i] { self->checkerLoop(i); }));
    }
  }
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < size(); ++i) {
    if (!state_[i].ejected) continue;
    const uint64_t id = ++state_[i].ejection_id;
    spawn(std::function<void()>([self, i, id] { self->readmitLoop(i, id); }));
  }
}

void ClusterHealth::stop() {
  stop_mu_.lock();
  stopped_.store(true, std::memory_order_release);
  stop_cv_.notify_all();
  stop_mu_.unlock();
}

bool ClusterHealth::sleepUntil(SteadyTime until) {
  stop_mu_.lock();
  // Bounded: each round either times out (and the deadline has then passed) or was
  // notified by stop(); 1000 rounds only guard against spurious wake-ups.
  for (int round = 0; round < 1000 && !stopped(); ++round) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) break;
    stop_cv_.wait_for(stop_mu_, until - now);
  }
  stop_mu_.unlock();
  return !stopped();
}

void ClusterHealth::checkerLoop(size_t i) {
  const config::HealthCheckConfig& check = *check_;
  const config::HostPort endpoint = endpoints_->endpoint(i);
  // The first probe at once (a new endpoint is judged quickly), then every interval,
  // measured from the start of each probe so a slow endpoint is not probed less often.
  auto next = std::chrono::steady_clock::now();
  while (!stopped()) {
    const ProbeResult result = probe(endpoint, check);
    if (stopped()) break;
    recordProbe(i, result.passed);
    next += check.interval;
    const auto now = std::chrono::steady_clock::now();
    if (next < now) next = now;  // a probe longer than the interval: no burst to catch up
    if (!sleepUntil(next)) break;
  }
}

void ClusterHealth::recordProbe(size_t i, bool passed) {
  if (!check_.has_value() || i >= size()) return;
  std::lock_guard lock(mu_);
  EndpointState& s = state_[i];
  if (s.active_healthy) {
    s.probe_passes = 0;
    s.probe_failures = passed ? 0 : s.probe_failures + 1;
    if (s.probe_failures >= check_->unhealthy_threshold) {
      s.active_healthy = false;
      s.probe_failures = 0;
      publishLocked(i);
    }
  } else {
    s.probe_failures = 0;
    s.probe_passes = passed ? s.probe_passes + 1 : 0;
    if (s.probe_passes >= check_->healthy_threshold) {
      s.active_healthy = true;
      s.probe_passes = 0;
      publishLocked(i);
    }
  }
}

bool ClusterHealth::activeHealthy(size_t i) const {
  std::lock_guard lock(mu_);
  return state_[i].active_healthy;
}

bool ClusterHealth::ejected(size_t i) const {
  std::lock_guard lock(mu_);
  return state_[i].ejected;
}

void ClusterHealth::report(size_t i, UpstreamResult result) {
  if (i >= size()) return;
  EndpointState& s = state_[i];
  switch (result) {
    case UpstreamResult::kSuccess:
      // Reads only, unless a streak was running: the common case writes nothing shared.
      if (s.consecutive_errors.load(std::memory_order_relaxed) != 0) {
        s.consecutive_errors.store(0, std::memory_order_relaxed);
      }
      if (s.consecutive_connect_failures.load(std::memory_order_relaxed) != 0) {
        s.consecutive_connect_failures.store(0, std::memory_order_relaxed);
      }
      return;
    case UpstreamResult::kServerError:
    case UpstreamResult::kGatewayFailure: {
      if (s.consecutive_connect_failures.load(std::memory_order_relaxed) != 0) {
        s.consecutive_connect_failures.store(0, std::memory_order_relaxed);  // it connected
      }
      const uint32_t errors = s.consecutive_errors.fetch_add(1, std::memory_order_relaxed) + 1;
      if (outlier_.consecutive_5xx > 0 &&
          errors >= static_cast<uint32_t>(outlier_.consecutive_5xx)) {
        eject(i);
      }
      return;
    }
    case UpstreamResult::kConnectFailure: {
      const uint32_t errors = s.consecutive_errors.fetch_add(1, std::memory_order_relaxed) + 1;
      const uint32_t failures =
          s.consecutive_connect_failures.fetch_add(1, std::memory_order_relaxed) + 1;
      if ((outlier_.consecutive_connect_failures > 0 &&
           failures >= static_cast<uint32_t>(outlier_.consecutive_connect_failures)) ||
          (outlier_.consecutive_5xx > 0 &&
           errors >= static_cast<uint32_t>(outlier_.consecutive_5xx))) {
        eject(i);
      }
      return;
    }
  }
}

void ClusterHealth::eject(size_t i) {
  std::shared_ptr<metrics::ProxyStats> stats;
  size_t cluster_index = 0;
  uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    EndpointState& s = state_[i];
    if (s.ejected) return;  // requests already in flight when it was ejected
    // The share is rounded down: 50% of 3 endpoints is 1. 0 ejectable means never.
    const size_t allowed = size() * static_cast<size_t>(outlier_.max_ejection_percent) / 100;
    if (ejected_count_ >= allowed) return;  // the streak goes on; a readmission may make room
    const auto now = std::chrono::steady_clock::now();
    // A streak ends once the endpoint stayed in for max_ejection_time after its last
    // readmission: a flapping endpoint is ejected for longer each time, a recovered one
    // starts over from the base.
    if (s.ejection_streak > 0 && now - s.readmitted_at > outlier_.max_ejection_time) {
      s.ejection_streak = 0;
    }
    ++s.ejection_streak;
    const auto base = outlier_.base_ejection_time;
    const auto duration = std::min<std::chrono::nanoseconds>(
        base * s.ejection_streak, std::max(outlier_.max_ejection_time, base));
    s.ejected = true;
    s.ejected_until = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(duration);
    s.consecutive_errors.store(0, std::memory_order_relaxed);
    s.consecutive_connect_failures.store(0, std::memory_order_relaxed);
    id = ++s.ejection_id;
    ++ejected_count_;
    publishLocked(i);
    stats = stats_;
    cluster_index = cluster_index_;
  }
  ejections_.fetch_add(1, std::memory_order_relaxed);
  if (stats != nullptr) {
    stats->clusterEvent(rt::current_worker(), cluster_index, metrics::ClusterEvent::kEjection);
  }
  if (!stopped()) {
    std::shared_ptr<ClusterHealth> self = shared_from_this();
    spawn(std::function<void()>([self, i, id] { self->readmitLoop(i, id); }));
  }
}

void ClusterHealth::readmitLoop(size_t i, uint64_t id) {
  SteadyTime until;
  {
    std::lock_guard lock(mu_);
    if (state_[i].ejection_id != id) return;
    until = state_[i].ejected_until;
  }
  if (!sleepUntil(until)) return;  // stopped: the next snapshot readmits it
  std::lock_guard lock(mu_);
  EndpointState& s = state_[i];
  if (s.ejection_id != id || !s.ejected) return;
  s.ejected = false;
  s.readmitted_at = std::chrono::steady_clock::now();
  --ejected_count_;
  publishLocked(i);
}

}  // namespace switchyard::proxy::health
