#include "proxy/metrics/per_worker_cells.h"

#include <new>

namespace switchyard::proxy::metrics {
namespace {

size_t roundUpToLines(size_t bytes) {
  const size_t lines = (bytes + kCacheLineBytes - 1) / kCacheLineBytes;
  return (lines == 0 ? 1 : lines) * kCacheLineBytes;
}

}  // namespace

PerWorkerCells::PerWorkerCells(size_t cells)
    : cells_(cells), block_bytes_(roundUpToLines(cells * sizeof(Cell))) {}

PerWorkerCells::~PerWorkerCells() {
  for (std::atomic<Cell*>& slot : blocks_) {
    Cell* block = slot.load(std::memory_order_acquire);
    if (block == nullptr) continue;
    // std::atomic<uint64_t> is trivially destructible: no destructor calls needed.
    ::operator delete(block, std::align_val_t{kCacheLineBytes});
  }
}

void PerWorkerCells::reserve(int workers) {
  if (workers > kMaxWorkers) workers = kMaxWorkers;
  for (int w = 0; w < workers; ++w) blockFor(w);
}

PerWorkerCells::Cell* PerWorkerCells::allocateBlock(int index) {
  void* raw = ::operator new(block_bytes_, std::align_val_t{kCacheLineBytes});
  Cell* block = static_cast<Cell*>(raw);
  for (size_t i = 0; i < block_bytes_ / sizeof(Cell); ++i) new (&block[i]) Cell(0);
  // Another thread (reserve() racing the owner's first add()) may have installed one.
  Cell* expected = nullptr;
  if (blocks_[index].compare_exchange_strong(expected, block, std::memory_order_acq_rel,
                                             std::memory_order_acquire)) {
    return block;
  }
  ::operator delete(raw, std::align_val_t{kCacheLineBytes});
  return expected;
}

uint64_t PerWorkerCells::sum(size_t cell) const {
  uint64_t total = 0;
  for (const std::atomic<Cell*>& slot : blocks_) {
    const Cell* block = slot.load(std::memory_order_acquire);
    if (block != nullptr) total += block[cell].load(std::memory_order_relaxed);
  }
  return total;
}

void PerWorkerCells::sumAll(std::vector<uint64_t>& out) const {
  out.assign(cells_, 0);
  for (const std::atomic<Cell*>& slot : blocks_) {
    const Cell* block = slot.load(std::memory_order_acquire);
    if (block == nullptr) continue;
    for (size_t i = 0; i < cells_; ++i) out[i] += block[i].load(std::memory_order_relaxed);
  }
}

int PerWorkerCells::blocksAllocated() const {
  int n = 0;
  for (const std::atomic<Cell*>& slot : blocks_) {
    if (slot.load(std::memory_order_acquire) != nullptr) ++n;
  }
  return n;
}

}  // namespace switchyard::proxy::metrics
