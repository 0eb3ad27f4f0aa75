// least_request: power of two choices over active request counts.
//
// Two distinct candidates are drawn uniformly (per-P xorshift64*, as random); the one with
// fewer requests in flight wins, the first drawn on a tie. Mitzenmacher's result: this
// keeps the maximum load within O(log log n) of the mean, nearly as good as scanning
// every endpoint for the minimum, while reading only two counters (a full scan would read
// n shared lines per request, and would herd every P onto the same "least loaded"
// endpoint between updates; two random choices do not herd).
//
// The one shared write per request: onRequestStart/onRequestEnd increment and decrement
// the endpoint's active count (EndpointSet::addActiveRequest), a relaxed fetch_add/sub
// on a counter that every P updates. It cannot be per-P: "requests in flight on endpoint
// e" is a sum over all Ps, and reading 256 per-P counters per choice would cost more than
// the write it saves. To keep that write as cheap as a shared write can be:
//   - relaxed order: the count is a load hint, nothing is published through it, and a
//     pick that sees a value a few nanoseconds old decides just as well;
//   - one cache line per endpoint's counter (EndpointSet::PaddedCounter), so a request to
//     endpoint A never invalidates the line holding B's count, and the read-mostly health
//     flags are elsewhere;
//   - the other balancers do not count at all (their hooks are no-ops).
// The counters must pair: every onRequestStart(e) is followed by exactly one
// onRequestEnd(e) on the same balancer.
#pragma once

#include <cstdint>
#include <memory>

#include "proxy/balancer/balancer.h"
#include "proxy/balancer/internal/per_worker.h"

namespace switchyard::proxy {

class LeastRequestBalancer final : public Balancer {
 public:
  LeastRequestBalancer(std::shared_ptr<EndpointSet> endpoints, uint64_t seed);

  size_t pick(const PickContext& ctx) override;
  void onRequestStart(size_t endpoint) override;
  void onRequestEnd(size_t endpoint) override;
  config::BalancerKind kind() const override { return config::BalancerKind::kLeastRequest; }

 private:
  internal::PerWorkerWords state_;  // per P: a xorshift64* state, never 0
};

}  // namespace switchyard::proxy
