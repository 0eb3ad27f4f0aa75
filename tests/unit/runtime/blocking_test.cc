// rt::blocking(): a call that blocks its thread hands the P to another
// thread (sysmon's retake + handoffp), so other Tasks keep running.
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/runtime.h"
#include "runtime/sync/sync.h"
#include "tests/unit/runtime/harness.h"
#include "tests/unit/runtime/test_util.h"

namespace rt {
namespace {

using namespace std::chrono_literals;
using rt::testing::runTest;
using rt::testing::scaled;
using rt::testing::withWorkers;
using Clock = std::chrono::steady_clock;

TEST(Blocking, ReturnsTheCallsResult) {
  int value = 0;
  std::string text;
  int ref_target = 0;
  runTest(withWorkers(1), [&] {
    value = rt::blocking([] { return 42; });
    text = rt::blocking([] { return std::string("moved"); });
    int& ref = rt::blocking([&]() -> int& { return ref_target; });
    ref = 7;
    rt::blocking([] {});  // void
  });
  EXPECT_EQ(value, 42);
  EXPECT_EQ(text, "moved");
  EXPECT_EQ(ref_target, 7);
}

// The scenario: one P; Task A blocks its thread for 200 ms inside
// rt::blocking(); Task B must keep running meanwhile, on another thread.
class BlockingHandsOffP : public ::testing::TestWithParam<bool> {};

TEST_P(BlockingHandsOffP, OtherTaskRunsWhileCallBlocks) {
  const bool b_sleeps = GetParam();  // B sleeps 1 ms per step, or yields
  std::atomic<int64_t> a_enter_ns{0};
  std::atomic<int64_t> a_exit_ns{0};
  std::vector<int64_t> b_steps;  // B's timestamps (B alone writes it)
  uint64_t retakes = 0;
  auto now_ns = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               Clock::now().time_since_epoch())
        .count();
  };
  runTest(withWorkers(1), [&] {
    rt::WaitGroup wg;
    wg.add(2);
    rt::go([&] {  // B
      const auto give_up = Clock::now() + rt::testing::patience(5s);
      while (a_exit_ns.load() == 0 && Clock::now() < give_up && b_steps.size() < 200'000) {
        b_steps.push_back(now_ns());
        if (b_sleeps) {
          rt::sleep_for(1ms);
        } else {
          rt::yield();
        }
      }
      wg.done();
    });
    rt::go([&] {  // A
      a_enter_ns.store(now_ns());
      rt::blocking([] { usleep(200'000); });
      a_exit_ns.store(now_ns());
      wg.done();
    });
    wg.wait();
    retakes = rt::snapshot().sysmon_retakes;
  });
  int64_t during = 0;
  for (int64_t t : b_steps) {
    if (t > a_enter_ns.load() && t < a_exit_ns.load()) during++;
  }
  std::printf("B steps during A's 200 ms call: %lld; retakes: %llu\n",
              static_cast<long long>(during), static_cast<unsigned long long>(retakes));
  EXPECT_GE(during, 10) << "B was stuck behind A's blocking call";
  EXPECT_GE(retakes, 1u);
}

INSTANTIATE_TEST_SUITE_P(BSleepsOrYields, BlockingHandsOffP, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("sleeps") : std::string("yields");
                         });

TEST(Blocking, AllBlockedAtOnceThenEveryTaskResumes) {
  // More Tasks in blocking() than Ps: each keeps its thread, the Ps move on
  // (and run the other Tasks), and every call's Task resumes afterwards,
  // with or without getting its old P back.
  constexpr int kTasks = 6;
  std::atomic<int> finished{0};
  std::atomic<int> ticks{0};
  runTest(withWorkers(2), [&] {
    rt::WaitGroup wg;
    wg.add(kTasks);
    std::atomic<bool> stop{false};
    for (int i = 0; i < kTasks; i++) {
      rt::go([&] {
        rt::blocking([] { usleep(100'000); });
        finished.fetch_add(1);
        wg.done();
      });
    }
    rt::WaitGroup ticker;
    ticker.add(1);
    rt::go([&] {
      while (!stop.load()) {
        ticks.fetch_add(1);
        rt::sleep_for(1ms);
      }
      ticker.done();
    });
    wg.wait();
    stop.store(true);
    ticker.wait();
  });
  EXPECT_EQ(finished.load(), kTasks);
  EXPECT_GE(ticks.load(), 10);
}

TEST(Blocking, ManyShortCallsComplete) {
  // Short calls mostly take the fast path (P kept); some race sysmon's
  // retake. Either way nothing is lost and every Task finishes.
  constexpr int kTasks = 8;
  const int kCalls = static_cast<int>(scaled(500, 5));
  std::atomic<int64_t> calls{0};
  runTest(withWorkers(2), [&] {
    rt::WaitGroup wg;
    wg.add(kTasks);
    for (int i = 0; i < kTasks; i++) {
      rt::go([&, i] {
        for (int k = 0; k < kCalls; k++) {
          rt::blocking([&] { usleep(static_cast<useconds_t>((i + k) % 4 * 25)); });
          calls.fetch_add(1);
          if (k % 8 == 0) rt::yield();
        }
        wg.done();
      });
    }
    wg.wait();
  });
  EXPECT_EQ(calls.load(), int64_t{kTasks} * kCalls);
}

}  // namespace
}  // namespace rt
