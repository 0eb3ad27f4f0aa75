#include "proxy/server/proxy_state.h"

#include "proxy/balancer/factory.h"
#include "runtime/runtime.h"

namespace switchyard::server {

ClusterRuntime::ClusterRuntime(const config::ClusterConfig& config,
                               std::unique_ptr<proxy::Balancer> balancer)
    : config_(config),
      balancer_(std::move(balancer)),
      health_(std::make_shared<proxy::health::ClusterHealth>(config,
                                                              balancer_->sharedEndpoints())),
      retry_budget_(config.retry.budget_percent, config.retry.min_retry_concurrency),
      limits_(config.limits),
      addresses_(std::make_shared<proxy::dns::EndpointAddresses>(config.endpoints,
                                                                 config.dns_refresh)) {}

ClusterRuntime::~ClusterRuntime() {
  // Runs in whichever Task drops the snapshot last: report from that
  // worker's cells (each cell has one writer), on this snapshot's counters.
  const int worker = rt::current_worker();
  pools_.forEach([&](WorkerPools& wp) {
    for (auto& pool : wp.by_endpoint) {
      noteConnections(worker, -static_cast<int64_t>(pool.size()), 0);
      pool.closeAll();
    }
  });
}

upstream::IdlePool& ClusterRuntime::pool(int worker, size_t endpoint) const {
  WorkerPools& wp = pools_.get(static_cast<size_t>(worker < 0 ? 0 : worker), [this] {
    auto* fresh = new WorkerPools();
    const size_t n = config_.endpoints.size();
    fresh->by_endpoint.reserve(n);
    for (size_t i = 0; i < n; i++) {
      fresh->by_endpoint.emplace_back(static_cast<size_t>(config_.pool.max_idle_per_worker),
                                      config_.timeouts.idle);
    }
    return fresh;
  });
  return wp.by_endpoint[endpoint];
}

std::shared_ptr<ProxyState> ProxyState::build(std::shared_ptr<const config::Config> config,
                                              const ProxyState* previous) {
  auto state = std::make_shared<ProxyState>();
  state->config = std::move(config);
  state->router = proxy::Router::build(*state->config);
  for (size_t i = 0; i < state->config->clusters.size(); i++) {
    const config::ClusterConfig& cc = state->config->clusters[i];
    proxy::BalancerOptions opts;
    opts.seed = i * 7919 + 1;
    auto cluster = std::make_unique<ClusterRuntime>(cc, proxy::makeBalancer(cc, opts));
    // Endpoint health (probe streaks, ejections) carries over a reload by cluster name
    // and endpoint address; ClusterHealth writes it into the new EndpointSet.
    if (previous != nullptr) {
      for (const auto& old : previous->clusters) {
        if (old->config().name == cc.name) {
          cluster->health().inherit(old->health());
          cluster->addresses().inherit(old->addresses());
        }
      }
    }
    state->clusters.push_back(std::move(cluster));
  }
  return state;
}

void ProxyState::startClusterTasks(rt::WaitGroup* tasks) const {
  for (const auto& cluster : clusters) {
    cluster->health().start(tasks);
    cluster->addresses().start(tasks);
  }
}

void ProxyState::stopClusterTasks() const {
  for (const auto& cluster : clusters) {
    cluster->health().stop();
    cluster->addresses().stop();
  }
}

}  // namespace switchyard::server
