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
  const EndpointSet& set = *endpoints_;
  if (!set.weighted()) return nthCandidate(c, internal::uniformBelow(bits, c.count));
  // Weighted: a draw over the candidates' total weight, O(endpoints) (only when weights
  // are configured).
  uint64_t total = 0;
  for (size_t i = 0; i < set.size(); ++i) {
    if (c.accepts(set, i)) total += set.weight(i);
  }
  if (total == 0) return nthCandidate(c, 0);
  uint64_t point = internal::uniformBelow(bits, total);
  for (size_t i = 0; i < set.size(); ++i) {
    if (!c.accepts(set, i)) continue;
    if (point < set.weight(i)) return i;
    point -= set.weight(i);
  }
  return nthCandidate(c, 0);  // a racing health change: any candidate
}

}  // namespace switchyard::proxy
