// The 64-bit hash of consistent_hash: FNV-1a over the bytes, then MurmurHash3's fmix64
// finaliser.
//
// FNV-1a alone is cheap and stable across machines and compilers (the same key must land
// on the same endpoint in every proxy instance, or a fleet of proxies would not agree),
// but its high bits avalanche poorly for keys that differ only in their last bytes
// ("10.0.0.1" vs "10.0.0.2"), and the ring is ordered by the whole 64-bit value. fmix64 is a
// bijection that spreads every input bit over the output, fixing that for the price of two
// multiplies. Not a defence against chosen keys (an attacker who controls the header can
// aim at one endpoint with any unkeyed hash; a keyed hash would break cross-instance
// agreement).
#pragma once

#include <cstdint>
#include <string_view>

namespace switchyard::proxy::internal {

inline constexpr uint64_t kFnv64Offset = 14695981039346656037ULL;
inline constexpr uint64_t kFnv64Prime = 1099511628211ULL;

constexpr uint64_t fnv1a64(std::string_view bytes, uint64_t hash = kFnv64Offset) {
  for (char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= kFnv64Prime;
  }
  return hash;
}

constexpr uint64_t fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

constexpr uint64_t hashKey(std::string_view key) { return fmix64(fnv1a64(key)); }

}  // namespace switchyard::proxy::internal
