// makeBalancer: the balancer a [[cluster]] asks for.
//
// Called when a Config snapshot is applied (start-up and reload), never per request. The
// proxy keeps one Balancer per cluster per snapshot, indexed like Config::clusters.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "config/config.h"
#include "proxy/balancer/balancer.h"
#include "proxy/balancer/endpoint_set.h"

namespace switchyard::proxy {

struct BalancerOptions {
  // Seeds the per-P generators and round robin's start offsets. 0: a random seed
  // (std::random_device), so that proxy instances do not move in lock-step. Tests pass a
  // fixed value.
  uint64_t seed = 0;
  // consistent_hash: points per endpoint on the ring.
  size_t virtual_nodes = 160;
  // A reload: health flags of endpoints that the previous snapshot's cluster of the same
  // name also had are carried over (EndpointSet::inheritHealth). May be null.
  const EndpointSet* previous = nullptr;
  // peak_ewma: the latency average's decay time constant.
  std::chrono::nanoseconds ewma_decay = std::chrono::seconds{10};
};

// A balancer of kind cluster.balancer over a new EndpointSet of cluster.endpoints.
// Returns nullptr for a cluster without endpoints (config validation refuses those).
std::unique_ptr<Balancer> makeBalancer(const config::ClusterConfig& cluster,
                                       const BalancerOptions& options = {});

// The same over an existing EndpointSet (shared with a health checker, or a test's).
std::unique_ptr<Balancer> makeBalancer(config::BalancerKind kind,
                                       std::shared_ptr<EndpointSet> endpoints,
                                       const config::HashKey& hash_key = {},
                                       const BalancerOptions& options = {});

}  // namespace switchyard::proxy
