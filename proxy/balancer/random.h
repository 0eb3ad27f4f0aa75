// random: a uniform draw among the candidates, from a per-P xorshift64* generator.
//
// No shared state on the hot path: each P has its own generator state on its own cache
// line (internal/per_worker.h). Generators are seeded from the balancer's seed and the P
// id through SplitMix64, so the Ps' sequences are unrelated. Statistically weaker than
// round robin for small request counts, but needs no coordination at all and cannot fall
// into lock-step with a periodic client pattern.
#pragma once

#include <cstdint>
#include <memory>

#include "proxy/balancer/balancer.h"
#include "proxy/balancer/internal/per_worker.h"

namespace switchyard::proxy {

class RandomBalancer final : public Balancer {
 public:
  RandomBalancer(std::shared_ptr<EndpointSet> endpoints, uint64_t seed);

  size_t pick(const PickContext& ctx) override;
  config::BalancerKind kind() const override { return config::BalancerKind::kRandom; }

 private:
  internal::PerWorkerWords state_;  // per P: a xorshift64* state, never 0
};

}  // namespace switchyard::proxy
