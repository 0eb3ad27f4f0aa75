// rt::lock_os_thread(): a Task wired to its thread keeps it across every
// reschedule, and no other Task runs on that thread meanwhile.
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "runtime/runtime.h"
#include "runtime/sync/chan.h"
#include "runtime/sync/sync.h"
#include "tests/unit/runtime/harness.h"
#include "tests/unit/runtime/test_util.h"

namespace rt {
namespace {

using namespace std::chrono_literals;
using rt::testing::eventually;
using rt::testing::runTest;
using rt::testing::withWorkers;

pid_t threadId() { return static_cast<pid_t>(syscall(SYS_gettid)); }

// The M (thread) snapshot that reports `task_id` as its locked Task, or -1.
int64_t machineLockedTo(uint64_t task_id) {
  for (const MachineSnapshot& m : rt::snapshot().machines) {
    if (m.lockedg == static_cast<int64_t>(task_id)) return m.id;
  }
  return -1;
}

TEST(LockOsThread, LockedTaskKeepsItsThreadAndOwnsIt) {
  constexpr int kRounds = 40;
  constexpr int kOthers = 4;
  std::atomic<pid_t> locked_tid{0};
  std::atomic<bool> locked_period{false};
  std::atomic<int> moved{0};          // locked Task seen on another thread
  std::atomic<int> intruders{0};      // other Task seen on the locked thread
  std::atomic<int64_t> other_samples{0};
  bool lock_visible = false;
  runTest(withWorkers(2), [&] {
    rt::Chan<int> ping;
    rt::Chan<int> pong;
    rt::WaitGroup wg;
    std::atomic<bool> stop{false};
    // Echo Task for channel round trips.
    wg.add(1);
    rt::go([&] {
      while (std::optional<int> v = ping.recv()) pong.send(*v);
      wg.done();
    });
    // Other Tasks: sample their thread while the lock is held.
    wg.add(kOthers);
    for (int i = 0; i < kOthers; i++) {
      rt::go([&] {
        while (!stop.load()) {
          // No scheduling point between the flag check and gettid: if the
          // flag is set here, the locked Task owns its thread right now.
          if (locked_period.load()) {
            other_samples.fetch_add(1);
            if (threadId() == locked_tid.load()) intruders.fetch_add(1);
          }
          rt::sleep_for(50us);
          rt::yield();
        }
        wg.done();
      });
    }
    wg.add(1);
    rt::go([&] {
      rt::lock_os_thread();
      const pid_t tid = threadId();
      locked_tid.store(tid);
      locked_period.store(true);
      lock_visible = machineLockedTo(rt::currentTaskId()) >= 0;
      for (int i = 0; i < kRounds; i++) {
        switch (i % 4) {
          case 0: rt::sleep_for(1ms); break;
          case 1: rt::yield(); break;
          case 2: ping.send(i); pong.recv(); break;
          case 3: rt::blocking([] { usleep(200); }); break;
        }
        if (threadId() != tid) moved.fetch_add(1);
      }
      locked_period.store(false);
      rt::unlock_os_thread();
      // Unlocked: it may now move; nothing to assert.
      rt::yield();
      wg.done();
    });
    EXPECT_TRUE(eventually([&] { return locked_tid.load() != 0 && !locked_period.load(); },
                           10s));
    stop.store(true);
    ping.close();
    wg.wait();
  });
  EXPECT_TRUE(lock_visible);
  EXPECT_EQ(moved.load(), 0);
  EXPECT_EQ(intruders.load(), 0);
  EXPECT_GT(other_samples.load(), 0);  // the others did run meanwhile
}

TEST(LockOsThread, NestedLocksNeedMatchingUnlocks) {
  int64_t after_two_locks = -1, after_one_unlock = -1, after_two_unlocks = 0;
  bool stayed = true;
  runTest(withWorkers(2), [&] {
    rt::WaitGroup wg;
    std::atomic<bool> stop{false};
    // Busy neighbours, so an unlocked Task would soon change threads.
    wg.add(3);
    for (int i = 0; i < 3; i++) {
      rt::go([&] {
        while (!stop.load()) rt::sleep_for(50us);
        wg.done();
      });
    }
    wg.add(1);
    rt::go([&] {
      const uint64_t me = rt::currentTaskId();
      rt::lock_os_thread();
      rt::lock_os_thread();
      after_two_locks = machineLockedTo(me);
      rt::unlock_os_thread();
      after_one_unlock = machineLockedTo(me);
      const pid_t tid = threadId();
      for (int i = 0; i < 40; i++) {
        if (i % 2 == 0) rt::sleep_for(200us); else rt::yield();
        if (threadId() != tid) stayed = false;
      }
      rt::unlock_os_thread();
      after_two_unlocks = machineLockedTo(me);
      rt::unlock_os_thread();  // extra unlock: a no-op
      stop.store(true);
      wg.done();
    });
    wg.wait();
  });
  EXPECT_GE(after_two_locks, 0);
  EXPECT_EQ(after_one_unlock, after_two_locks);  // still locked, same M
  EXPECT_TRUE(stayed);
  EXPECT_EQ(after_two_unlocks, -1);
}

TEST(LockOsThread, TaskExitingWhileLockedTakesItsThread) {
  // M0 (the thread that called rt::run) is kept when a locked Task exits on
  // it, as Go keeps m0; any other thread ends. Spawn until the Task runs
  // somewhere other than M0.
  pid_t tid = 0;
  bool thread_gone = false;
  std::atomic<int> later_on_that_thread{0};
  runTest(withWorkers(2), [&] {
    // Main keeps its own thread out of the pool meanwhile.
    rt::lock_os_thread();
    for (int attempt = 0; attempt < 200 && tid == 0; attempt++) {
      std::atomic<pid_t> locked_tid{0};
      rt::WaitGroup wg;
      // A few at once, so that they spread over the Ps' threads.
      wg.add(4);
      for (int k = 0; k < 4; k++) {
        rt::go([&] {
          rt::sleep_for(100us);  // wake up on whichever thread runs the timer
          pid_t none = 0;
          if (threadId() != getpid() && locked_tid.compare_exchange_strong(none, threadId())) {
            rt::lock_os_thread();
          }
          wg.done();
          // The one that locked exits still locked.
        });
      }
      wg.wait();
      tid = locked_tid.load();
    }
    rt::unlock_os_thread();
    if (tid == 0) return;
    const std::string path = "/proc/self/task/" + std::to_string(tid);
    thread_gone = eventually(
        [&] {
          struct stat st;
          return stat(path.c_str(), &st) != 0;
        },
        5s);
    rt::WaitGroup after;
    after.add(50);
    for (int i = 0; i < 50; i++) {
      rt::go([&] {
        if (threadId() == tid) later_on_that_thread.fetch_add(1);
        rt::yield();
        if (threadId() == tid) later_on_that_thread.fetch_add(1);
        after.done();
      });
    }
    after.wait();
  });
  if (tid == 0) GTEST_SKIP() << "the Task always ran on M0";
  EXPECT_TRUE(thread_gone) << "thread " << tid << " still exists";
  EXPECT_EQ(later_on_that_thread.load(), 0);
}

TEST(LockOsThread, MainTaskCanLock) {
  bool stayed = true;
  runTest(withWorkers(2), [&] {
    rt::lock_os_thread();
    const pid_t tid = threadId();
    rt::WaitGroup wg;
    wg.add(4);
    for (int i = 0; i < 4; i++) {
      rt::go([&] {
        for (int k = 0; k < 20; k++) rt::sleep_for(100us);
        wg.done();
      });
    }
    for (int i = 0; i < 20; i++) {
      rt::sleep_for(100us);
      if (threadId() != tid) stayed = false;
    }
    wg.wait();
    if (threadId() != tid) stayed = false;
    rt::unlock_os_thread();
  });
  EXPECT_TRUE(stayed);
}

}  // namespace
}  // namespace rt
