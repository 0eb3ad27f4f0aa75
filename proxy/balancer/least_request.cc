#include "proxy/balancer/least_request.h"

#include <utility>

namespace switchyard::proxy {

LeastRequestBalancer::LeastRequestBalancer(std::shared_ptr<EndpointSet> endpoints, uint64_t seed)
    : Balancer(std::move(endpoints)) {
  for (int w = 0; w < internal::kMaxWorkers; ++w) state_[w].store(internal::xorshiftSeed(seed, w));
}

size_t LeastRequestBalancer::pick(const PickContext& ctx) {
  const Candidates c = candidates(ctx);
  if (c.forced != kNoEndpoint) return c.forced;
  if (c.count == 1) return nthCandidate(c, 0);

  const auto [rank_a, rank_b] = internal::twoDistinctRanks(state_[ctx.worker], c.count);
  const size_t a = nthCandidate(c, rank_a);
  const size_t b = nthCandidate(c, rank_b);

  const EndpointSet& set = *endpoints_;
  if (!set.weighted()) return set.activeRequests(b) < set.activeRequests(a) ? b : a;
  // Weighted: fewer requests per unit of weight wins (cross-multiplied, no division).
  return set.activeRequests(b) * set.weight(a) < set.activeRequests(a) * set.weight(b) ? b : a;
}

void LeastRequestBalancer::onRequestStart(size_t endpoint) {
  if (endpoint < endpoints_->size()) endpoints_->addActiveRequest(endpoint);
}

void LeastRequestBalancer::onRequestEnd(size_t endpoint) {
  if (endpoint < endpoints_->size()) endpoints_->removeActiveRequest(endpoint);
}

}  // namespace switchyard::proxy
