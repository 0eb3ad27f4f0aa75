// rt::set_workers(): resizing the set of Ps live (Go's procresize). Removed
// Ps hand their queued Tasks and timers to the others; no Task is lost.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

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
using rt::testing::scaled;
using rt::testing::withWorkers;
using Clock = std::chrono::steady_clock;

// Busy-waits without a scheduling point (the Task keeps its P).
void spinFor(std::chrono::microseconds d) {
  const auto end = Clock::now() + d;
  while (Clock::now() < end) {
  }
}

// Records how many Tasks run at once (each Task between enter and leave
// holds a P, so this never exceeds the number of Ps in service).
struct Concurrency {
  std::atomic<int> running{0};
  std::atomic<int> max_seen{0};
  std::atomic<bool> measuring{false};
  void enter() {
    const int now = running.fetch_add(1) + 1;
    if (!measuring.load()) return;
    int prev = max_seen.load();
    while (now > prev && !max_seen.compare_exchange_weak(prev, now)) {
    }
  }
  void leave() { running.fetch_sub(1); }
  void startMeasuring() {
    max_seen.store(0);
    measuring.store(true);
  }
  int stopMeasuring() {
    measuring.store(false);
    return max_seen.load();
  }
};

TEST(Resize, WorkersUpAndDownUnderLoad) {
  constexpr int kWorkers = 8;
  const int kBurst = static_cast<int>(scaled(200, 4));
  std::atomic<int64_t> spawned{0};
  std::atomic<int64_t> completed{0};
  std::atomic<int64_t> worker_steps{0};
  std::vector<std::pair<int, int>> reported;  // (asked, workers())
  std::vector<std::pair<int, int>> snap;      // (gomaxprocs, processors.size())
  int max_with_one = -1;
  int max_with_four = -1;
  bool all_done = false;
  Concurrency conc;
  // Shared with the Tasks, so declared outside rt::run: on a failure path
  // main returns without joining them and they must not outlive these.
  std::atomic<bool> stop{false};
  rt::WaitGroup workers;
  rt::WaitGroup bursts;
  rt::Chan<int> work(4);

  runTest(
      withWorkers(2),
      [&] {
        // Long-lived Tasks, two of each kind: yielders (always runnable, so
        // a P never runs out of work and must be retired while busy),
        // sleepers, channel senders and receivers. Each step starts with a
        // short spin counted for the concurrency check.
        workers.add(kWorkers);
        for (int i = 0; i < kWorkers; i++) {
          rt::go([&, i] {
            while (!stop.load()) {
              conc.enter();
              spinFor(20us);
              conc.leave();
              switch (i % 4) {
                case 0: rt::yield(); break;
                case 1: rt::sleep_for(std::chrono::microseconds(100 + 50 * i)); break;
                case 2: work.send(i); break;  // close() at the end releases
                case 3: {                     // whoever is blocked
                  std::optional<int> v = work.recv();
                  (void)v;
                  break;
                }
              }
              worker_steps.fetch_add(1);
            }
            workers.done();
          });
        }
        // Short-lived Tasks spawned in bursts during each phase.
        auto burst = [&] {
          for (int k = 0; k < kBurst; k++) {
            bursts.add(1);
            spawned.fetch_add(1);
            rt::go([&, k] {
              if (k % 3 == 0) rt::sleep_for(200us);
              if (k % 3 == 1) rt::yield();
              completed.fetch_add(1);
              bursts.done();
            });
          }
        };

        for (int n : {4, 1, 3, 2}) {
          rt::set_workers(n);
          reported.emplace_back(n, rt::workers());
          SchedSnapshot s = rt::snapshot();
          snap.emplace_back(s.gomaxprocs, static_cast<int>(s.processors.size()));
          burst();
          rt::sleep_for(30ms);
          if (n == 1) {
            // Ps beyond 1 retire at their next scheduling round; the
            // workers reach one every few microseconds. Then at most one
            // Task runs at a time.
            rt::sleep_for(rt::testing::patience(50ms));
            conc.startMeasuring();
            rt::sleep_for(100ms);
            max_with_one = conc.stopMeasuring();
          }
          if (n == 4) {
            // New Ps are put to work: the workers spread out.
            conc.startMeasuring();
            eventually([&] { return conc.max_seen.load() >= 2; }, 3s);
            max_with_four = conc.stopMeasuring();
          }
          burst();
        }
        // Every spawned Task completes (bounded: a lost Task fails the test).
        all_done = eventually([&] { return completed.load() == spawned.load(); }, 10s);
        stop.store(true);
        work.close();
        if (all_done) {
          bursts.wait();
          workers.wait();
        }
      });

  ASSERT_EQ(reported.size(), 4u);
  for (auto& [asked, got] : reported) EXPECT_EQ(got, asked);
  const int asked[] = {4, 1, 3, 2};
  for (size_t i = 0; i < snap.size(); i++) {
    EXPECT_EQ(snap[i].first, asked[i]);
    EXPECT_EQ(snap[i].second, asked[i]);
  }
  EXPECT_TRUE(all_done) << completed.load() << " of " << spawned.load() << " completed";
  EXPECT_EQ(completed.load(), spawned.load());
  EXPECT_GT(worker_steps.load(), 0);
  EXPECT_EQ(max_with_one, 1) << "more Tasks ran at once than there are Ps";
  EXPECT_GE(max_with_four, 2) << "grown Ps were never used";
}

TEST(Resize, SnapshotReportsOnlyPsInService) {
  std::vector<std::vector<int>> ids;
  runTest(withWorkers(2), [&] {
    for (int n : {5, 1, 3}) {
      rt::set_workers(n);
      // Give retiring Ps a moment; the snapshot must list exactly 0..n-1.
      EXPECT_TRUE(eventually(
          [&] { return static_cast<int>(rt::snapshot().processors.size()) == n; }, 2s));
      std::vector<int> v;
      for (const ProcessorSnapshot& p : rt::snapshot().processors) v.push_back(p.id);
      ids.push_back(v);
    }
  });
  EXPECT_EQ(ids, (std::vector<std::vector<int>>{{0, 1, 2, 3, 4}, {0}, {0, 1, 2}}));
}

TEST(Resize, ClampsToAtLeastOne) {
  int after_zero = 0, after_negative = 0;
  runTest(withWorkers(2), [&] {
    rt::set_workers(0);
    after_zero = rt::workers();
    rt::set_workers(-3);
    after_negative = rt::workers();
    rt::set_workers(2);
  });
  EXPECT_EQ(after_zero, 1);
  EXPECT_EQ(after_negative, 1);
}

TEST(Resize, TimersOfRemovedPsStillFire) {
  // Sleepers whose timers sit on Ps that are then removed must still wake
  // (their timers move to P0), and not early.
  const int kSleepers = 64;
  std::atomic<int> woke{0};
  std::atomic<int> early{0};
  bool timers_beyond_p0 = false;
  bool all_woke = false;
  rt::WaitGroup wg;  // outlives rt::run even if main gives up on the sleepers
  runTest(withWorkers(4), [&] {
    wg.add(kSleepers);
    for (int i = 0; i < kSleepers; i++) {
      rt::go([&, i] {
        for (int k = 0; k < i % 5; k++) rt::yield();  // spread over the Ps
        const auto start = Clock::now();
        rt::sleep_for(300ms);
        if (Clock::now() - start < 300ms) early.fetch_add(1);
        woke.fetch_add(1);
        wg.done();
      });
    }
    timers_beyond_p0 = eventually(
        [] {
          const SchedSnapshot s = rt::snapshot();
          for (const ProcessorSnapshot& p : s.processors) {
            if (p.id > 0 && p.timerslen > 0) return true;
          }
          return false;
        },
        200ms, std::chrono::microseconds(200));
    rt::set_workers(1);
    all_woke = eventually([&] { return woke.load() == kSleepers; }, 5s);
    if (all_woke) wg.wait();
  });
  if (!timers_beyond_p0) {
    std::printf("note: no timer was seen on a P other than P0 before the resize\n");
  }
  EXPECT_TRUE(all_woke) << woke.load() << " of " << kSleepers << " sleepers woke";
  EXPECT_EQ(early.load(), 0);
}

// Shrinking while Ms are spinning (looking for work with a P in hand): an
// M whose P is retired must stop counting as a spinner before it parks.
// Otherwise sched.nmspinning stays above 0 for good, every later wakep()
// is a no-op, and once all Tasks sleep nobody watches their timers (the
// whole runtime hangs; seen as a watchdog dump with spinningthreads=1 and
// every M parked). Checked directly: with one P, held by main, no M can be
// spinning (a spinner holds a P), so the count must come back to 0. Main
// samples it from inside rt::blocking(), needing no timer of its own.
TEST(Resize, ShrinkWhileMsSpinLeavesNoPhantomSpinner) {
  const int kRounds = static_cast<int>(scaled(150, 3));
  constexpr int kTasks = 16;
  int leaked_round = -1;
  int rounds_done = 0;
  std::string dump;
  rt::WaitGroup wg;  // outlives rt::run if main gives up
  runTest(withWorkers(4), [&] {
    for (int round = 0; round < kRounds; round++) {
      rt::set_workers(4);
      wg.add(kTasks);
      for (int i = 0; i < kTasks; i++) {
        rt::go([&, i] {
          for (int k = 0; k < i % 4; k++) rt::yield();
          rt::sleep_for(std::chrono::microseconds(500 + 100 * (i % 5)));
          wg.done();
        });
      }
      rt::set_workers(1);
      // Enter the scheduler once, so that if main's own P was one of the
      // removed ones it is retired now.
      rt::yield();
      bool zero = false;
      const auto give_up = Clock::now() + rt::testing::patience(1s);
      while (!(zero = rt::snapshot().spinningthreads == 0) && Clock::now() < give_up) {
        rt::blocking([] { std::this_thread::sleep_for(100us); });
      }
      if (!zero) {
        leaked_round = round;
        dump = formatSchedTrace(rt::snapshot(/*with_tasks=*/false), /*detailed=*/true);
        return;
      }
      wg.wait();
      rounds_done++;
    }
  });
  EXPECT_EQ(leaked_round, -1) << "spinningthreads stuck above 0 with one busy P after round "
                              << leaked_round << "\n" << dump;
  EXPECT_EQ(rounds_done, kRounds);
}

// runtime.h promises both that a removed P hands its queued Tasks over and
// that a P whose Task sits in rt::blocking() is handed to another thread
// after ~20us. Together: Tasks queued on a removed P whose owner is blocked
// must not wait for the blocking call to end. Setup: main holds P0 (busy,
// so nobody steals), B on P1 queues kChildren Tasks, main shrinks to one
// P, B blocks for 300 ms; the children must have run when B's call returns.
TEST(Resize, QueuedTasksOfARemovedPRunWhileItsOwnerBlocks) {
  constexpr int kChildren = 16;
  std::atomic<int> completed{0};
  std::atomic<bool> spawned{false};
  std::atomic<bool> shrunk{false};
  int completed_when_b_returned = -1;
  int completed_at_shrink = -1;
  bool setup_ok = false;
  rt::WaitGroup wg;
  runTest(withWorkers(2), [&] {
    // Fill the free-Task lists first: B's spawns then recycle Tasks instead
    // of creating them (slow under TSan, whose fiber creation could make
    // sysmon preempt B mid-way and let the children run early).
    {
      rt::WaitGroup warm;
      warm.add(256);
      for (int i = 0; i < 256; i++) rt::go([&] { warm.done(); });
      warm.wait();
    }
    // Get main onto P0: with one P it must be there once it has been
    // through the scheduler (a yield on a removed P retires that P).
    rt::set_workers(1);
    rt::yield();
    rt::set_workers(2);
    if (rt::current_worker() != 0) return;
    wg.add(1 + kChildren);
    rt::go([&] {  // B: stolen onto P1, as P0 is busy with main
      if (rt::current_worker() != 1) {
        spawned.store(true);
        wg.add(-kChildren);
        wg.done();
        return;
      }
      for (int i = 0; i < kChildren; i++) {
        rt::go([&] {
          completed.fetch_add(1);
          wg.done();
        });
      }
      spawned.store(true);
      while (!shrunk.load()) {
      }
      rt::blocking([] { usleep(300'000); });
      completed_when_b_returned = completed.load();
      wg.done();
    });
    // Busy on P0 (no scheduling point) until B has queued its children.
    const auto give_up = Clock::now() + 5s;
    while (!spawned.load() && Clock::now() < give_up) {
    }
    completed_at_shrink = completed.load();
    setup_ok = spawned.load() && completed_at_shrink == 0;
    rt::set_workers(1);
    shrunk.store(true);
    wg.wait();
  });
  if (!setup_ok || completed_when_b_returned < 0) {
    GTEST_SKIP() << "could not place main on P0 and B on P1 (children done before the "
                 << "shrink: " << completed_at_shrink << ")";
  }
  EXPECT_EQ(completed_when_b_returned, kChildren)
      << "Tasks queued on the removed P waited for its blocking call to end";
  EXPECT_EQ(completed.load(), kChildren);
}

}  // namespace
}  // namespace rt
