#include "proxy/balancer/round_robin.h"

#include <utility>

namespace switchyard::proxy {

RoundRobinBalancer::RoundRobinBalancer(std::shared_ptr<EndpointSet> endpoints, uint64_t seed)
    : Balancer(std::move(endpoints)) {
  const size_t n = endpoints_->size();
  if (n == 0) return;
  if (endpoints_->weighted()) {
    // Smooth weighted round robin: each step every endpoint gains its weight, the
    // richest is chosen and pays the total. Over sum(weights) steps each endpoint is
    // chosen exactly weight times, spread out.
    std::vector<int64_t> current(n, 0);
    int64_t total = 0;
    for (size_t e = 0; e < n; ++e) total += endpoints_->weight(e);
    schedule_.reserve(static_cast<size_t>(total));
    for (int64_t step = 0; step < total; ++step) {
      size_t best = 0;
      for (size_t e = 0; e < n; ++e) {
        current[e] += endpoints_->weight(e);
        if (current[e] > current[best]) best = e;
      }
      current[best] -= total;
      schedule_.push_back(static_cast<uint32_t>(best));
    }
    const size_t s = schedule_.size();
    for (int w = 0; w < internal::kMaxWorkers; ++w) {
      const size_t first = static_cast<size_t>((seed % s + static_cast<uint64_t>(w)) % s);
      last_[w].store(first == 0 ? s - 1 : first - 1);
    }
    return;
  }
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
  if (!schedule_.empty()) {
    const size_t s = schedule_.size();
    size_t pos = static_cast<size_t>(last.load()) % s;
    for (size_t step = 0; step < s; ++step) {
      pos = pos + 1 == s ? 0 : pos + 1;
      if (c.accepts(set, schedule_[pos])) {
        last.store(pos);
        return schedule_[pos];
      }
    }
    pos = pos + 1 == s ? 0 : pos + 1;  // a racing health change left no candidate
    last.store(pos);
    return schedule_[pos];
  }
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
