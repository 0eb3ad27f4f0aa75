#include "proxy/server/buffer_pool.h"

#include <cstdlib>
#include <cstdio>

namespace switchyard::server {

BufferPool::BufferPool(size_t buffer_size, size_t max_free_per_worker)
    : buffer_size_(buffer_size), max_free_(max_free_per_worker) {}

BufferPool::~BufferPool() {
  lists_.forEach([](FreeList& list) {
    for (char* b : list.buffers) std::free(b);
  });
}

BufferPool::FreeList& BufferPool::freeList(int worker) {
  return lists_.get(static_cast<size_t>(worker), [this] {
    auto* fresh = new FreeList();
    fresh->buffers.reserve(max_free_);
    return fresh;
  });
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
