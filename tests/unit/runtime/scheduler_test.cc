// The scheduler through the public API: running Tasks, runnext, fairness of
// the global queue (the every-61st-tick check), spawning at scale, and
// sysmon's preemption requests.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "runtime/runtime.h"
#include "runtime/sync/sync.h"
#include "tests/unit/runtime/harness.h"
#include "tests/unit/runtime/test_util.h"

namespace rt {
namespace {

using namespace std::chrono_literals;
using rt::testing::eventually;
using rt::testing::runTest;
using rt::testing::scaled;
using rt::testing::withWorkers;

TEST(Scheduler, RunExecutesMainAsTaskOneAndReturnsZero) {
  EXPECT_FALSE(rt::inTask());
  EXPECT_EQ(rt::currentTaskId(), 0u);
  bool ran = false;
  bool in_task = false;
  uint64_t id = 0;
  const int rc = runTest(withWorkers(2), [&] {
    ran = true;
    in_task = rt::inTask();
    id = rt::currentTaskId();
  });
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(ran);
  EXPECT_TRUE(in_task);
  EXPECT_EQ(id, 1u);
  EXPECT_FALSE(rt::inTask());
}

TEST(Scheduler, RunCanBeCalledAgainAfterItReturns) {
  for (int i = 0; i < 3; i++) {
    std::atomic<int> n{0};
    runTest(withWorkers(2), [&] {
      rt::WaitGroup wg;
      for (int k = 0; k < 10; k++) {
        wg.add(1);
        rt::go([&] {
          n.fetch_add(1);
          wg.done();
        });
      }
      wg.wait();
    });
    EXPECT_EQ(n.load(), 10);
  }
}

TEST(Scheduler, TaskIdsAreUnique) {
  constexpr int kTasks = 1000;
  std::mutex mu;
  std::set<uint64_t> ids;
  runTest(withWorkers(4), [&] {
    rt::WaitGroup wg;
    for (int i = 0; i < kTasks; i++) {
      wg.add(1);
      rt::go([&] {
        const uint64_t id = rt::currentTaskId();
        {
          std::lock_guard<std::mutex> l(mu);
          ids.insert(id);
        }
        wg.done();
      });
    }
    wg.wait();
  });
  EXPECT_EQ(ids.size(), static_cast<size_t>(kTasks));
  EXPECT_EQ(ids.count(1), 0u);  // 1 is main's
  EXPECT_EQ(ids.count(0), 0u);
}

// runtime.h: a spawned Task goes in the spawner's runnext, so with one P the
// most recent spawn runs first when the spawner blocks, then the older ones
// in FIFO order. A preemption request from sysmon in the middle (it may ask
// a Task that only just started, as Go's retake may) sends main to the
// global queue at its next spawn and changes the order legitimately: such
// an attempt is void and repeated.
TEST(Scheduler, SpawnPutsNewTaskInRunnext) {
  std::vector<std::vector<int>> valid;
  int voided = 0;
  for (int attempt = 0; attempt < 5 && valid.empty(); attempt++) {
    std::vector<int> order;
    bool preempted = false;
    runTest(withWorkers(1), [&] {
      const uint64_t before = rt::snapshot().sysmon_preempt_requests;
      rt::yield();  // clears any request made before
      rt::WaitGroup wg;
      for (int i = 1; i <= 4; i++) {
        wg.add(1);
        rt::go([&, i] {
          order.push_back(i);  // one P: Tasks do not run in parallel
          wg.done();
        });
      }
      preempted = rt::snapshot().sysmon_preempt_requests != before;
      wg.wait();
    });
    if (preempted) {
      voided++;
    } else {
      valid.push_back(order);
    }
  }
  ASSERT_FALSE(valid.empty()) << "every attempt was preempted (" << voided << ")";
  EXPECT_EQ(valid.back(), (std::vector<int>{4, 1, 2, 3}));
}

TEST(Scheduler, YieldRunsOtherTasks) {
  // With one P, two Tasks that yield must interleave.
  std::vector<char> trace;
  runTest(withWorkers(1), [&] {
    rt::WaitGroup wg;
    for (char c : {'a', 'b'}) {
      wg.add(1);
      rt::go([&, c] {
        for (int i = 0; i < 5; i++) {
          trace.push_back(c);
          rt::yield();
        }
        wg.done();
      });
    }
    wg.wait();
  });
  ASSERT_EQ(trace.size(), 10u);
  for (size_t i = 1; i < trace.size(); i++) EXPECT_NE(trace[i], trace[i - 1]) << i;
}

TEST(Scheduler, GoFromOutsideTheRuntimeRuns) {
  std::atomic<int> ran{0};
  std::atomic<bool> outside_in_task{true};
  runTest(withWorkers(2), [&] {
    rt::WaitGroup wg;
    wg.add(3);
    std::thread outside([&] {
      outside_in_task.store(rt::inTask());
      for (int i = 0; i < 3; i++) {
        rt::go([&] {
          ran.fetch_add(1);
          wg.done();
        });
      }
    });
    wg.wait();
    outside.join();
  });
  EXPECT_FALSE(outside_in_task.load());
  EXPECT_EQ(ran.load(), 3);
}

// Go's fairness rule: every 61st scheduling round takes a Task from the
// global queue first, so two Tasks that keep the local queue busy by
// yielding to each other cannot starve a Task submitted from outside (which
// lands in the global queue). Without the rule the outsider only runs once
// the pair stops (after kMaxYields): the test then fails instead of hanging.
TEST(Scheduler, GlobalQueueIsNotStarvedByTasksYieldingToEachOther) {
  constexpr int64_t kMaxYields = 200'000;
  std::atomic<int64_t> yields{0};
  std::atomic<bool> outsider_ran{false};
  std::atomic<int64_t> yields_at_submit{-1};
  std::atomic<int64_t> yields_at_run{-1};
  runTest(withWorkers(1), [&] {
    rt::WaitGroup wg;
    for (int k = 0; k < 2; k++) {
      wg.add(1);
      rt::go([&] {
        while (!outsider_ran.load() && yields.load() < kMaxYields) {
          yields.fetch_add(1);
          rt::yield();
        }
        wg.done();
      });
    }
    // Let the pair get going, then submit from a thread outside the runtime.
    ASSERT_TRUE(eventually([&] { return yields.load() > 1000; }, 5s));
    wg.add(1);
    std::thread outside([&] {
      yields_at_submit.store(yields.load());
      rt::go([&] {
        yields_at_run.store(yields.load());
        outsider_ran.store(true);
        wg.done();
      });
    });
    wg.wait();
    outside.join();
  });
  ASSERT_TRUE(outsider_ran.load());
  const int64_t waited = yields_at_run.load() - yields_at_submit.load();
  std::printf("outsider ran after %lld yields\n", static_cast<long long>(waited));
  // 61 scheduling rounds plus slack for the pair's own bookkeeping.
  EXPECT_LT(waited, 1000) << "the global queue waited for the local pair to stop";
}

TEST(Scheduler, OneMillionTasksComplete) {
  const int64_t kTasks = scaled(1'000'000, 10);
  std::atomic<int64_t> counter{0};
  uint64_t live_after = 0;
  uint64_t spawned = 0;
  runTest(
      withWorkers(2),
      [&] {
        rt::WaitGroup wg;
        wg.add(kTasks);
        for (int64_t i = 0; i < kTasks; i++) {
          rt::go([&] {
            counter.fetch_add(1, std::memory_order_relaxed);
            wg.done();
          });
        }
        wg.wait();
        // A Task that called done() may still be on its way out: its exit is
        // counted once it is back on the scheduler's stack.
        EXPECT_TRUE(eventually([] { return rt::snapshot().tasks_live == 1; }, 5s))
            << "tasks_live=" << rt::snapshot().tasks_live;
        SchedSnapshot s = rt::snapshot();
        live_after = s.tasks_live;
        spawned = s.tasks_spawned;
      },
      120s);
  EXPECT_EQ(counter.load(), kTasks);
  EXPECT_EQ(live_after, 1u);
  EXPECT_EQ(spawned, static_cast<uint64_t>(kTasks) + 1);  // + main
}

TEST(Scheduler, NestedSpawningFromManyTasksCompletes) {
  // Spawns from every P at once (runnext churn, overflow to the global
  // queue, stealing): a tree of 8^5 = 32768 leaves.
  const int kDepth = rt::testing::kSanitized ? 4 : 5;
  std::atomic<int64_t> leaves{0};
  runTest(withWorkers(4), [&] {
    rt::WaitGroup wg;
    std::function<void(int)> spawnTree = [&](int depth) {
      if (depth == 0) {
        leaves.fetch_add(1, std::memory_order_relaxed);
        wg.done();
        return;
      }
      wg.add(8);
      for (int i = 0; i < 8; i++) rt::go([&, depth] { spawnTree(depth - 1); });
      wg.done();
    };
    wg.add(1);
    rt::go([&] { spawnTree(kDepth); });
    wg.wait();
  });
  int64_t expect = 1;
  for (int i = 0; i < kDepth; i++) expect *= 8;
  EXPECT_EQ(leaves.load(), expect);
}

// sysmon asks a Task that ran 10 ms without a scheduling round to yield;
// yield_if_preempted() honours it, and the other Task on the single P runs.
TEST(Scheduler, LongRunningTaskIsAskedToYield) {
  std::atomic<bool> other_ran{false};
  std::atomic<bool> preempted{false};
  std::atomic<int64_t> checks{0};
  uint64_t requests = 0;
  runTest(withWorkers(1), [&] {
    rt::WaitGroup wg;
    wg.add(2);
    rt::go([&] {
      // The other Task waits in this P's runnext while we spin.
      rt::go([&] {
        other_ran.store(true);
        wg.done();
      });
      const auto end = std::chrono::steady_clock::now() + rt::testing::patience(5s);
      while (std::chrono::steady_clock::now() < end && !other_ran.load()) {
        checks.fetch_add(1, std::memory_order_relaxed);
        if (rt::yield_if_preempted()) preempted.store(true);
      }
      wg.done();
    });
    wg.wait();
    requests = rt::snapshot().sysmon_preempt_requests;
  });
  EXPECT_TRUE(other_ran.load());
  EXPECT_TRUE(preempted.load());
  EXPECT_GE(requests, 1u);
}

TEST(Scheduler, YieldIfPreemptedOutsideTaskIsFalse) {
  // Outside any runtime, and from a thread that is not an M of a running one.
  EXPECT_FALSE(rt::yield_if_preempted());
  bool outside = true;
  runTest(withWorkers(1), [&] {
    std::thread t([&] { outside = rt::yield_if_preempted(); });
    t.join();
  });
  EXPECT_FALSE(outside);
}

TEST(Scheduler, SnapshotCountsAndProcessors) {
  SchedSnapshot s;
  runTest(withWorkers(3), [&] { s = rt::snapshot(/*with_tasks=*/true); });
  EXPECT_EQ(s.gomaxprocs, 3);
  ASSERT_EQ(s.processors.size(), 3u);
  for (int i = 0; i < 3; i++) EXPECT_EQ(s.processors[i].id, i);
  EXPECT_GE(s.threads, 1);
  EXPECT_EQ(s.tasks_live, 1u);
  // The caller sees itself running.
  bool found_main = false;
  for (const TaskSnapshot& t : s.tasks) {
    if (t.id == 1) {
      found_main = true;
      EXPECT_EQ(t.status, 2);
    }
  }
  EXPECT_TRUE(found_main);
}

}  // namespace
}  // namespace rt
