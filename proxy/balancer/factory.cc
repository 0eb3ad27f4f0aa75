#include "proxy/balancer/factory.h"

#include <random>
#include <utility>

#include "proxy/balancer/consistent_hash.h"
#include "proxy/balancer/least_request.h"
#include "proxy/balancer/peak_ewma.h"
#include "proxy/balancer/random.h"
#include "proxy/balancer/round_robin.h"

namespace switchyard::proxy {
namespace {

uint64_t seedFrom(const BalancerOptions& options) {
  if (options.seed != 0) return options.seed;
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace

std::unique_ptr<Balancer> makeBalancer(config::BalancerKind kind,
                                       std::shared_ptr<EndpointSet> endpoints,
                                       const config::HashKey& hash_key,
                                       const BalancerOptions& options) {
  if (endpoints == nullptr || endpoints->size() == 0) return nullptr;
  if (options.previous != nullptr) endpoints->inheritHealth(*options.previous);
  const uint64_t seed = seedFrom(options);
  switch (kind) {
    case config::BalancerKind::kRoundRobin:
      return std::make_unique<RoundRobinBalancer>(std::move(endpoints), seed);
    case config::BalancerKind::kRandom:
      return std::make_unique<RandomBalancer>(std::move(endpoints), seed);
    case config::BalancerKind::kLeastRequest:
      return std::make_unique<LeastRequestBalancer>(std::move(endpoints), seed);
    case config::BalancerKind::kConsistentHash:
      return std::make_unique<ConsistentHashBalancer>(std::move(endpoints), hash_key, seed,
                                                      options.virtual_nodes);
    case config::BalancerKind::kPeakEwma:
      return std::make_unique<PeakEwmaBalancer>(std::move(endpoints), seed, options.ewma_decay);
  }
  return nullptr;
}

std::unique_ptr<Balancer> makeBalancer(const config::ClusterConfig& cluster,
                                       const BalancerOptions& options) {
  BalancerOptions with_decay = options;
  with_decay.ewma_decay = cluster.ewma_decay;
  return makeBalancer(cluster.balancer,
                      std::make_shared<EndpointSet>(cluster.endpoints, cluster.weights),
                      cluster.hash_key, with_decay);
}

}  // namespace switchyard::proxy
