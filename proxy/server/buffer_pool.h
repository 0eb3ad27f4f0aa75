// BufferPool: fixed-size I/O buffers recycled per worker.
//
// Owns the memory a connection reads into. A connection holds a buffer only
// while it has a request in flight; between requests it gives the buffer
// back, so 10,000 idle keep-alive connections hold no buffers at all. Each
// worker keeps a bounded free list touched only by Tasks on that worker
// (no lock); beyond it buffers are freed.
#pragma once

#include <cstddef>
#include <vector>

#include "proxy/lazy_per_worker.h"

namespace switchyard::server {

class BufferPool {
 public:
  static constexpr size_t kMaxWorkers = 256;

  BufferPool(size_t buffer_size, size_t max_free_per_worker);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  size_t bufferSize() const { return buffer_size_; }
  // worker: rt::current_worker(); -1 (outside the runtime) bypasses the cache.
  char* get(int worker);
  void put(int worker, char* buffer);

 private:
  struct FreeList {
    std::vector<char*> buffers;
  };
  FreeList& freeList(int worker);

  const size_t buffer_size_;
  const size_t max_free_;
  LazyPerWorker<FreeList, kMaxWorkers> lists_;
};

}  // namespace switchyard::server
