#include "runtime/internal/stack.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102  // Linux 6.13 uapi value
#endif

namespace rt::internal {
namespace {

// Stacks kept in the global pool beyond the per-P caches. Above this, freed
// stacks go back to the kernel so a spike of live tasks does not pin memory.
constexpr size_t kGlobalPoolMax = 4096;

uint64_t readMaxMapCount() {
  std::ifstream f("/proc/sys/vm/max_map_count");
  uint64_t v = 0;
  if (f >> v) return v;
  return 65530;
}

}  // namespace

StackAllocator::StackAllocator(size_t usable_size)
    : usable_size_(usable_size), page_size_(static_cast<size_t>(sysconf(_SC_PAGESIZE))) {
  // Probe MADV_GUARD_INSTALL once on a throwaway mapping.
  void* probe = mmap(nullptr, 2 * page_size_, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (probe != MAP_FAILED) {
    madv_guard_ = madvise(probe, page_size_, MADV_GUARD_INSTALL) == 0;
    munmap(probe, 2 * page_size_);
  }
  // Leave half of the map-count budget to malloc, thread stacks and files.
  const uint64_t max_maps = readMaxMapCount();
  mprotect_budget_ = max_maps / 4;
}

StackAllocator::~StackAllocator() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& s : pool_) unmap(s);
  pool_.clear();
}

Stack StackAllocator::mapNew() {
  const size_t total = usable_size_ + page_size_;
  void* p = mmap(nullptr, total, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (p == MAP_FAILED) {
    std::fprintf(stderr, "switchyard runtime: cannot map a %zu-byte task stack: %s\n", total,
                 std::strerror(errno));
    std::abort();
  }
  bool guarded = false;
  if (madv_guard_) {
    guarded = madvise(p, page_size_, MADV_GUARD_INSTALL) == 0;
  }
  if (!guarded && mprotect_guarded_.load(std::memory_order_relaxed) < mprotect_budget_) {
    if (mprotect(p, page_size_, PROT_NONE) == 0) {
      guarded = true;
      mprotect_guarded_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (!guarded) unguarded_.fetch_add(1, std::memory_order_relaxed);
  mapped_.fetch_add(1, std::memory_order_relaxed);
  Stack s;
  s.mapping = p;
  s.mapping_size = total;
  s.bottom = static_cast<char*>(p) + page_size_;
  s.size = usable_size_;
  return s;
}

void StackAllocator::unmap(const Stack& s) {
  munmap(s.mapping, s.mapping_size);
  mapped_.fetch_sub(1, std::memory_order_relaxed);
  // A stack's guard kind is not recorded; the budget is approximate by
  // design and only ever errs towards fewer mprotect guards.
}

Stack StackAllocator::allocate() {
  in_use_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!pool_.empty()) {
      Stack s = pool_.back();
      pool_.pop_back();
      return s;
    }
  }
  return mapNew();
}

void StackAllocator::release(Stack* stacks, size_t n) {
  in_use_.fetch_sub(n, std::memory_order_relaxed);
  size_t kept = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (kept < n && pool_.size() < kGlobalPoolMax) pool_.push_back(stacks[kept++]);
  }
  for (size_t i = kept; i < n; i++) unmap(stacks[i]);
}

size_t StackAllocator::takePooled(Stack* out, size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t got = 0;
  while (got < n && !pool_.empty()) {
    out[got++] = pool_.back();
    pool_.pop_back();
  }
  in_use_.fetch_add(got, std::memory_order_relaxed);
  return got;
}

StackStats StackAllocator::stats() const {
  StackStats st;
  st.mapped = mapped_.load(std::memory_order_relaxed);
  st.outside_pool = in_use_.load(std::memory_order_relaxed);
  st.unguarded = unguarded_.load(std::memory_order_relaxed);
  st.guard_method = madv_guard_ ? "madv_guard" : "mprotect";
  return st;
}

Stack StackCache::get(StackAllocator& alloc) {
  if (n_ == 0) {
    // Refill half the cache in one lock acquisition.
    n_ = alloc.takePooled(items_, kCapacity / 2);
    if (n_ == 0) return alloc.allocate();
  }
  return items_[--n_];
}

void StackCache::put(StackAllocator& alloc, const Stack& s) {
  if (n_ == kCapacity) {
    // Spill the older (colder) half; keep the hot top.
    alloc.release(items_, kCapacity / 2);
    std::memmove(items_, items_ + kCapacity / 2, (kCapacity / 2) * sizeof(Stack));
    n_ = kCapacity / 2;
  }
  items_[n_++] = s;
}

void StackCache::drain(StackAllocator& alloc) {
  alloc.release(items_, n_);
  n_ = 0;
}

}  // namespace rt::internal
