// LocalRunQueue (Go's runq/runnext) on fake Tasks: no runtime needed.
#include "runtime/run_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "runtime/task.h"
#include "tests/unit/runtime/test_util.h"

namespace rt::internal {
namespace {

using rt::testing::scaled;

// N Task structs with id == index; they are never run.
class FakeTasks {
 public:
  explicit FakeTasks(size_t n) : tasks_(new Task[n]), n_(n) {
    for (size_t i = 0; i < n; i++) tasks_[i].id = i;
  }
  Task* operator[](size_t i) { return &tasks_[i]; }
  size_t size() const { return n_; }

 private:
  std::unique_ptr<Task[]> tasks_;
  size_t n_;
};

std::vector<uint64_t> ids(TaskQueue q) {
  std::vector<uint64_t> out;
  while (Task* t = q.popFront()) out.push_back(t->id);
  return out;
}

// Gets until empty; records (id, inherit_time).
std::vector<uint64_t> drainByGet(LocalRunQueue& q, std::vector<bool>* inherit = nullptr) {
  std::vector<uint64_t> out;
  bool inh = false;
  while (Task* t = q.get(inh)) {
    out.push_back(t->id);
    if (inherit != nullptr) inherit->push_back(inh);
  }
  return out;
}

std::vector<uint64_t> range(uint64_t from, uint64_t to) {
  std::vector<uint64_t> v;
  for (uint64_t i = from; i < to; i++) v.push_back(i);
  return v;
}

TEST(LocalRunQueue, EmptyQueueGetsNothing) {
  LocalRunQueue q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  bool inherit = true;
  EXPECT_EQ(q.get(inherit), nullptr);
  EXPECT_FALSE(inherit);
}

TEST(LocalRunQueue, FifoOrder) {
  FakeTasks t(10);
  LocalRunQueue q;
  TaskQueue overflow;
  for (size_t i = 0; i < 10; i++) {
    EXPECT_FALSE(q.put(t[i], /*next=*/false, overflow));
    EXPECT_EQ(q.size(), i + 1);
  }
  EXPECT_FALSE(q.empty());
  std::vector<bool> inherit;
  EXPECT_EQ(drainByGet(q, &inherit), range(0, 10));
  EXPECT_EQ(inherit, std::vector<bool>(10, false));
  EXPECT_TRUE(overflow.empty());
  EXPECT_TRUE(q.empty());
}

TEST(LocalRunQueue, RunnextRunsFirstAndInheritsTimeSlice) {
  FakeTasks t(3);
  LocalRunQueue q;
  TaskQueue overflow;
  q.put(t[0], false, overflow);
  q.put(t[1], false, overflow);
  EXPECT_FALSE(q.put(t[2], /*next=*/true, overflow));
  EXPECT_EQ(q.size(), 3u);
  std::vector<bool> inherit;
  EXPECT_EQ(drainByGet(q, &inherit), (std::vector<uint64_t>{2, 0, 1}));
  EXPECT_EQ(inherit, (std::vector<bool>{true, false, false}));
}

TEST(LocalRunQueue, PutNextKicksOldRunnextToTail) {
  FakeTasks t(4);
  LocalRunQueue q;
  TaskQueue overflow;
  q.put(t[0], false, overflow);
  q.put(t[1], true, overflow);  // runnext = 1
  q.put(t[2], true, overflow);  // runnext = 2, 1 goes behind 0
  q.put(t[3], false, overflow);
  EXPECT_EQ(q.size(), 4u);
  EXPECT_EQ(drainByGet(q), (std::vector<uint64_t>{2, 0, 1, 3}));
  EXPECT_TRUE(overflow.empty());
}

TEST(LocalRunQueue, OverflowMovesHalfPlusNewTaskInFifoOrder) {
  constexpr uint32_t kSize = LocalRunQueue::kSize;
  FakeTasks t(kSize + 1);
  LocalRunQueue q;
  TaskQueue overflow;
  for (uint32_t i = 0; i < kSize; i++) ASSERT_FALSE(q.put(t[i], false, overflow)) << i;
  EXPECT_EQ(q.size(), kSize);
  EXPECT_TRUE(overflow.empty());

  // The 257th put: the oldest 128 plus the new Task go to the overflow batch.
  EXPECT_TRUE(q.put(t[kSize], false, overflow));
  EXPECT_EQ(overflow.size, kSize / 2 + 1);
  std::vector<uint64_t> expected = range(0, kSize / 2);
  expected.push_back(kSize);
  EXPECT_EQ(ids(overflow), expected);
  // The newest 128 stay, still in order.
  EXPECT_EQ(q.size(), kSize / 2);
  EXPECT_EQ(drainByGet(q), range(kSize / 2, kSize));
}

TEST(LocalRunQueue, OverflowThroughRunnextKicksOldRunnextIntoBatch) {
  constexpr uint32_t kSize = LocalRunQueue::kSize;
  FakeTasks t(kSize + 2);
  LocalRunQueue q;
  TaskQueue overflow;
  for (uint32_t i = 0; i < kSize; i++) ASSERT_FALSE(q.put(t[i], false, overflow));
  EXPECT_FALSE(q.put(t[kSize], true, overflow));  // runnext was empty: no overflow
  EXPECT_EQ(q.size(), kSize + 1);
  // The kicked-out runnext (kSize) meets a full ring.
  EXPECT_TRUE(q.put(t[kSize + 1], true, overflow));
  std::vector<uint64_t> expected = range(0, kSize / 2);
  expected.push_back(kSize);
  EXPECT_EQ(ids(overflow), expected);
  std::vector<uint64_t> rest = {kSize + 1};
  for (uint64_t i = kSize / 2; i < kSize; i++) rest.push_back(i);
  EXPECT_EQ(drainByGet(q), rest);
}

TEST(LocalRunQueue, StealTakesHalfRoundedUpAndReturnsOne) {
  for (uint32_t n : {1u, 2u, 3u, 7u, 8u, 128u, 255u, 256u}) {
    SCOPED_TRACE(n);
    FakeTasks t(n);
    LocalRunQueue victim;
    LocalRunQueue thief;
    TaskQueue overflow;
    for (uint32_t i = 0; i < n; i++) victim.put(t[i], false, overflow);
    const uint32_t want = n - n / 2;
    Task* got = thief.stealFrom(victim, /*steal_runnext=*/false, /*victim_running=*/false);
    ASSERT_NE(got, nullptr);
    // The oldest `want` Tasks move; the last of them is returned to run,
    // the others wait in the thief's queue in their original order.
    EXPECT_EQ(got->id, want - 1);
    EXPECT_EQ(thief.size(), want - 1);
    EXPECT_EQ(victim.size(), n - want);
    EXPECT_EQ(drainByGet(thief), range(0, want - 1));
    EXPECT_EQ(drainByGet(victim), range(want, n));
  }
}

TEST(LocalRunQueue, StealFromEmptyVictimGetsNothing) {
  LocalRunQueue victim;
  LocalRunQueue thief;
  EXPECT_EQ(thief.stealFrom(victim, true, false), nullptr);
  EXPECT_EQ(thief.stealFrom(victim, false, false), nullptr);
  EXPECT_TRUE(thief.empty());
}

TEST(LocalRunQueue, RunnextIsStolenOnlyWhenAskedAndRingEmpty) {
  FakeTasks t(2);
  TaskQueue overflow;
  LocalRunQueue victim;
  LocalRunQueue thief;
  victim.put(t[0], /*next=*/true, overflow);

  EXPECT_EQ(thief.stealFrom(victim, /*steal_runnext=*/false, false), nullptr);
  EXPECT_EQ(victim.size(), 1u);

  Task* got = thief.stealFrom(victim, /*steal_runnext=*/true, false);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->id, 0u);
  EXPECT_TRUE(victim.empty());
  EXPECT_TRUE(thief.empty());

  // With Tasks in the ring, the ring is stolen and runnext stays.
  victim.put(t[0], false, overflow);
  victim.put(t[1], true, overflow);
  got = thief.stealFrom(victim, /*steal_runnext=*/true, false);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->id, 0u);
  std::vector<bool> inherit;
  EXPECT_EQ(drainByGet(victim, &inherit), (std::vector<uint64_t>{1}));
  EXPECT_EQ(inherit, (std::vector<bool>{true}));
}

TEST(LocalRunQueue, RunnextStealWithRunningVictimStillSucceeds) {
  // victim_running only adds a short back-off before taking runnext.
  FakeTasks t(1);
  TaskQueue overflow;
  LocalRunQueue victim;
  LocalRunQueue thief;
  victim.put(t[0], true, overflow);
  Task* got = thief.stealFrom(victim, /*steal_runnext=*/true, /*victim_running=*/true);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->id, 0u);
  EXPECT_TRUE(victim.empty());
}

TEST(LocalRunQueue, DrainToTakesRunnextAndRing) {
  FakeTasks t(5);
  TaskQueue overflow;
  LocalRunQueue q;
  for (size_t i = 0; i < 4; i++) q.put(t[i], false, overflow);
  q.put(t[4], true, overflow);
  TaskQueue out;
  q.drainTo(out);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(ids(out), (std::vector<uint64_t>{4, 0, 1, 2, 3}));
  // Draining an empty queue adds nothing.
  TaskQueue none;
  q.drainTo(none);
  EXPECT_TRUE(none.empty());
}

TEST(LocalRunQueue, WrapsAroundTheRingManyTimes) {
  FakeTasks t(LocalRunQueue::kSize);
  LocalRunQueue q;
  TaskQueue overflow;
  uint64_t next_put = 0;
  uint64_t next_get = 0;
  bool inherit = false;
  // Keep ~200 queued while head and tail go round the ring 40 times.
  for (int round = 0; round < 40 * 256; round++) {
    while (next_put - next_get < 200) {
      ASSERT_FALSE(q.put(t[next_put % t.size()], false, overflow));
      next_put++;
    }
    Task* got = q.get(inherit);
    ASSERT_NE(got, nullptr);
    ASSERT_EQ(got->id, next_get % t.size());
    next_get++;
  }
}

// One owner putting (ring and runnext) and getting, two thieves stealing
// into their own queues: every Task must come out exactly once.
TEST(LocalRunQueue, ConcurrentOwnerAndThievesSeeEveryTaskOnce) {
  const size_t n = static_cast<size_t>(scaled(200'000, 10));
  rt::testing::Watchdog dog(std::chrono::seconds(rt::testing::kSanitized ? 50 : 25));
  FakeTasks t(n);
  std::unique_ptr<std::atomic<uint32_t>[]> seen(new std::atomic<uint32_t>[n]);
  for (size_t i = 0; i < n; i++) seen[i].store(0, std::memory_order_relaxed);
  auto mark = [&](Task* task) { seen[task->id].fetch_add(1, std::memory_order_relaxed); };

  LocalRunQueue victim;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> stolen{0};
  std::atomic<uint64_t> overflowed{0};

  auto thief = [&](int which) {
    LocalRunQueue mine;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(40);
    uint64_t iter = 0;
    while (!done.load(std::memory_order_acquire) &&
           std::chrono::steady_clock::now() < give_up) {
      const bool runnext = (iter++ + static_cast<uint64_t>(which)) % 3 == 0;
      if (Task* got = mine.stealFrom(victim, runnext, /*victim_running=*/false)) {
        mark(got);
        stolen.fetch_add(1, std::memory_order_relaxed);
        bool inh;
        while (Task* more = mine.get(inh)) {
          mark(more);
          stolen.fetch_add(1, std::memory_order_relaxed);
        }
      } else {
        std::this_thread::yield();
      }
    }
    EXPECT_TRUE(mine.empty());
  };
  std::thread thief1(thief, 1);
  std::thread thief2(thief, 2);

  std::thread owner([&] {
    TaskQueue overflow;
    bool inh;
    for (size_t i = 0; i < n; i++) {
      if (victim.put(t[i], /*next=*/i % 5 == 0, overflow)) {
        while (Task* o = overflow.popFront()) {
          mark(o);
          overflowed.fetch_add(1, std::memory_order_relaxed);
        }
      }
      // Consume less than we produce so the ring fills up and overflows.
      if (i % 3 == 0) {
        if (Task* got = victim.get(inh)) mark(got);
      }
    }
    while (Task* got = victim.get(inh)) mark(got);
    TaskQueue rest;
    victim.drainTo(rest);
    while (Task* o = rest.popFront()) mark(o);
    done.store(true, std::memory_order_release);
  });
  owner.join();
  thief1.join();
  thief2.join();

  size_t missing = 0;
  size_t duplicated = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t c = seen[i].load(std::memory_order_relaxed);
    if (c == 0) missing++;
    if (c > 1) duplicated++;
  }
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(duplicated, 0u);
  // How much each path was exercised depends on thread timing: informative only.
  std::printf("stolen=%llu overflowed=%llu of %zu\n",
              static_cast<unsigned long long>(stolen.load()),
              static_cast<unsigned long long>(overflowed.load()), n);
}

}  // namespace
}  // namespace rt::internal
