// Task stacks: mmap'd, guard-paged, pooled.
//
// Owns: every stack's memory. A stack is `size` usable bytes above one guard
// page. Stacks are recycled through a per-P cache (no lock) that spills to a
// bounded global pool (one mutex), so steady-state spawning maps nothing.
//
// Guard pages and the VMA limit: an mprotect'ed guard page splits the mapping,
// costing 2 of the kernel's vm.max_map_count (65530 by default) per stack, so
// at most ~30k guarded stacks could be live. Linux >= 6.13 offers
// MADV_GUARD_INSTALL, a guard that does not split the mapping; we use it when
// present. Without it, stacks beyond the VMA budget are mapped unguarded and
// counted (StackStats::unguarded), rather than exhausting the map count and
// making malloc fail for the whole process.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace rt::internal {

struct Stack {
  void* mapping = nullptr;   // start of the mmap (guard page first)
  size_t mapping_size = 0;
  void* bottom = nullptr;    // lowest usable byte
  size_t size = 0;           // usable bytes
  explicit operator bool() const { return mapping != nullptr; }
};

struct StackStats {
  uint64_t mapped = 0;       // stacks currently mapped (in use or pooled)
  uint64_t outside_pool = 0;  // running, parked, or in a per-P cache
  uint64_t unguarded = 0;    // mapped without a guard page (VMA budget)
  const char* guard_method = "";  // "madv_guard", "mprotect"
};

class StackAllocator {
 public:
  explicit StackAllocator(size_t usable_size);
  ~StackAllocator();  // unmaps the pooled stacks; in-use ones must be returned

  size_t usableSize() const { return usable_size_; }

  // Takes a stack from the global pool or maps a new one. Never fails
  // silently: aborts with a message if the kernel refuses memory.
  Stack allocate();
  // Returns a batch of stacks to the global pool; unmaps what exceeds it.
  void release(Stack* stacks, size_t n);
  // Refills `out` with up to n pooled stacks; returns how many.
  size_t takePooled(Stack* out, size_t n);

  StackStats stats() const;

 private:
  Stack mapNew();
  void unmap(const Stack& s);

  const size_t usable_size_;
  const size_t page_size_;
  bool madv_guard_ = false;
  uint64_t mprotect_budget_ = 0;  // guarded stacks allowed via mprotect

  mutable std::mutex mu_;
  std::vector<Stack> pool_;          // guarded by mu_
  std::atomic<uint64_t> mapped_{0};
  std::atomic<uint64_t> in_use_{0};
  std::atomic<uint64_t> unguarded_{0};
  std::atomic<uint64_t> mprotect_guarded_{0};
};

// A processor's private cache of free stacks: LIFO, so the most recently
// used (cache-hot, already faulted-in) stack is reused first.
class StackCache {
 public:
  static constexpr size_t kCapacity = 64;

  Stack get(StackAllocator& alloc);
  void put(StackAllocator& alloc, const Stack& s);
  void drain(StackAllocator& alloc);  // all back to the global pool
  size_t size() const { return n_; }

 private:
  Stack items_[kCapacity];
  size_t n_ = 0;
};

}  // namespace rt::internal
