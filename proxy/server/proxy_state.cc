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
                                                                 config.dns_refresh)) {
  for (const config::HostPort& endpoint : config_.endpoints) {
    numeric_addresses_.push_back(endpoint.kind == config::HostKind::kName
                                     ? std::nullopt
                                     : rt::net::Address::parse(endpoint.toString()));
  }
}

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

const ClusterRuntime* ProxyState::findCluster(std::string_view name) const {
  for (const auto& c : clusters) {
    if (c->config().name == name) return c.get();
  }
  return nullptr;
}

std::shared_ptr<const tls::ServerContext> ProxyState::findListenerTls(std::string_view name) const {
  for (size_t i = 0; i < config->listeners.size() && i < listener_tls.size(); i++) {
    if (config->listeners[i].name == name) return listener_tls[i];
  }
  return nullptr;
}

std::shared_ptr<ProxyState> ProxyState::build(std::shared_ptr<const config::Config> config,
                                              const ProxyState* previous,
                                              std::vector<std::string>* tls_errors) {
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
    if (cc.tls) {
      std::string error;
      std::shared_ptr<const tls::ClientContext> ctx = tls::ClientContext::build(*cc.tls, error);
      if (ctx == nullptr) {
        const ClusterRuntime* old = previous != nullptr ? previous->findCluster(cc.name) : nullptr;
        if (old != nullptr && old->tls() != nullptr) ctx = old->tlsShared();
        if (tls_errors != nullptr) {
          tls_errors->push_back("cluster \"" + cc.name + "\" tls: " + error +
                                (ctx ? "; keeping the previous TLS settings"
                                     : "; requests to it fail with 502"));
        }
      }
      state->clusters.back()->setTls(std::move(ctx));
    }
  }
  for (const config::ListenerConfig& lc : state->config->listeners) {
    std::shared_ptr<const tls::ServerContext> ctx;
    if (lc.tls) {
      std::shared_ptr<const tls::ServerContext> old =
          previous != nullptr ? previous->findListenerTls(lc.name) : nullptr;
      std::string error;
      ctx = tls::ServerContext::build(*lc.tls, old != nullptr ? old->ticketKeys() : nullptr, error);
      if (ctx == nullptr) {
        ctx = std::move(old);
        if (tls_errors != nullptr) {
          tls_errors->push_back("listener \"" + lc.name + "\" tls: " + error +
                                (ctx ? "; keeping the previous certificates"
                                     : "; its connections are closed"));
        }
      }
    }
    state->listener_tls.push_back(std::move(ctx));
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

std::vector<std::string> checkTlsFiles(const config::Config& config) {
  std::vector<std::string> errors;
  for (const config::ListenerConfig& lc : config.listeners) {
    std::string error;
    if (lc.tls && tls::ServerContext::build(*lc.tls, nullptr, error) == nullptr) {
      errors.push_back("listener \"" + lc.name + "\" tls: " + error);
    }
  }
  for (const config::ClusterConfig& cc : config.clusters) {
    std::string error;
    if (cc.tls && tls::ClientContext::build(*cc.tls, error) == nullptr) {
      errors.push_back("cluster \"" + cc.name + "\" tls: " + error);
    }
  }
  return errors;
}

}  // namespace switchyard::server
