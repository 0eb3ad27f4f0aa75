#include "proxy/server/buffer_pool.h"

#include <cstdlib>
#include <cstdio>

namespace switchyard::server {

BufferPool::BufferPool(size_t buffer_size, size_t max_free_per_worker)
    : buffer_size_(buffer_size), max_free_(max_free_per_worker) {}

BufferPool::~BufferPool() {
  for (auto& slot : lists_) {
    FreeList* list = slot.load(std::memory_order_acquire);
    if (list == nullptr) continue;
    for (char* b : list->buffers) std::free(b);
    delete list;
  }
}

BufferPool::FreeList& BufferPool::freeList(int worker) {
  auto& slot = lists_[static_cast<size_t>(worker) % kMaxWorkers];
  FreeList* list = slot.load(std::memory_order_acquire);
  if (list == nullptr) {
    auto* fresh = new FreeList();
    fresh->buffers.reserve(max_free_);
    if (slot.compare_exchange_strong(list, fresh, std::memory_order_acq_rel)) {
      list = fresh;
    } else {
      delete fresh;  // another Task on this worker won the race
    }
  }
  return *list;
}

char* BufferPool::get(int worker) {
  if (worker >= 0) {
    FreeList& list = freeList(worker);
    if (!list.buffers.empty()) {
      char* b = list.buffers.back();
      list.buffers.pop_back();
      return b;
    }
  }
  void* b = std::malloc(buffer_size_);
  if (b == nullptr) {
    std::fprintf(stderr, "switchyard: out of memory for a %zu-byte buffer\n", buffer_size_);
    std::abort();
  }
  return static_cast<char*>(b);
}

void BufferPool::put(int worker, char* buffer) {
  if (buffer == nullptr) return;
  if (worker >= 0) {
    FreeList& list = freeList(worker);
    if (list.buffers.size() < max_free_) {
      list.buffers.push_back(buffer);
      return;
    }
  }
  std::free(buffer);
}

}  // namespace switchyard::server
