#include "tests/unit/proxy/router/alloc_counter.h"

#include <cstdlib>
#include <new>

namespace switchyard::testing {
namespace {

thread_local bool armed = false;
thread_local size_t count = 0;

void* allocate(size_t size) {
  if (armed) ++count;
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void* allocateAligned(size_t size, std::align_val_t align) {
  if (armed) ++count;
  void* p = nullptr;
  size_t alignment = static_cast<size_t>(align);
  if (alignment < sizeof(void*)) alignment = sizeof(void*);
  if (posix_memalign(&p, alignment, size == 0 ? 1 : size) != 0) throw std::bad_alloc();
  return p;
}

}  // namespace

AllocationScope::AllocationScope() {
  count = 0;
  armed = true;
}
AllocationScope::~AllocationScope() { armed = false; }
size_t AllocationScope::allocations() const { return count; }

}  // namespace switchyard::testing

using switchyard::testing::allocate;
using switchyard::testing::allocateAligned;

void* operator new(size_t size) { return allocate(size); }
void* operator new[](size_t size) { return allocate(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  try {
    return allocate(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  try {
    return allocate(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(size_t size, std::align_val_t align) { return allocateAligned(size, align); }
void* operator new[](size_t size, std::align_val_t align) { return allocateAligned(size, align); }

void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }
