// round_robin: each P walks the endpoints in order with its own cursor.
//
// Per-P cursors instead of one shared counter: a shared fetch_add would bounce one cache
// line between every core on every request, which is the cost the M:N design exists to
// avoid. Per P the spread is exactly even (n consecutive picks on one P hit n distinct
// endpoints); overall it is even too, because each P is. P w starts at endpoint
// (seed + w) mod n, so that right after start-up or a reload the Ps do not all send their
// first request to endpoint 0 (nor do all proxy instances, with random seeds).
//
// Unhealthy or excluded endpoints are skipped by walking on from the cursor to the next
// candidate, and the cursor moves to the endpoint picked: every candidate is still hit
// once per cycle (no double share for the endpoint after a dead one, which a "pick then
// step over" scheme would give).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "proxy/balancer/balancer.h"
#include "proxy/balancer/internal/per_worker.h"

namespace switchyard::proxy {

class RoundRobinBalancer final : public Balancer {
 public:
  RoundRobinBalancer(std::shared_ptr<EndpointSet> endpoints, uint64_t seed);

  size_t pick(const PickContext& ctx) override;
  config::BalancerKind kind() const override { return config::BalancerKind::kRoundRobin; }

 private:
  // Per P: the index of the endpoint this P picked last (unweighted), or its position in
  // schedule_ (weighted).
  internal::PerWorkerWords last_;
  // Weighted only: one cycle of endpoint indices in which endpoint e appears weight(e)
  // times, interleaved by nginx's smooth weighted round robin (weights 5,1,1 give
  // a a b a c a a rather than a a a a a b c), built once at construction.
  std::vector<uint32_t> schedule_;
};

}  // namespace switchyard::proxy
