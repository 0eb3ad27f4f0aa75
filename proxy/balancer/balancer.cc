#include "proxy/balancer/balancer.h"

namespace switchyard::proxy {

Balancer::Candidates Balancer::candidates(const PickContext& ctx) const {
  const EndpointSet& set = *endpoints_;
  const size_t n = set.size();
  const size_t healthy = set.healthyCount();
  Candidates c;
  if (n <= 1) {
    c.forced = 0;
    return c;
  }
  if (ctx.exclude >= n) {
    if (healthy >= n) {  // all healthy: the fast path
      c.all = true;
      c.count = n;
    } else if (healthy > 0) {  // rule 1
      c.require_healthy = true;
      c.count = healthy;
    } else {  // rule 3: panic mode
      c.all = true;
      c.count = n;
    }
    return c;
  }
  c.exclude = ctx.exclude;
  const size_t usable = healthy - (set.healthy(ctx.exclude) && healthy > 0 ? 1 : 0);
  if (usable > 0) {  // rule 1
    c.require_healthy = true;
    c.count = usable;
  } else if (healthy > 0) {  // rule 2: the excluded endpoint is the only healthy one
    c.forced = ctx.exclude;
  } else {  // rule 3: panic mode, still avoiding the failed endpoint
    c.count = n - 1;
  }
  return c;
}

size_t Balancer::nthCandidate(const Candidates& c, size_t k) const {
  const EndpointSet& set = *endpoints_;
  if (c.all) return k;
  for (size_t i = 0; i < set.size(); ++i) {
    if (c.accepts(set, i)) {
      if (k == 0) return i;
      --k;
    }
  }
  // A health change raced with the pick: any endpoint is better than none.
  return k % set.size();
}

}  // namespace switchyard::proxy
