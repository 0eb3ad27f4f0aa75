#include "proxy/metrics/proxy_stats_collector.h"

#include <atomic>
#include <iterator>
#include <string_view>
#include <utility>

#include "proxy/metrics/exposition.h"

namespace switchyard::proxy::metrics {
namespace {

using prometheus::MetricType;

void mergeHistogram(const HistogramTotals& from, HistogramTotals& into) {
  for (size_t b = 0; b < kLatencyBuckets; ++b) into.counts[b] += from.counts[b];
  into.sum_ns += from.sum_ns;
}

void merge(const ProxyTotals& from, ProxyTotals& into) {
  for (const auto& [key, counts] : from.requests) {
    std::array<uint64_t, kCodeClasses>& series = into.requests[key];
    for (size_t c = 0; c < kCodeClasses; ++c) series[c] += counts[c];
  }
  for (const auto& [name, listener] : from.listeners) {
    ListenerTotals& to = into.listeners[name];
    to.opened += listener.opened;
    to.closed += listener.closed;
    to.bytes_received += listener.bytes_received;
    to.bytes_sent += listener.bytes_sent;
    to.overload_shed += listener.overload_shed;
    for (size_t r = 0; r < kTlsResults; ++r) to.tls_handshakes[r] += listener.tls_handshakes[r];
    mergeHistogram(listener.request_duration, to.request_duration);
  }
  for (const auto& [name, cluster] : from.clusters) {
    ClusterTotals& to = into.clusters[name];
    to.idle += cluster.idle;
    to.active += cluster.active;
    mergeHistogram(cluster.upstream_duration, to.upstream_duration);
    for (size_t e = 0; e < kClusterEvents; ++e) to.events[e] += cluster.events[e];
  }
  for (const auto& [key, healthy] : from.endpoint_healthy) into.endpoint_healthy[key] = healthy;
  if (from.overload_active) into.overload_active = true;
  if (from.overload_p99_ns >= 0) into.overload_p99_ns = from.overload_p99_ns;
  into.invalid_records += from.invalid_records;
}

// A gauge kept as a modular sum of deltas. Reading the cells while writers run may see
// a close before its open (different workers' blocks are read at different moments):
// never show a negative count.
double nonNegative(uint64_t modular_sum) {
  const int64_t v = PerWorkerCells::asSigned(modular_sum);
  return v < 0 ? 0.0 : static_cast<double>(v);
}

void addLatency(prometheus::MetricFamily& family, Labels labels, const HistogramTotals& h) {
  addHistogram(family, std::move(labels), kLatencyBoundsSeconds, h.counts,
               static_cast<double>(h.sum_ns) / 1e9);
}

}  // namespace

namespace {

// Owned by every copy of a lease handed out for one generation; its destructor runs
// after the last holder dropped its copy, i.e. after that holder's last record.
class Lease {
 public:
  Lease(std::shared_ptr<ProxyStats> stats, std::shared_ptr<std::atomic<bool>> released)
      : stats_(std::move(stats)), released_(std::move(released)) {}
  ~Lease() { released_->store(true, std::memory_order_release); }
  Lease(const Lease&) = delete;  // a copy's destructor would release too early
  Lease& operator=(const Lease&) = delete;

 private:
  std::shared_ptr<ProxyStats> stats_;  // keeps the ProxyStats alive for the lease holders
  std::shared_ptr<std::atomic<bool>> released_;
};

}  // namespace

std::shared_ptr<ProxyStats> ProxyStatsCollector::publish(const config::Config& config,
                                                         int reserve_workers) {
  // Built outside the lock: it allocates every reserved worker's block.
  auto stats = std::make_shared<ProxyStats>(config, reserve_workers);
  auto released = std::make_shared<std::atomic<bool>>(false);
  auto lease = std::make_shared<Lease>(stats, released);
  // Aliasing constructor: points at the ProxyStats, owns the Lease.
  std::shared_ptr<ProxyStats> handle(lease, stats.get());

  std::shared_ptr<ProxyStats> previous_lease;  // dropped after the lock is released
  std::lock_guard lock(mu_);
  if (current_ != nullptr) {
    // The generation's `released` flag lives in its Lease; keep our own copy.
    previous_.push_back(Generation{std::move(current_), current_released_});
  }
  previous_lease = std::move(current_lease_);
  current_ = std::move(stats);
  current_released_ = std::move(released);
  current_lease_ = handle;
  foldRetiredLocked();
  return handle;
}

std::shared_ptr<ProxyStats> ProxyStatsCollector::current() const {
  std::lock_guard lock(mu_);
  return current_lease_;
}

size_t ProxyStatsCollector::liveGenerations() const {
  std::lock_guard lock(mu_);
  foldRetiredLocked();
  return previous_.size();
}

void ProxyStatsCollector::foldRetiredLocked() const {
  for (size_t i = 0; i < previous_.size();) {
    if (!previous_[i].released->load(std::memory_order_acquire)) {
      ++i;
      continue;
    }
    previous_[i].stats->addTo(retired_, /*with_health=*/false);
    previous_[i] = std::move(previous_.back());
    previous_.pop_back();
  }
}

ProxyTotals ProxyStatsCollector::totals() const {
  std::lock_guard lock(mu_);
  foldRetiredLocked();
  ProxyTotals totals;
  merge(retired_, totals);
  for (const Generation& generation : previous_) {
    generation.stats->addTo(totals, /*with_health=*/false);
  }
  if (current_ != nullptr) current_->addTo(totals, /*with_health=*/true);
  return totals;
}

std::vector<prometheus::MetricFamily> ProxyStatsCollector::Collect() const {
  return proxyFamilies(totals());
}

std::vector<prometheus::MetricFamily> proxyFamilies(const ProxyTotals& totals) {
  std::vector<prometheus::MetricFamily> families;

  auto requests = makeFamily(
      "switchyard_http_requests_total",
      "HTTP requests answered, by listener, route, cluster and status code class.",
      MetricType::Counter);
  for (const auto& [key, counts] : totals.requests) {
    for (size_t c = 0; c < kCodeClasses; ++c) {
      if (counts[c] == 0) continue;
      addCounter(requests,
                 {{"listener", key.listener},
                  {"route", key.route},
                  {"cluster", key.cluster},
                  {"code", kCodeClassNames[c]}},
                 static_cast<double>(counts[c]));
    }
  }
  families.push_back(std::move(requests));

  auto duration = makeFamily(
      "switchyard_http_request_duration_seconds",
      "Time from the first byte of a request to the last byte of its response, by listener.",
      MetricType::Histogram);
  auto active = makeFamily("switchyard_downstream_connections_active",
                           "Client connections open now, by listener.", MetricType::Gauge);
  auto accepted = makeFamily("switchyard_downstream_connections_total",
                             "Client connections accepted, by listener.", MetricType::Counter);
  auto received = makeFamily("switchyard_downstream_bytes_received_total",
                             "Bytes read from client connections, by listener.",
                             MetricType::Counter);
  auto sent = makeFamily("switchyard_downstream_bytes_sent_total",
                         "Bytes written to client connections, by listener.",
                         MetricType::Counter);
  for (const auto& [name, listener] : totals.listeners) {
    addLatency(duration, {{"listener", name}}, listener.request_duration);
    addGauge(active, {{"listener", name}},
             nonNegative(listener.opened - listener.closed));
    addCounter(accepted, {{"listener", name}}, static_cast<double>(listener.opened));
    addCounter(received, {{"listener", name}}, static_cast<double>(listener.bytes_received));
    addCounter(sent, {{"listener", name}}, static_cast<double>(listener.bytes_sent));
  }
  auto shed = makeFamily("switchyard_overload_shed_total",
                         "Requests answered 503 because the proxy was shedding load "
                         "([overload]), by listener.",
                         MetricType::Counter);
  for (const auto& [name, listener] : totals.listeners) {
    addCounter(shed, {{"listener", name}}, static_cast<double>(listener.overload_shed));
  }
  families.push_back(std::move(shed));
  auto overloaded = makeFamily("switchyard_overload_active",
                               "1 while the proxy sheds load because its scheduling latency "
                               "stayed above [overload] sched_latency_threshold.",
                               MetricType::Gauge);
  addGauge(overloaded, {}, totals.overload_active ? 1.0 : 0.0);
  families.push_back(std::move(overloaded));
  if (totals.overload_p99_ns >= 0) {
    auto p99 = makeFamily("switchyard_overload_sched_latency_p99_seconds",
                          "The overload monitor's last window: estimated 99th percentile of "
                          "the time runnable Tasks waited before running.",
                          MetricType::Gauge);
    addGauge(p99, {}, static_cast<double>(totals.overload_p99_ns) / 1e9);
    families.push_back(std::move(p99));
  }
  families.push_back(std::move(duration));
  families.push_back(std::move(active));
  families.push_back(std::move(accepted));
  families.push_back(std::move(received));
  families.push_back(std::move(sent));

  auto upstream = makeFamily(
      "switchyard_upstream_response_duration_seconds",
      "Time from writing a request upstream to reading the whole response, by cluster.",
      MetricType::Histogram);
  auto pool = makeFamily("switchyard_upstream_connections",
                         "Upstream connections by cluster and state (idle in a pool, or "
                         "active: in use by a request).",
                         MetricType::Gauge);
  for (const auto& [name, cluster] : totals.clusters) {
    addLatency(upstream, {{"cluster", name}}, cluster.upstream_duration);
    addGauge(pool, {{"cluster", name}, {"state", "active"}}, nonNegative(cluster.active));
    addGauge(pool, {{"cluster", name}, {"state", "idle"}}, nonNegative(cluster.idle));
  }
  families.push_back(std::move(upstream));
  families.push_back(std::move(pool));

  auto healthy = makeFamily("switchyard_upstream_endpoint_healthy",
                            "1 if the endpoint may receive requests, 0 if health checks "
                            "took it out, by cluster and endpoint.",
                            MetricType::Gauge);
  for (const auto& [key, is_healthy] : totals.endpoint_healthy) {
    addGauge(healthy, {{"cluster", key.first}, {"endpoint", key.second}},
             is_healthy ? 1.0 : 0.0);
  }
  families.push_back(std::move(healthy));

  // One counter family per ClusterEvent, every cluster listed (zero or not), so that
  // rate() and alerts see the series before the first event.
  struct EventFamily {
    ClusterEvent event;
    const char* name;
    const char* help;
    const char* limit;  // the `limit` label of the overflow family, else nullptr
  };
  static constexpr EventFamily kEventFamilies[] = {
      {ClusterEvent::kEjection, "switchyard_upstream_ejections_total",
       "Endpoints ejected by outlier detection, by cluster.", nullptr},
      {ClusterEvent::kRetry, "switchyard_upstream_retries_total",
       "Requests sent again after a failed try, by cluster.", nullptr},
      {ClusterEvent::kRetryBudgetExhausted, "switchyard_upstream_retry_budget_exhausted_total",
       "Retries not made because the cluster's retry budget was spent, by cluster.", nullptr},
      {ClusterEvent::kNoHealthyEndpoint, "switchyard_upstream_no_healthy_endpoint_total",
       "Requests answered 503 because no endpoint of the cluster was healthy, by cluster.",
       nullptr},
      {ClusterEvent::kOverflowConnections, "switchyard_upstream_overflow_total",
       "Requests answered 503 because a [cluster.limits] limit was reached, by cluster and "
       "limit.",
       "max_connections"},
      {ClusterEvent::kOverflowRequests, "switchyard_upstream_overflow_total", nullptr,
       "max_requests"},
  };
  for (size_t f = 0; f < std::size(kEventFamilies); ++f) {
    const EventFamily& ef = kEventFamilies[f];
    if (ef.help == nullptr) continue;  // a second label value of the family before it
    auto family = makeFamily(ef.name, ef.help, MetricType::Counter);
    for (size_t g = f; g < std::size(kEventFamilies); ++g) {
      const EventFamily& member = kEventFamilies[g];
      if (std::string_view(member.name) != ef.name) continue;
      for (const auto& [name, cluster] : totals.clusters) {
        Labels labels{{"cluster", name}};
        if (member.limit != nullptr) labels.push_back({"limit", member.limit});
        addCounter(family, std::move(labels),
                   static_cast<double>(cluster.events[static_cast<size_t>(member.event)]));
      }
    }
    families.push_back(std::move(family));
  }

  // Only listeners that saw a handshake: a plain listener has no TLS series.
  auto tls = makeFamily("switchyard_tls_handshakes_total",
                        "Downstream TLS handshakes, by listener and result (success, resumed, "
                        "failure, timeout, closed).",
                        MetricType::Counter);
  for (const auto& [name, listener] : totals.listeners) {
    uint64_t any = 0;
    for (uint64_t n : listener.tls_handshakes) any += n;
    if (any == 0) continue;
    for (size_t r = 0; r < kTlsResults; ++r) {
      addCounter(tls, {{"listener", name}, {"result", kTlsResultNames[r]}},
                 static_cast<double>(listener.tls_handshakes[r]));
    }
  }
  families.push_back(std::move(tls));

  auto invalid = makeFamily("switchyard_metrics_invalid_records_total",
                            "Metric updates dropped because the caller passed an index the "
                            "snapshot does not have (a bug; should stay 0).",
                            MetricType::Counter);
  addCounter(invalid, {}, static_cast<double>(totals.invalid_records));
  families.push_back(std::move(invalid));

  return families;
}

}  // namespace switchyard::proxy::metrics
