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

  internal::WorkerWord& word = state_[ctx.worker];
  uint64_t state = word.load();
  const uint64_t bits_a = internal::xorshift64Star(state);
  const uint64_t bits_b = internal::xorshift64Star(state);
  word.store(state);

  // Two distinct ranks among the candidates: b is drawn from the count - 1 others.
  const size_t rank_a = internal::uniformBelow(bits_a, c.count);
  size_t rank_b = internal::uniformBelow(bits_b, c.count - 1);
  if (rank_b >= rank_a) ++rank_b;
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
