// Task stacks: StackAllocator/StackCache (mmap'd, guard-paged, pooled), and
// the guard page of a running Task's stack.
#include "runtime/internal/stack.h"

#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <vector>

#include "runtime/runtime.h"
#include "tests/unit/runtime/harness.h"
#include "tests/unit/runtime/test_util.h"

namespace rt::internal {
namespace {

const size_t kPage = static_cast<size_t>(sysconf(_SC_PAGESIZE));

TEST(StackAllocator, AllocateGivesUsableBytesAboveOneGuardPage) {
  StackAllocator alloc(64 * 1024);
  EXPECT_EQ(alloc.usableSize(), 64u * 1024);
  Stack s = alloc.allocate();
  ASSERT_TRUE(s);
  EXPECT_EQ(s.size, 64u * 1024);
  EXPECT_EQ(s.mapping_size, 64u * 1024 + kPage);
  EXPECT_EQ(static_cast<char*>(s.bottom), static_cast<char*>(s.mapping) + kPage);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(s.bottom) % kPage, 0u);
  StackStats st = alloc.stats();
  EXPECT_EQ(st.mapped, 1u);
  EXPECT_EQ(st.outside_pool, 1u);
  EXPECT_EQ(st.unguarded, 0u);
  std::printf("guard method: %s\n", st.guard_method);
  alloc.release(&s, 1);
}

TEST(StackAllocator, WholeUsableStackIsWritable) {
  StackAllocator alloc(128 * 1024);
  Stack s = alloc.allocate();
  auto* p = static_cast<unsigned char*>(s.bottom);
  std::memset(p, 0x5A, s.size);
  size_t bad = 0;
  for (size_t i = 0; i < s.size; i++) bad += p[i] != 0x5A;
  EXPECT_EQ(bad, 0u);
  alloc.release(&s, 1);
}

TEST(StackAllocator, ReleasedStacksAreReused) {
  StackAllocator alloc(64 * 1024);
  Stack a = alloc.allocate();
  Stack b = alloc.allocate();
  EXPECT_NE(a.mapping, b.mapping);
  EXPECT_EQ(alloc.stats().mapped, 2u);
  void* a_mapping = a.mapping;
  alloc.release(&a, 1);
  EXPECT_EQ(alloc.stats().outside_pool, 1u);
  EXPECT_EQ(alloc.stats().mapped, 2u);  // pooled, not unmapped
  Stack c = alloc.allocate();
  EXPECT_EQ(c.mapping, a_mapping);      // from the pool
  EXPECT_EQ(alloc.stats().mapped, 2u);
  Stack batch[2] = {b, c};
  alloc.release(batch, 2);
  EXPECT_EQ(alloc.stats().outside_pool, 0u);
  Stack out[4];
  EXPECT_EQ(alloc.takePooled(out, 4), 2u);
  EXPECT_EQ(alloc.stats().outside_pool, 2u);
  alloc.release(out, 2);
}

TEST(StackAllocator, ManyStacksAreAllGuardedAndDistinct) {
  StackAllocator alloc(16 * 1024);
  std::vector<Stack> stacks;
  std::set<void*> seen;
  for (int i = 0; i < 200; i++) {
    stacks.push_back(alloc.allocate());
    seen.insert(stacks.back().mapping);
  }
  EXPECT_EQ(seen.size(), 200u);
  EXPECT_EQ(alloc.stats().unguarded, 0u);
  alloc.release(stacks.data(), stacks.size());
}

TEST(StackCache, LifoReuseSpillAndDrain) {
  StackAllocator alloc(16 * 1024);
  StackCache cache;
  Stack s = cache.get(alloc);
  void* first = s.mapping;
  cache.put(alloc, s);
  EXPECT_EQ(cache.size(), 1u);
  Stack again = cache.get(alloc);
  EXPECT_EQ(again.mapping, first);  // most recently used first
  cache.put(alloc, again);

  // Over capacity: the colder half spills to the allocator's pool.
  std::vector<Stack> many;
  for (size_t i = 0; i < StackCache::kCapacity + 1; i++) many.push_back(alloc.allocate());
  for (const Stack& m : many) cache.put(alloc, m);
  EXPECT_LE(cache.size(), StackCache::kCapacity);
  EXPECT_EQ(alloc.stats().mapped, StackCache::kCapacity + 2);
  cache.drain(alloc);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(alloc.stats().outside_pool, 0u);
}

// The guard page really guards: a write just below `bottom` faults.
TEST(StackAllocatorDeathTest, ByteBelowBottomIsAGuard) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        StackAllocator alloc(64 * 1024);
        Stack s = alloc.allocate();
        static_cast<volatile char*>(s.bottom)[0] = 1;   // fine
        static_cast<volatile char*>(s.bottom)[-1] = 1;  // guard page
        std::fprintf(stderr, "guard page did not fault\n");
        std::_Exit(0);
      },
      "");
}

// A pooled (released and reused) stack keeps its guard.
TEST(StackAllocatorDeathTest, ReusedStackKeepsItsGuard) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        StackAllocator alloc(64 * 1024);
        Stack s = alloc.allocate();
        alloc.release(&s, 1);
        Stack t = alloc.allocate();
        static_cast<volatile char*>(t.bottom)[-1] = 1;
        std::_Exit(0);
      },
      "");
}

// In the runtime: a Task may use (nearly) all of opts.stack_size...
TEST(TaskStack, TaskCanUseItsWholeStackSize) {
  rt::Options opts = rt::testing::withWorkers(1);
  opts.stack_size = 256 * 1024;
  size_t used = 0;
  rt::testing::runTest(opts, [&] {
    volatile char buf[192 * 1024];
    std::memset(const_cast<char*>(buf), 1, sizeof buf);
    for (size_t i = 0; i < sizeof buf; i += 4096) used += buf[i];
    used *= 4096;
  });
  EXPECT_EQ(used, 192u * 1024);
}

// ... and overflowing it hits the guard page instead of corrupting memory.
[[gnu::noinline]] int recurse(int depth) {
  volatile char frame[1024];
  frame[0] = static_cast<char>(depth);
  if (depth == 0) return frame[0];
  return recurse(depth - 1) + frame[0];
}

TEST(TaskStackDeathTest, OverflowHitsTheGuardPage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        rt::Options opts = rt::testing::withWorkers(1);
        opts.stack_size = 64 * 1024;
        rt::run(opts, [] {
          // ~1 MiB of frames on a 64 KiB stack.
          std::printf("%d\n", recurse(1000));
        });
        std::fprintf(stderr, "overflow did not fault\n");
        std::_Exit(0);
      },
      "");
}

}  // namespace
}  // namespace rt::internal
