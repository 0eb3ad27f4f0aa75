// ProxyState: everything a request needs that comes from one config
// snapshot, built once per (re)load and immutable afterwards.
//
// Owns the router, each cluster's balancer and its per-worker idle
// upstream pools. A connection takes a reference when it wakes up and keeps
// it for that activation, so a reload never changes the routes under an
// in-flight request; the old state (and its pooled upstream connections) is
// freed when the last activation that uses it ends.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <vector>

#include "config/config.h"
#include "proxy/balancer/balancer.h"
#include "proxy/dns/endpoint_addresses.h"
#include "proxy/health/cluster_health.h"
#include "proxy/lazy_per_worker.h"
#include "proxy/metrics/proxy_stats.h"
#include "proxy/resilience/cluster_limits.h"
#include "proxy/resilience/retry_budget.h"
#include "proxy/router/router.h"
#include "proxy/tls/client_context.h"
#include "proxy/tls/server_context.h"
#include "proxy/upstream/idle_pool.h"
#include "runtime/net/net.h"
#include "runtime/sync/sync.h"

namespace switchyard::server {

class ClusterRuntime {
 public:
  static constexpr size_t kMaxWorkers = 256;

  ClusterRuntime(const config::ClusterConfig& config, std::unique_ptr<proxy::Balancer> balancer);
  ~ClusterRuntime();

  const config::ClusterConfig& config() const { return config_; }
  proxy::Balancer& balancer() const { return *balancer_; }
  // Active checks and outlier detection over the balancer's endpoints.
  proxy::health::ClusterHealth& health() const { return *health_; }
  proxy::resilience::RetryBudget& retryBudget() const { return retry_budget_; }
  proxy::resilience::ClusterLimits& limits() const { return limits_; }
  // Where each endpoint is (host names re-resolved every dns_refresh); connects go here.
  proxy::dns::EndpointAddresses& addresses() const { return *addresses_; }
  // TLS towards the endpoints; null for plain TCP. A TLS cluster whose files could not
  // be read at start has none either (the proxy then refuses to start), and after a
  // failed reload keeps the previous snapshot's.
  const tls::ClientContext* tls() const { return tls_.get(); }
  bool wantsTls() const { return config_.tls.has_value(); }
  void setTls(std::shared_ptr<const tls::ClientContext> tls) { tls_ = std::move(tls); }
  const std::shared_ptr<const tls::ClientContext>& tlsShared() const { return tls_; }

  // The snapshot's counters and this cluster's index in them, for the
  // upstream_connections{cluster,state} gauge. The cluster keeps its own
  // reference so its pools can report their closing when it is destroyed.
  void attachStats(std::shared_ptr<proxy::metrics::ProxyStats> stats, size_t index) {
    health_->attachStats(stats, index);
    stats_ = std::move(stats);
    index_ = index;
  }
  // A resilience event, counted when the snapshot has counters.
  void noteEvent(int worker, proxy::metrics::ClusterEvent event) const {
    if (stats_ != nullptr) stats_->clusterEvent(worker, index_, event);
  }
  // Gauge deltas from the calling worker: idle pooled, active in use.
  // The same deltas feed the max_connections limit.
  void noteConnections(int worker, int64_t idle_delta, int64_t active_delta) const {
    limits_.connectionsChanged(idle_delta + active_delta);
    if (stats_ != nullptr && (idle_delta != 0 || active_delta != 0)) {
      stats_->upstreamConnections(worker, index_, idle_delta, active_delta);
    }
  }
  // An IP endpoint's socket address, parsed once here so that connecting formats,
  // resolves and allocates nothing; null for a name (resolved at connect time).
  const rt::net::Address* numericAddress(size_t endpoint) const {
    return endpoint < numeric_addresses_.size() && numeric_addresses_[endpoint]
               ? &*numeric_addresses_[endpoint]
               : nullptr;
  }
  // This worker's idle pool for `endpoint` (created on first use by the
  // worker itself; only Tasks on that worker touch it).
  upstream::IdlePool& pool(int worker, size_t endpoint) const;

 private:
  struct WorkerPools {
    std::vector<upstream::IdlePool> by_endpoint;
  };
  const config::ClusterConfig& config_;
  std::unique_ptr<proxy::Balancer> balancer_;
  std::shared_ptr<proxy::health::ClusterHealth> health_;
  mutable proxy::resilience::RetryBudget retry_budget_;
  mutable proxy::resilience::ClusterLimits limits_;
  std::shared_ptr<proxy::dns::EndpointAddresses> addresses_;
  std::shared_ptr<const tls::ClientContext> tls_;
  std::vector<std::optional<rt::net::Address>> numeric_addresses_;  // Config::endpoints order
  std::shared_ptr<proxy::metrics::ProxyStats> stats_;
  size_t index_ = 0;
  mutable LazyPerWorker<WorkerPools, kMaxWorkers> pools_;
};

struct ProxyState {
  std::shared_ptr<const config::Config> config;
  std::unique_ptr<const proxy::Router> router;
  std::vector<std::unique_ptr<ClusterRuntime>> clusters;  // Config::clusters order
  // Request counters for this snapshot (a lease from the metrics registry;
  // null when nobody collects metrics, e.g. in tests).
  std::shared_ptr<proxy::metrics::ProxyStats> stats;
  // Which bound listener serves which Config::listeners entry in this
  // snapshot (by handle identity: names and settings may change on reload).
  std::vector<std::pair<const void*, size_t>> listener_slots;

  // By name, for carrying state over a reload (linear: reloads only).
  const ClusterRuntime* findCluster(std::string_view name) const;
  std::shared_ptr<const tls::ServerContext> findListenerTls(std::string_view name) const;

  // Config::listeners index for a listener handle, or SIZE_MAX when this
  // snapshot no longer has it.
  size_t listenerSlot(const void* handle) const {
    for (const auto& [h, i] : listener_slots) {
      if (h == handle) return i;
    }
    return SIZE_MAX;
  }

  // The background Tasks of every cluster (health checkers, DNS refreshers): started
  // when the snapshot is published, stopped when the next one replaces it (or the server
  // goes away). From a Task. `tasks` counts them, for the server to wait on at shutdown.
  void startClusterTasks(rt::WaitGroup* tasks) const;
  void stopClusterTasks() const;

  // TLS of each Config::listeners entry (same order); null for plain HTTP, and for a
  // TLS listener whose certificates never loaded (its connections are closed at once).
  std::vector<std::shared_ptr<const tls::ServerContext>> listener_tls;

  // Builds the state; `previous` lets endpoint health, ticket keys and (when new files
  // fail to load) TLS contexts carry over a reload. Certificate, key and CA files are
  // read here; each failure appends a line naming the listener or cluster, the file and
  // the reason to `tls_errors`.
  static std::shared_ptr<ProxyState> build(std::shared_ptr<const config::Config> config,
                                           const ProxyState* previous,
                                           std::vector<std::string>* tls_errors = nullptr);
};

// Reads every certificate, key and CA file the config names (switchyard --check),
// returning one line per problem, as ProxyState::build reports them.
std::vector<std::string> checkTlsFiles(const config::Config& config);

}  // namespace switchyard::server
