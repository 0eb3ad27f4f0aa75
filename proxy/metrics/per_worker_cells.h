// PerWorkerCells: counters that the request path bumps without a lock or a shared write.
//
// Why: a proxy request touches half a dozen counters. One shared atomic per counter
// would make every worker (P) bounce the same cache lines between cores on every
// request; a lock would be worse. Instead each worker owns a private block of cells and
// is the only thread that writes it; a scrape adds the blocks up. This is the per-P
// counter pattern of Go's runtime (p.gcAssistTime, mcache stats) and of Envoy's
// thread-local stats, reduced to plain arrays.
//
// Ownership and concurrency, per cell:
//   - Worker w (0 <= w < kMaxWorkers) is the single writer of block w. A Task may move
//     to another worker at a park point, but every call passes the worker the caller
//     runs on *now* (rt::current_worker()), and a worker runs one Task at a time, so a
//     block never has two writers at once. A single writer needs no read-modify-write:
//     add() is a relaxed load plus a relaxed store (two plain `mov`s on x86-64), never a
//     `lock`-prefixed instruction.
//   - Callers that are not on a worker (worker < 0 or >= kMaxWorkers: an admin thread,
//     a test, code outside rt::run) share one extra block and use fetch_add there, so
//     they are correct, only slower.
//   - Readers (a scrape, any thread) load cells with relaxed atomics while writers run.
//     Each value read is one the cell really held; the set of values is not one instant
//     (as Go's schedtrace), which a monotonic counter tolerates.
//
// Memory: a block is cells() * 8 bytes rounded up to whole 64-byte cache lines and
// aligned to one, so two workers never write the same line (no false sharing). Blocks
// are allocated the first time a worker writes, or up front by reserve(n) — a proxy
// reserves rt::workers() blocks when it builds its stats, so the request path normally
// never allocates; a worker added later by rt::set_workers() allocates its block once,
// on its first write. Blocks live until the PerWorkerCells is destroyed.
//
// Gauges that go up and down (connections in use) are stored as deltas: add() with a
// negative int64 cast to uint64. Each block wraps modulo 2^64 and the sum of the blocks
// is the true value modulo 2^64, so a connection opened on worker 3 and closed on
// worker 5 still sums to zero (read it back with asSigned(sum(cell))).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace switchyard::proxy::metrics {

// The runtime's largest P count (rt::internal::kMaxProcs): worker ids are below it.
inline constexpr int kMaxWorkers = 256;
inline constexpr size_t kCacheLineBytes = 64;

class PerWorkerCells {
 public:
  using Cell = std::atomic<uint64_t>;

  // `cells` counters per worker, all zero. Allocates nothing yet.
  explicit PerWorkerCells(size_t cells);
  ~PerWorkerCells();
  PerWorkerCells(const PerWorkerCells&) = delete;
  PerWorkerCells& operator=(const PerWorkerCells&) = delete;

  size_t cells() const { return cells_; }

  // Allocates the blocks of workers [0, workers) now, so that their first add() does
  // not. Thread-safe; may race with add().
  void reserve(int workers);

  // cell += delta, for worker `worker`. `cell` < cells(). No lock, no RMW on a worker's
  // own block; allocates only on a worker's very first write (see reserve()).
  void add(int worker, size_t cell, uint64_t delta) {
    if (static_cast<unsigned>(worker) < static_cast<unsigned>(kMaxWorkers)) [[likely]] {
      Cell& c = blockFor(worker)[cell];
      c.store(c.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
    } else {
      blockFor(kMaxWorkers)[cell].fetch_add(delta, std::memory_order_relaxed);
    }
  }

  // Two cells of one block (a histogram bucket and its sum): one block lookup.
  void add2(int worker, size_t cell_a, uint64_t delta_a, size_t cell_b, uint64_t delta_b) {
    if (static_cast<unsigned>(worker) < static_cast<unsigned>(kMaxWorkers)) [[likely]] {
      Cell* block = blockFor(worker);
      block[cell_a].store(block[cell_a].load(std::memory_order_relaxed) + delta_a,
                          std::memory_order_relaxed);
      block[cell_b].store(block[cell_b].load(std::memory_order_relaxed) + delta_b,
                          std::memory_order_relaxed);
    } else {
      Cell* block = blockFor(kMaxWorkers);
      block[cell_a].fetch_add(delta_a, std::memory_order_relaxed);
      block[cell_b].fetch_add(delta_b, std::memory_order_relaxed);
    }
  }

  // The sum of `cell` over every block (modulo 2^64).
  uint64_t sum(size_t cell) const;
  // sum() of every cell, into out[0, cells()). One pass over each block.
  void sumAll(std::vector<uint64_t>& out) const;
  // Blocks allocated so far (for tests and /debug).
  int blocksAllocated() const;

  static int64_t asSigned(uint64_t v) { return static_cast<int64_t>(v); }

 private:
  Cell* blockFor(int index) {
    Cell* block = blocks_[index].load(std::memory_order_acquire);
    if (block != nullptr) [[likely]] return block;
    return allocateBlock(index);
  }
  Cell* allocateBlock(int index);

  const size_t cells_;
  const size_t block_bytes_;
  // [kMaxWorkers] is the shared block of callers that are not on a worker.
  std::atomic<Cell*> blocks_[kMaxWorkers + 1] = {};
};

}  // namespace switchyard::proxy::metrics
