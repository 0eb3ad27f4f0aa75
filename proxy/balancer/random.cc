#include "proxy/balancer/random.h"

#include <utility>

namespace switchyard::proxy {

RandomBalancer::RandomBalancer(std::shared_ptr<EndpointSet> endpoints, uint64_t seed)
    : Balancer(std::move(endpoints)) {
  for (int w = 0; w < internal::kMaxWorkers; ++w) state_[w].store(internal::xorshiftSeed(seed, w));
}

size_t RandomBalancer::pick(const PickContext& ctx) {
  const Candidates c = candidates(ctx);
  if (c.forced != kNoEndpoint) return c.forced;
  internal::WorkerWord& word = state_[ctx.worker];
  uint64_t state = word.load();
  const uint64_t bits = internal::xorshift64Star(state);
  word.store(state);
  return nthCandidate(c, internal::uniformBelow(bits, c.count));
}

}  // namespace switchyard::proxy
