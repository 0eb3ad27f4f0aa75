#include "proxy/balancer/round_robin.h"

#include <utility>

namespace switchyard::proxy {

RoundRobinBalancer::RoundRobinBalancer(std::shared_ptr<EndpointSet> endpoints, uint64_t seed)
    : Balancer(std::move(endpoints)) {
  const size_t n = endpoints_->size();
  if (n == 0) return;
  for (int w = 0; w < internal::kMaxWorkers; ++w) {
    // "Last picked" is the endpoint before the starting one, so the first pick of P w is
    // (seed + w) mod n.
    const size_t first = static_cast<size_t>((seed % n + static_cast<uint64_t>(w)) % n);
    last_[w].store(first == 0 ? n - 1 : first - 1);
  }
}

size_t RoundRobinBalancer::pick(const PickContext& ctx) {
  const Candidates c = candidates(ctx);
  if (c.forced != kNoEndpoint) return c.forced;
  const EndpointSet& set = *endpoints_;
  const size_t n = set.size();
  internal::WorkerWord& last = last_[ctx.worker];
  const size_t from = static_cast<size_t>(last.load());
  size_t i = from;
  for (size_t step = 0; step < n; ++step) {
    i = i + 1 == n ? 0 : i + 1;
    if (c.accepts(set, i)) {
      last.store(i);
      return i;
    }
  }
  // A health change raced with the pick and left no candidate: plain round robin.
  i = from + 1 == n ? 0 : from + 1;
  last.store(i);
  return i;
}

}  // namespace switchyard::proxy
