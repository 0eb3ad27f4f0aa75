// consistent_hash: a hash ring with virtual nodes (Karger et al.; libketama's layout).
//
// Each endpoint owns `virtual_nodes` points on a 64-bit ring (160 by default, ketama's
// number), at hash("host:port#k") for k in [0, virtual_nodes). A key goes to the owner of
// the first point at or after hash(key), wrapping around; lookup is a binary search over a
// dense array of point hashes (for 10 endpoints: 1600 points, 12.5 KiB, ~11 probes). The
// ring is built once per snapshot and never written afterwards, so every P reads it
// without synchronisation. The hash is FNV-1a + fmix64 (internal/hash.h): stable across
// machines and builds, so every proxy instance maps a key to the same endpoint.
//
// Why a ring and not Maglev:
//   - Minimal disruption, exactly. Points depend only on the endpoint's "host:port", not
//     on its position in the list, so removing one of n endpoints moves exactly the keys
//     it owned (~1/n) and no other key; adding one takes ~1/(n+1) from the others.
//     Maglev's table fill shifts a few percent more keys on every membership change.
//   - Health changes cost nothing. An unhealthy endpoint is skipped by walking clockwise
//     to the next point whose owner is a candidate: its keys spread over the remaining
//     endpoints in proportion to their arcs, and every other key stays where it was.
//     With Maglev, skipping needs a table rebuild per health flip (allocation plus a
//     publication protocol on the data path) or ad-hoc probing that loses its balance.
//   - The price: balance. With 160 points per endpoint an endpoint's share deviates by
//     ~8% (1/sqrt(160)) of the mean, where Maglev stays within ~1%; lookup is O(log(160 n))
//     instead of O(1). Both are small next to an upstream round trip.
//
// A pick with an empty key (the configured header is absent) has nothing to be consistent
// about and draws uniformly among the candidates (per-P xorshift, as random).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "proxy/balancer/balancer.h"
#include "proxy/balancer/internal/per_worker.h"

namespace switchyard::proxy {

class ConsistentHashBalancer final : public Balancer {
 public:
  static constexpr size_t kDefaultVirtualNodes = 160;

  ConsistentHashBalancer(std::shared_ptr<EndpointSet> endpoints, config::HashKey hash_key,
                         uint64_t seed, size_t virtual_nodes = kDefaultVirtualNodes);

  size_t pick(const PickContext& ctx) override;
  config::BalancerKind kind() const override { return config::BalancerKind::kConsistentHash; }
  const config::HashKey* hashKey() const override { return &hash_key_; }

  // The hash a key is looked up by (exposed for tests and debugging endpoints).
  static uint64_t hashOf(std::string_view key);
  size_t ringSize() const { return point_hashes_.size(); }

 private:
  config::HashKey hash_key_;
  // The ring, sorted by hash: point i is at point_hashes_[i] and belongs to endpoint
  // point_owners_[i]. Two arrays so that the binary search touches only hashes.
  std::vector<uint64_t> point_hashes_;
  std::vector<uint32_t> point_owners_;
  internal::PerWorkerWords state_;  // per P: xorshift64* for key-less picks
};

}  // namespace switchyard::proxy
