// Per-worker (per-P) state for the balancers, and the small PRNG they share.
//
// Internal to //proxy/balancer: the layout (one cache line per worker, 256 workers) is an
// implementation choice of the balancers, not an interface.
//
// Why each word is a std::atomic used only with relaxed load and store: on the hot path a
// worker reads and writes its own slot and nobody else's, so there is no read-modify-write
// and no fence -- a relaxed load/store compiles to a plain mov on x86-64 and aarch64. The
// atomic type costs nothing and keeps the program defined even if a caller broke the
// "one P, one slot" precondition (two threads passing the same worker id would see lost
// updates, i.e. a slightly uneven spread, never undefined behaviour or a torn value).
// The alignment keeps two workers' slots off the same cache line, so no line bounces
// between cores (false sharing would make the per-worker design as slow as one shared
// counter).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace switchyard::proxy::internal {

// Worker ids are P ids: config caps runtime.workers at 256 (docs/CONFIG.md), and the
// runtime resizes live, so every balancer has a slot for each possible P.
inline constexpr int kMaxWorkers = 256;
inline constexpr size_t kCacheLineBytes = 64;

struct alignas(kCacheLineBytes) WorkerWord {
  std::atomic<uint64_t> value{0};

  uint64_t load() const { return value.load(std::memory_order_relaxed); }
  void store(uint64_t v) { value.store(v, std::memory_order_relaxed); }
};
static_assert(sizeof(WorkerWord) == kCacheLineBytes);

// kMaxWorkers padded words: 16 KiB per balancer, the price of never sharing a line.
class PerWorkerWords {
 public:
  PerWorkerWords() : words_(new WorkerWord[kMaxWorkers]) {}

  // An id outside [0, kMaxWorkers) is a caller bug; it is wrapped (not trusted) so that
  // it can never index out of bounds.
  WorkerWord& operator[](int worker) {
    return words_[static_cast<unsigned>(worker) % static_cast<unsigned>(kMaxWorkers)];
  }

 private:
  std::unique_ptr<WorkerWord[]> words_;
};

// SplitMix64 (Vigna): turns a seed and a worker id into well-mixed, non-correlated
// starting states.
constexpr uint64_t splitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A non-zero xorshift64* state for `worker` of a balancer seeded with `seed`.
constexpr uint64_t xorshiftSeed(uint64_t seed, int worker) {
  const uint64_t state = splitMix64(seed ^ splitMix64(static_cast<uint64_t>(worker) + 1));
  return state == 0 ? 0x9e3779b97f4a7c15ULL : state;  // 0 is xorshift's one fixed point
}

// xorshift64* (Vigna 2016): one state word, a few shifts and a multiply; plenty for
// spreading load. `state` must be non-zero and stays non-zero.
constexpr uint64_t xorshift64Star(uint64_t& state) {
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545f4914f6cdd1dULL;
}

// A number in [0, n) from 64 random bits, by Lemire's multiply-shift (no division, and a
// bias of at most n / 2^64).
inline size_t uniformBelow(uint64_t random_bits, size_t n) {
  return static_cast<size_t>((static_cast<unsigned __int128>(random_bits) * n) >> 64);
}

// Power of two choices: two distinct ranks in [0, count), uniformly, from the worker's
// generator word (count >= 2). The second is drawn from the count - 1 others.
inline std::pair<size_t, size_t> twoDistinctRanks(WorkerWord& word, size_t count) {
  uint64_t state = word.load();
  const uint64_t bits_a = xorshift64Star(state);
  const uint64_t bits_b = xorshift64Star(state);
  word.store(state);
  const size_t a = uniformBelow(bits_a, count);
  size_t b = uniformBelow(bits_b, count - 1);
  if (b >= a) ++b;
  return {a, b};
}

}  // namespace switchyard::proxy::internal
