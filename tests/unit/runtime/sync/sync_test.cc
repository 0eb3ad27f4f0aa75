// rt::Mutex, rt::CondVar and rt::WaitGroup: they park Tasks, not threads.
#include "runtime/sync/sync.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <vector>

#include "runtime/runtime.h"
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

// ---- WaitGroup ----

TEST(WaitGroup, WaitReturnsOnlyAfterAllDone) {
  constexpr int kTasks = 50;
  std::atomic<int> done_calls{0};
  int seen_at_wait_return = -1;
  runTest(withWorkers(2), [&] {
    rt::WaitGroup wg;
    wg.add(kTasks);
    for (int i = 0; i < kTasks; i++) {
      rt::go([&, i] {
        rt::sleep_for(std::chrono::microseconds(100 * (i % 20)));
        done_calls.fetch_add(1);
        wg.done();
      });
    }
    wg.wait();
    seen_at_wait_return = done_calls.load();
  });
  EXPECT_EQ(seen_at_wait_return, kTasks);
}

TEST(WaitGroup, WaitWithZeroCountReturnsImmediately) {
  bool returned = false;
  runTest(withWorkers(1), [&] {
    rt::WaitGroup fresh;
    fresh.wait();  // one P, nobody else to wake us: must not park
    rt::WaitGroup used;
    used.add(2);
    used.done();
    used.done();
    used.wait();
    returned = true;
  });
  EXPECT_TRUE(returned);
}

TEST(WaitGroup, ManyWaitersAllReleased) {
  constexpr int kWaiters = 10;
  std::atomic<int> released{0};
  runTest(withWorkers(2), [&] {
    rt::WaitGroup gate;
    rt::WaitGroup finished;
    gate.add(1);
    finished.add(kWaiters);
    for (int i = 0; i < kWaiters; i++) {
      rt::go([&] {
        gate.wait();
        released.fetch_add(1);
        finished.done();
      });
    }
    ASSERT_TRUE(eventually(
        [&] { return rt::testing::tasksWaitingOn("sync.WaitGroup.Wait") == kWaiters; }, 5s));
    EXPECT_EQ(released.load(), 0);
    gate.done();
    EXPECT_TRUE(eventually([&] { return released.load() == kWaiters; }, 5s));
    if (released.load() == kWaiters) finished.wait();
  });
  EXPECT_EQ(released.load(), kWaiters);
}

TEST(WaitGroup, CanBeReused) {
  constexpr int kRounds = 100;
  std::atomic<int> total{0};
  bool ok = true;
  runTest(withWorkers(2), [&] {
    rt::WaitGroup wg;
    for (int round = 0; round < kRounds; round++) {
      const int n = 1 + round % 7;
      std::atomic<int> here{0};
      wg.add(n);
      for (int i = 0; i < n; i++) {
        rt::go([&, i] {
          if (i % 2 == 0) rt::yield();
          here.fetch_add(1);
          total.fetch_add(1);
          wg.done();
        });
      }
      wg.wait();
      if (here.load() != n) ok = false;
    }
  });
  EXPECT_TRUE(ok);
  int expect = 0;
  for (int round = 0; round < kRounds; round++) expect += 1 + round % 7;
  EXPECT_EQ(total.load(), expect);
}

// ---- Mutex ----

// A WaitGroup may be destroyed as soon as wait() returns, while the Task
// that called the last done() is still inside it. done() used to take the
// WaitGroup's lock after the counter reached zero: TSan reports that access
// racing the delete on every run (ASan only when the timing lines up).
TEST(WaitGroup, DestroyedRightAfterWaitReturns) {
  const int rounds = testing::kSanitized ? 2000 : 20000;
  std::atomic<int> completed{0};
  runTest(withWorkers(2), [&] {
    for (int i = 0; i < rounds; i++) {
      auto* wg = new WaitGroup();
      wg->add(1);
      go([wg, &completed] {
        completed.fetch_add(1, std::memory_order_relaxed);
        wg->done();
      });
      if (i % 2 == 0) rt::yield();  // sometimes the waiter comes late, sometimes early
      wg->wait();
      delete wg;
    }
  });
  EXPECT_EQ(completed.load(), rounds);
}

TEST(Mutex, ContendedCounterIsExact) {
  constexpr int kTasks = 8;
  const int64_t kIncrements = scaled(20'000, 10);
  int64_t counter = 0;  // deliberately not atomic: the Mutex protects it
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  runTest(withWorkers(2), [&] {
    rt::Mutex mu;
    rt::WaitGroup wg;
    wg.add(kTasks);
    for (int t = 0; t < kTasks; t++) {
      rt::go([&] {
        for (int64_t i = 0; i < kIncrements; i++) {
          mu.lock();
          if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
          counter++;
          // Now and then hold the lock across a reschedule so waiters park.
          if (i % 256 == 0) rt::yield();
          inside.fetch_sub(1);
          mu.unlock();
        }
        wg.done();
      });
    }
    wg.wait();
  });
  EXPECT_EQ(counter, kTasks * kIncrements);
  EXPECT_EQ(overlaps.load(), 0);
}

TEST(Mutex, TryLock) {
  std::atomic<int> other_got{-1};
  bool first = false, second = true, after_unlock = false;
  runTest(withWorkers(2), [&] {
    rt::Mutex mu;
    first = mu.try_lock();
    second = mu.try_lock();
    rt::WaitGroup wg;
    wg.add(1);
    rt::go([&] {
      other_got.store(mu.try_lock() ? 1 : 0);
      wg.done();
    });
    wg.wait();
    mu.unlock();
    after_unlock = mu.try_lock();
    if (after_unlock) mu.unlock();
  });
  EXPECT_TRUE(first);
  EXPECT_FALSE(second);
  EXPECT_EQ(other_got.load(), 0);
  EXPECT_TRUE(after_unlock);
}

TEST(Mutex, BlockedLockerParksAndGetsTheLock) {
  // With one P the waiter cannot spin its way in: it must park and be woken.
  std::vector<int> order;
  runTest(withWorkers(1), [&] {
    rt::Mutex mu;
    rt::WaitGroup wg;
    mu.lock();
    wg.add(1);
    rt::go([&] {
      mu.lock();
      order.push_back(2);
      mu.unlock();
      wg.done();
    });
    EXPECT_TRUE(eventually(
        [] { return rt::testing::tasksWaitingOn("sync.Mutex.Lock") == 1; }, 5s));
    order.push_back(1);
    mu.unlock();
    wg.wait();
  });
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

// ---- CondVar ----

TEST(CondVar, ProducerConsumerWithPredicate) {
  const int kItems = static_cast<int>(scaled(20'000, 10));
  constexpr int kProducers = 2;
  constexpr int kConsumers = 3;
  int64_t sum = 0;
  int consumed = 0;
  std::vector<std::vector<int>> per_consumer(kConsumers);
  runTest(withWorkers(2), [&] {
    rt::Mutex mu;
    rt::CondVar not_empty;
    std::deque<int> queue;
    int producers_left = kProducers;
    rt::WaitGroup wg;
    wg.add(kProducers + kConsumers);
    for (int p = 0; p < kProducers; p++) {
      rt::go([&, p] {
        for (int i = 0; i < kItems; i++) {
          mu.lock();
          queue.push_back(p * kItems + i);
          not_empty.notify_one();
          mu.unlock();
          if (i % 64 == 0) rt::yield();
        }
        mu.lock();
        producers_left--;
        not_empty.notify_all();
        mu.unlock();
        wg.done();
      });
    }
    for (int c = 0; c < kConsumers; c++) {
      rt::go([&, c] {
        for (;;) {
          mu.lock();
          not_empty.wait(mu, [&] { return !queue.empty() || producers_left == 0; });
          if (queue.empty()) {
            mu.unlock();
            break;
          }
          const int v = queue.front();
          queue.pop_front();
          sum += v;
          consumed++;
          mu.unlock();
          per_consumer[c].push_back(v);
        }
        wg.done();
      });
    }
    wg.wait();
  });
  const int64_t n = int64_t{kProducers} * kItems;
  EXPECT_EQ(consumed, n);
  EXPECT_EQ(sum, n * (n - 1) / 2);
  // FIFO queue: each consumer sees each producer's items in order.
  for (const auto& got : per_consumer) {
    int last[kProducers] = {-1, -1};
    for (int v : got) {
      const int p = v / kItems;
      EXPECT_GT(v, last[p]);
      last[p] = v;
    }
  }
}

TEST(CondVar, WaitForTimesOutAfterTheTimeout) {
  for (auto timeout : {1ms, 5ms, 20ms}) {
    bool notified = true;
    bool relocked = false;
    Clock::duration elapsed{};
    runTest(withWorkers(2), [&] {
      rt::Mutex mu;
      rt::CondVar cv;
      mu.lock();
      const auto start = Clock::now();
      notified = cv.wait_for(mu, timeout);
      elapsed = Clock::now() - start;
      relocked = !mu.try_lock();  // wait_for returns with mu held
      mu.unlock();
    });
    EXPECT_FALSE(notified) << timeout.count() << "ms";
    EXPECT_TRUE(relocked);
    EXPECT_GE(elapsed, timeout);
  }
}

TEST(CondVar, NotifyBeforeTimeoutReturnsTrue) {
  bool notified = false;
  bool flag_seen = false;
  Clock::duration elapsed{};
  runTest(withWorkers(2), [&] {
    rt::Mutex mu;
    rt::CondVar cv;
    bool flag = false;
    rt::WaitGroup wg;
    wg.add(1);
    rt::go([&] {
      rt::sleep_for(10ms);
      mu.lock();
      flag = true;
      cv.notify_one();
      mu.unlock();
      wg.done();
    });
    mu.lock();
    const auto start = Clock::now();
    // A spurious return would show as flag_seen == false.
    notified = cv.wait_for(mu, 10s);
    elapsed = Clock::now() - start;
    flag_seen = flag;
    mu.unlock();
    wg.wait();
  });
  EXPECT_TRUE(notified);
  EXPECT_TRUE(flag_seen);
  EXPECT_LT(elapsed, 5s);  // woken by the notify, not the 10 s timeout
}

TEST(CondVar, NotifyAllWakesEveryWaiter) {
  constexpr int kWaiters = 10;
  std::atomic<int> woken{0};
  std::atomic<int> timed_out{0};
  runTest(withWorkers(2), [&] {
    rt::Mutex mu;
    rt::CondVar cv;
    int waiting = 0;
    bool go = false;
    rt::WaitGroup wg;
    wg.add(kWaiters);
    for (int i = 0; i < kWaiters; i++) {
      rt::go([&] {
        mu.lock();
        waiting++;
        // Bounded: a lost wake-up shows as a timeout, not a hang.
        while (!go) {
          if (!cv.wait_for(mu, rt::testing::patience(5s))) {
            timed_out.fetch_add(1);
            break;
          }
        }
        mu.unlock();
        woken.fetch_add(1);
        wg.done();
      });
    }
    // Everyone counted under mu is already in the CondVar's queue.
    ASSERT_TRUE(eventually(
        [&] {
          mu.lock();
          const bool all = waiting == kWaiters;
          mu.unlock();
          return all;
        },
        5s));
    mu.lock();
    go = true;
    cv.notify_all();
    mu.unlock();
    wg.wait();
  });
  EXPECT_EQ(woken.load(), kWaiters);
  EXPECT_EQ(timed_out.load(), 0);
}

TEST(CondVar, NotifyOneWakesExactlyOne) {
  std::atomic<int> woken{0};
  runTest(withWorkers(2), [&] {
    rt::Mutex mu;
    rt::CondVar cv;
    rt::WaitGroup wg;
    wg.add(3);
    for (int i = 0; i < 3; i++) {
      rt::go([&] {
        mu.lock();
        // The two not notified time out (the wait is bounded either way).
        if (cv.wait_for(mu, rt::testing::patience(300ms))) woken.fetch_add(1);
        mu.unlock();
        wg.done();
      });
    }
    ASSERT_TRUE(eventually(
        [] { return rt::testing::tasksWaitingOn("sync.Cond.Wait") == 3; }, 5s));
    mu.lock();
    cv.notify_one();
    mu.unlock();
    wg.wait();  // the other two time out
  });
  EXPECT_EQ(woken.load(), 1);
}

// A notify that arrives while the waiter is still being parked (its wait
// queue lock just released by the park commit) races the arming of the
// waiter's timeout timer. The waiter then goes on to use its timer again
// (the next wait_for, a sleep). Every wait must still end correctly: a
// notified wait returns true, a sleep never ends early, and the Task's timer
// is never armed twice (TimerHeap::add asserts that in debug builds).
TEST(CondVar, WaitForRacingNotifyThenReuseTimer) {
  // One pair on two Ps: the notifier and the parking waiter's M must be
  // different threads for the race to exist.
  constexpr int kPairs = 1;
  const int kRounds = static_cast<int>(scaled(60'000, 10));
  std::atomic<int> notified_rounds{0};
  std::atomic<int> sleeps_short{0};
  runTest(
      withWorkers(2),
      [&] {
        struct Pair {
          rt::Mutex mu;
          rt::CondVar cv;
          std::atomic<bool> stop{false};
        };
        Pair pairs[kPairs];
        rt::WaitGroup wg;
        wg.add(2 * kPairs);
        for (Pair& pair : pairs) {
          rt::go([&] {  // notifier: hammers notify_one, yielding so the waiter runs here
            while (!pair.stop.load(std::memory_order_relaxed)) {
              pair.cv.notify_one();
              rt::yield();
            }
            wg.done();
          });
          rt::go([&] {  // waiter
            for (int i = 0; i < kRounds; i++) {
              pair.mu.lock();
              if (pair.cv.wait_for(pair.mu, 1s)) {
                notified_rounds.fetch_add(1, std::memory_order_relaxed);
              }
              pair.mu.unlock();
              if (i % 16 == 0) {
                const auto start = Clock::now();
                rt::sleep_for(50us);
                if (Clock::now() - start < 50us) sleeps_short.fetch_add(1);
              }
            }
            pair.stop.store(true);
            wg.done();
          });
        }
        wg.wait();
      });
  EXPECT_EQ(sleeps_short.load(), 0);
  // With a notifier spinning, no 1 s wait should ever time out.
  EXPECT_EQ(notified_rounds.load(), kPairs * kRounds);
}

}  // namespace
}  // namespace rt
