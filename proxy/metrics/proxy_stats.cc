#include "proxy/metrics/proxy_stats.h"

#include <variant>

namespace switchyard::proxy::metrics {
namespace {

void addHistogram(const std::vector<uint64_t>& sums, size_t base, HistogramTotals& into) {
  for (size_t b = 0; b < kLatencyBuckets; ++b) into.counts[b] += sums[base + b];
  into.sum_ns += sums[base + kLatencyBuckets];
}

}  // namespace

ProxyStats::ProxyStats(const config::Config& config, int reserve_workers) {
  for (const config::ListenerConfig& listener : config.listeners) {
    listener_names_.push_back(listener.name);
  }
  for (const config::RouteConfig& route : config.routes) {
    route_names_.push_back(route.name);
    const auto* target = std::get_if<config::ClusterTarget>(&route.action);
    route_cluster_names_.push_back(target != nullptr ? target->cluster : std::string());
  }
  for (const config::ClusterConfig& cluster : config.clusters) {
    cluster_names_.push_back(cluster.name);
    endpoint_base_.push_back(endpoint_names_.size());
    for (const config::HostPort& endpoint : cluster.endpoints) {
      endpoint_names_.push_back(endpoint.toString());
    }
  }
  endpoint_base_.push_back(endpoint_names_.size());
  listener_count_ = listener_names_.size();
  route_count_ = route_names_.size();
  cluster_count_ = cluster_names_.size();

  // A route bound to one listener never sees another listener's requests: give cells
  // only to the (listener, route) pairs that can happen, plus "no route" per listener.
  pair_slot_.assign(listener_count_ * (route_count_ + 1), kNotApplicable);
  for (size_t l = 0; l < listener_count_; ++l) {
    for (size_t r = 0; r <= route_count_; ++r) {
      if (r < route_count_) {
        const std::optional<std::string>& only = config.routes[r].listener;
        if (only.has_value() && *only != listener_names_[l]) continue;
      }
      pair_slot_[l * (route_count_ + 1) + r] = static_cast<uint32_t>(pairs_.size());
      pairs_.emplace_back(l, r);
    }
  }

  size_t next = 0;
  auto take = [&next](size_t n) {
    const size_t base = next;
    next += n;
    return base;
  };
  requests_base_ = take(pairs_.size() * kCodeClasses);
  request_duration_base_ = take(listener_count_ * kHistogramCells);
  upstream_duration_base_ = take(cluster_count_ * kHistogramCells);
  opened_base_ = take(listener_count_);
  closed_base_ = take(listener_count_);
  bytes_received_base_ = take(listener_count_);
  bytes_sent_base_ = take(listener_count_);
  upstream_idle_base_ = take(cluster_count_);
  upstream_active_base_ = take(cluster_count_);
  tls_base_ = take(listener_count_ * kTlsResults);
  cluster_events_base_ = take(cluster_count_ * kClusterEvents);
  overload_shed_base_ = take(listener_count_);
  invalid_cell_ = take(1);
  cells_.emplace(next);
  cells_->reserve(reserve_workers);

  endpoint_healthy_ = std::make_unique<std::atomic<uint8_t>[]>(endpoint_names_.size());
  for (size_t i = 0; i < endpoint_names_.size(); ++i) {
    endpoint_healthy_[i].store(1, std::memory_order_relaxed);
  }
}

void ProxyStats::setEndpointHealthy(size_t cluster, size_t endpoint, bool healthy) {
  if (cluster >= cluster_count_ ||
      endpoint >= endpoint_base_[cluster + 1] - endpoint_base_[cluster]) {
    cells_->add(-1, invalid_cell_, 1);  // not on a worker's block: any thread may call
    return;
  }
  endpoint_healthy_[endpoint_base_[cluster] + endpoint].store(healthy ? 1 : 0,
                                                             std::memory_order_relaxed);
}

void ProxyStats::addTo(ProxyTotals& totals, bool with_health) const {
  std::vector<uint64_t> sums;
  cells_->sumAll(sums);

  for (size_t p = 0; p < pairs_.size(); ++p) {
    const size_t base = requests_base_ + p * kCodeClasses;
    bool any = false;
    for (size_t c = 0; c < kCodeClasses; ++c) any = any || sums[base + c] != 0;
    if (!any) continue;
    const auto [l, r] = pairs_[p];
    RequestKey key{listener_names_[l], r < route_count_ ? route_names_[r] : std::string(),
                   r < route_count_ ? route_cluster_names_[r] : std::string()};
    std::array<uint64_t, kCodeClasses>& series = totals.requests[key];
    for (size_t c = 0; c < kCodeClasses; ++c) series[c] += sums[base + c];
  }

  for (size_t l = 0; l < listener_count_; ++l) {
    ListenerTotals& listener = totals.listeners[listener_names_[l]];
    listener.opened += sums[opened_base_ + l];
    listener.closed += sums[closed_base_ + l];
    listener.bytes_received += sums[bytes_received_base_ + l];
    listener.bytes_sent += sums[bytes_sent_base_ + l];
    listener.overload_shed += sums[overload_shed_base_ + l];
    for (size_t r = 0; r < kTlsResults; ++r) {
      listener.tls_handshakes[r] += sums[tls_base_ + l * kTlsResults + r];
    }
    addHistogram(sums, request_duration_base_ + l * kHistogramCells, listener.request_duration);
  }

  for (size_t c = 0; c < cluster_count_; ++c) {
    ClusterTotals& cluster = totals.clusters[cluster_names_[c]];
    cluster.idle += sums[upstream_idle_base_ + c];
    cluster.active += sums[upstream_active_base_ + c];
    addHistogram(sums, upstream_duration_base_ + c * kHistogramCells, cluster.upstream_duration);
    for (size_t e = 0; e < kClusterEvents; ++e) {
      cluster.events[e] += sums[cluster_events_base_ + c * kClusterEvents + e];
    }
    if (!with_health) continue;
    for (size_t e = endpoint_base_[c]; e < endpoint_base_[c + 1]; ++e) {
      totals.endpoint_healthy[{cluster_names_[c], endpoint_names_[e]}] =
          endpoint_healthy_[e].load(std::memory_order_relaxed) != 0;
    }
  }

  if (with_health) {
    totals.overload_active = overload_active_.load(std::memory_order_relaxed);
    totals.overload_p99_ns = overload_p99_ns_.load(std::memory_order_relaxed);
  }
  totals.invalid_records += sums[invalid_cell_];
}

}  // namespace switchyard::proxy::metrics
