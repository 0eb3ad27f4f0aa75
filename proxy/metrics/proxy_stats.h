// ProxyStats: the request path's counters for one Config snapshot.
//
// A ProxyStats is built next to each Config snapshot (start-up and every reload) and
// knows that snapshot's listeners, routes, clusters and endpoints. It turns them into
// fixed label sets with dense indices, so that recording a request is index arithmetic
// and a few single-writer stores into the calling worker's own cells (PerWorkerCells):
// no lock, no read-modify-write on a shared line, no allocation, no string work, no
// hashing. The indices are the ones the rest of the proxy already has: positions in
// Config::listeners, Config::routes and Config::clusters (the Router's route_index and
// cluster_index), and in ClusterConfig::endpoints.
//
// Who calls what:
//   - Request path, on a worker (worker = rt::current_worker(), read after the last park
//     point before the call): requestDone(), connectionOpened(), connectionClosed(),
//     bytes(), upstreamConnections(), tlsHandshake(). They never allocate once the
//     worker's block exists (see PerWorkerCells::reserve()).
//   - Health checker, any thread: setEndpointHealthy() (one relaxed atomic store).
//   - Scrape, any thread: addTo(), through ProxyStatsCollector.
//
// Lifetime: whoever records into a ProxyStats holds a std::shared_ptr to it (directly or
// through the bundle that also holds the snapshot's Config and Router), for as long as
// it may record. ProxyStatsCollector keeps totals when a snapshot is retired (see there);
// a raw pointer kept past the last shared_ptr would write into freed memory.
//
// A call with an index this snapshot does not have (a caller bug, e.g. an index from
// another snapshot) records nothing but switchyard_metrics_invalid_records_total: a
// log-and-count bug, never a crash on the data plane.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "proxy/metrics/latency_buckets.h"
#include "proxy/metrics/per_worker_cells.h"

namespace switchyard::proxy::metrics {

// Status code classes, the `code` label of switchyard_http_requests_total. "other" is a
// status outside 100..599, and 0: the proxy passes 0 when no response status was sent
// (the client went away first).
inline constexpr size_t kCodeClasses = 6;
inline constexpr std::array<const char*, kCodeClasses> kCodeClassNames = {
    "1xx", "2xx", "3xx", "4xx", "5xx", "other"};
constexpr size_t codeClass(int status) {
  return status >= 100 && status <= 599 ? static_cast<size_t>(status / 100 - 1) : 5;
}

// Per-cluster events of upstream resilience (issue 9), one counter each. The order is
// the cell layout; kClusterEventNames gives each its metric name.
enum class ClusterEvent : size_t {
  kEjection,             // outlier detection ejected an endpoint
  kRetry,                // a request was sent again (to another endpoint when there is one)
  kRetryBudgetExhausted, // a retry was wanted but the budget said no
  kNoHealthyEndpoint,    // answered 503: every endpoint was unhealthy or ejected
  kOverflowConnections,  // answered 503: [cluster.limits] max_connections reached
  kOverflowRequests,     // answered 503: [cluster.limits] max_requests reached
};
inline constexpr size_t kClusterEvents = 6;

// Totals of one histogram series: counts per bucket (not cumulative), sum in ns.
struct HistogramTotals {
  std::array<uint64_t, kLatencyBuckets> counts{};
  uint64_t sum_ns = 0;
};

// How a downstream TLS handshake ended (switchyard_tls_handshakes_total{result}).
enum class TlsHandshakeResult : size_t {
  kSuccess,   // a full handshake
  kResumed,   // an abbreviated one (ticket or session cache)
  kFailure,   // a protocol failure: not TLS (plain HTTP), refused version or
              // certificate, bad record
  kTimeout,   // not finished within the listener's header_read
  kClosed,    // the client went away mid-handshake
};
inline constexpr size_t kTlsResults = 5;
inline constexpr std::array<const char*, kTlsResults> kTlsResultNames = {
    "success", "resumed", "failure", "timeout", "closed"};

struct ListenerTotals {
  std::array<uint64_t, kTlsResults> tls_handshakes{};
  uint64_t opened = 0;
  uint64_t closed = 0;
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  HistogramTotals request_duration;
  uint64_t overload_shed = 0;  // requests answered 503 by load shedding
};

struct ClusterTotals {
  // Modular sums of +1/-1 deltas: read with PerWorkerCells::asSigned().
  uint64_t idle = 0;
  uint64_t active = 0;
  HistogramTotals upstream_duration;
  std::array<uint64_t, kClusterEvents> events{};  // by ClusterEvent
};

// The label values of one switchyard_http_requests_total series (code aside).
struct RequestKey {
  std::string listener;
  std::string route;    // "" = no route matched
  std::string cluster;  // "" = no cluster: no route, or a direct response
  auto operator<=>(const RequestKey&) const = default;
};

// Everything a scrape shows, keyed by label values rather than by index, so totals of
// different snapshots add up series by series.
struct ProxyTotals {
  std::map<RequestKey, std::array<uint64_t, kCodeClasses>> requests;
  std::map<std::string, ListenerTotals> listeners;
  std::map<std::string, ClusterTotals> clusters;
  // (cluster, endpoint) -> healthy; the current snapshot's only.
  std::map<std::pair<std::string, std::string>, bool> endpoint_healthy;
  // Load shedding ([overload]); the current snapshot's only. p99 < 0: no estimate.
  bool overload_active = false;
  int64_t overload_p99_ns = -1;
  uint64_t invalid_records = 0;
};

class ProxyStats {
 public:
  // No route matched (the proxy answered 404 itself), or no upstream was involved.
  static constexpr size_t kNoRoute = SIZE_MAX;
  static constexpr size_t kNoCluster = SIZE_MAX;

  // Builds the label tables of `config` and reserves the cells of workers
  // [0, reserve_workers) (pass rt::workers()). Allocates; call off the request path.
  explicit ProxyStats(const config::Config& config, int reserve_workers = 0);
  ProxyStats(const ProxyStats&) = delete;
  ProxyStats& operator=(const ProxyStats&) = delete;

  // ---- Request path. `worker`: the worker the caller runs on now (see above).

  // A request/response exchange finished (or was abandoned). `route`: the
  // Config::routes index the router chose, or kNoRoute. `status`: the status sent to the
  // client, 0 if none. `duration_ns`: from the first byte of the request to the last
  // byte of the response. `cluster`/`upstream_ns`: the cluster that produced the
  // response and how long that upstream exchange took (request written -> response
  // fully read), or kNoCluster / a negative value when no upstream answered. The
  // `cluster` label of the request series comes from the route, not from `cluster`.
  void requestDone(int worker, size_t listener, size_t route, size_t cluster, int status,
                   uint64_t duration_ns, int64_t upstream_ns) {
    if (listener >= listener_count_) [[unlikely]] return invalid(worker);
    const size_t r = route < route_count_ ? route : route_count_;  // kNoRoute -> last
    const uint32_t pair = pair_slot_[listener * (route_count_ + 1) + r];
    if (pair == kNotApplicable) [[unlikely]] return invalid(worker);
    cells_->add(worker, requests_base_ + pair * kCodeClasses + codeClass(status), 1);
    const size_t hist = request_duration_base_ + listener * kHistogramCells;
    cells_->add2(worker, hist + latencyBucket(duration_ns), 1, hist + kLatencyBuckets,
                duration_ns);
    if (upstream_ns >= 0 && cluster < cluster_count_) {
      const uint64_t ns = static_cast<uint64_t>(upstream_ns);
      const size_t up = upstream_duration_base_ + cluster * kHistogramCells;
      cells_->add2(worker, up + latencyBucket(ns), 1, up + kLatencyBuckets, ns);
    }
  }

  // A downstream (client) connection was accepted / closed on `listener`.
  void connectionOpened(int worker, size_t listener) {
    if (listener >= listener_count_) [[unlikely]] return invalid(worker);
    cells_->add(worker, opened_base_ + listener, 1);
  }
  void connectionClosed(int worker, size_t listener) {
    if (listener >= listener_count_) [[unlikely]] return invalid(worker);
    cells_->add(worker, closed_base_ + listener, 1);
  }

  // Bytes read from / written to downstream sockets of `listener` (TLS: the encrypted
  // bytes on the wire). Call as often as convenient, e.g. once per request.
  void bytes(int worker, size_t listener, uint64_t received, uint64_t sent) {
    if (listener >= listener_count_) [[unlikely]] return invalid(worker);
    cells_->add2(worker, bytes_received_base_ + listener, received, bytes_sent_base_ + listener,
                sent);
  }

  // The upstream pool of `cluster` changed: deltas of its idle and in-use ("active")
  // connections. Connect: (0, +1); back to the pool: (+1, -1); taken from the pool:
  // (-1, +1); closed while idle: (-1, 0); closed while in use: (0, -1).
  void upstreamConnections(int worker, size_t cluster, int64_t idle_delta,
                           int64_t active_delta) {
    if (cluster >= cluster_count_) [[unlikely]] return invalid(worker);
    cells_->add2(worker, upstream_idle_base_ + cluster, static_cast<uint64_t>(idle_delta),
                upstream_active_base_ + cluster, static_cast<uint64_t>(active_delta));
  }

  // A resilience event of `cluster` (see ClusterEvent). Any thread; a Task passes its
  // worker, other threads -1.
  void clusterEvent(int worker, size_t cluster, ClusterEvent event) {
    if (cluster >= cluster_count_) [[unlikely]] return invalid(worker);
    cells_->add(worker, cluster_events_base_ + cluster * kClusterEvents +
                            static_cast<size_t>(event), 1);
  }

  // A request on `listener` was answered 503 because the proxy sheds load.
  void overloadShed(int worker, size_t listener) {
    if (listener >= listener_count_) [[unlikely]] return invalid(worker);
    cells_->add(worker, overload_shed_base_ + listener, 1);
  }

  // ---- Overload monitor, any thread: the verdict and the estimate it came from.
  void setOverload(bool active, int64_t p99_ns) {
    overload_active_.store(active, std::memory_order_relaxed);
    overload_p99_ns_.store(p99_ns, std::memory_order_relaxed);
  }

  // A downstream TLS handshake on `listener` ended.
  void tlsHandshake(int worker, size_t listener, TlsHandshakeResult result) {
    if (listener >= listener_count_) [[unlikely]] return invalid(worker);
    cells_->add(worker, tls_base_ + listener * kTlsResults + static_cast<size_t>(result), 1);
  }

  // ---- Health checker, any thread. Endpoints start healthy (no check has failed yet).
  void setEndpointHealthy(size_t cluster, size_t endpoint, bool healthy);

  // ---- Scrape.

  // Adds this snapshot's totals into `totals`. Every listener and cluster of the
  // snapshot gets an entry (zero or not); request series only when non-zero. With
  // `with_health`, also the endpoints' health (the current snapshot only: a retired
  // snapshot's health is stale).
  void addTo(ProxyTotals& totals, bool with_health) const;

  // Sizes, for tests and capacity planning.
  size_t cellsPerWorker() const { return cells_->cells(); }
  int workerBlocks() const { return cells_->blocksAllocated(); }
  void reserveWorkers(int workers) { cells_->reserve(workers); }

 private:
  static constexpr uint32_t kNotApplicable = UINT32_MAX;
  static constexpr size_t kHistogramCells = kLatencyBuckets + 1;  // buckets + sum

  void invalid(int worker) { cells_->add(worker, invalid_cell_, 1); }

  // Label values, in index order.
  std::vector<std::string> listener_names_;
  std::vector<std::string> route_names_;
  std::vector<std::string> route_cluster_names_;  // "" for direct responses
  std::vector<std::string> cluster_names_;
  std::vector<size_t> endpoint_base_;             // per cluster, into endpoint_names_
  std::vector<std::string> endpoint_names_;       // "host:port"

  size_t listener_count_ = 0;
  size_t route_count_ = 0;
  size_t cluster_count_ = 0;

  // [listener * (routes + 1) + route] -> dense (listener, route) pair, or kNotApplicable
  // when the route is bound to another listener. Column `routes` is "no route".
  std::vector<uint32_t> pair_slot_;
  std::vector<std::pair<size_t, size_t>> pairs_;  // pair -> (listener, route or routes)

  // Cell offsets within a worker's block.
  size_t requests_base_ = 0;
  size_t request_duration_base_ = 0;
  size_t upstream_duration_base_ = 0;
  size_t opened_base_ = 0;
  size_t closed_base_ = 0;
  size_t bytes_received_base_ = 0;
  size_t bytes_sent_base_ = 0;
  size_t upstream_idle_base_ = 0;
  size_t upstream_active_base_ = 0;
  size_t tls_base_ = 0;
  size_t cluster_events_base_ = 0;
  size_t overload_shed_base_ = 0;
  size_t invalid_cell_ = 0;

  // Built last, once the layout above is known (emplaced in the constructor).
  std::optional<PerWorkerCells> cells_;
  std::unique_ptr<std::atomic<uint8_t>[]> endpoint_healthy_;
  std::atomic<bool> overload_active_{false};
  std::atomic<int64_t> overload_p99_ns_{-1};
};

}  // namespace switchyard::proxy::metrics
