#include "proxy/balancer/consistent_hash.h"

#include <algorithm>
#include <charconv>
#include <string>
#include <tuple>
#include <utility>

#include "proxy/balancer/internal/hash.h"

namespace switchyard::proxy {
namespace {

// The point of virtual node `k` of the endpoint called `name`: hash of "name#k".
uint64_t pointHash(const std::string& name, size_t k) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, k).ptr;
  uint64_t h = internal::fnv1a64(name);
  h = internal::fnv1a64("#", h);
  h = internal::fnv1a64(std::string_view(digits, static_cast<size_t>(end - digits)), h);
  return internal::fmix64(h);
}

}  // namespace

uint64_t ConsistentHashBalancer::hashOf(std::string_view key) { return internal::hashKey(key); }

ConsistentHashBalancer::ConsistentHashBalancer(std::shared_ptr<EndpointSet> endpoints,
                                               config::HashKey hash_key, uint64_t seed,
                                               size_t virtual_nodes)
    : Balancer(std::move(endpoints)), hash_key_(std::move(hash_key)) {
  for (int w = 0; w < internal::kMaxWorkers; ++w) state_[w].store(internal::xorshiftSeed(seed, w));

  const EndpointSet& set = *endpoints_;
  if (virtual_nodes == 0) virtual_nodes = 1;
  struct Point {
    uint64_t hash;
    uint32_t owner;
  };
  std::vector<Point> points;
  // A weight multiplies an endpoint's points, hence its share of the ring.
  size_t total = 0;
  for (size_t e = 0; e < set.size(); ++e) total += virtual_nodes * set.weight(e);
  points.reserve(total);
  for (size_t e = 0; e < set.size(); ++e) {
    for (size_t k = 0; k < virtual_nodes * set.weight(e); ++k) {
      points.push_back(Point{pointHash(set.name(e), k), static_cast<uint32_t>(e)});
    }
  }
  // Equal hashes (astronomically rare) are ordered by endpoint name, not index, so that
  // the ring does not depend on the order of the endpoint list.
  std::sort(points.begin(), points.end(), [&set](const Point& a, const Point& b) {
    if (a.hash != b.hash) return a.hash < b.hash;
    return set.name(a.owner) < set.name(b.owner);
  });
  point_hashes_.reserve(points.size());
  point_owners_.reserve(points.size());
  for (const Point& p : points) {
    point_hashes_.push_back(p.hash);
    point_owners_.push_back(p.owner);
  }
}

size_t ConsistentHashBalancer::pick(const PickContext& ctx) {
  const Candidates c = candidates(ctx);
  if (c.forced != kNoEndpoint) return c.forced;

  if (ctx.hash_key.empty()) {
    internal::WorkerWord& word = state_[ctx.worker];
    uint64_t state = word.load();
    const uint64_t bits = internal::xorshift64Star(state);
    word.store(state);
    return nthCandidate(c, internal::uniformBelow(bits, c.count));
  }

  const uint64_t h = hashOf(ctx.hash_key);
  const size_t ring = point_hashes_.size();
  size_t pos = static_cast<size_t>(std::lower_bound(point_hashes_.begin(), point_hashes_.end(), h) -
                                   point_hashes_.begin());
  if (pos == ring) pos = 0;  // past the last point: wrap to the first
  if (c.all) return point_owners_[pos];

  // Walk clockwise to the first candidate. Bounded by the ring size; with k of n
  // endpoints unavailable the expected walk is about n / (n - k) points.
  const EndpointSet& set = *endpoints_;
  for (size_t step = 0, i = pos; step < ring; ++step) {
    if (c.accepts(set, point_owners_[i])) return point_owners_[i];
    i = i + 1 == ring ? 0 : i + 1;
  }
  return point_owners_[pos];  // a health change raced with the pick
}

}  // namespace switchyard::proxy
