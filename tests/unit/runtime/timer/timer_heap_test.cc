// TimerHeap (per-P 4-ary timer heap) and timerStop, without a runtime.
#include "runtime/timer/timer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "tests/unit/runtime/test_util.h"

namespace rt::internal {
namespace {

using rt::testing::scaled;

// Records firings: (timer index, when at firing, seq).
struct Fired {
  std::vector<std::pair<size_t, int64_t>> log;
};

struct Pool {
  explicit Pool(size_t n) : timers(new Timer[n]), n(n) {
    for (size_t i = 0; i < n; i++) {
      timers[i].fn = &Pool::onFire;
      timers[i].arg = this;
    }
  }
  static void onFire(Timer* t, void* arg, uint64_t seq) {
    auto* self = static_cast<Pool*>(arg);
    self->fired.log.emplace_back(static_cast<size_t>(t - self->timers.get()), t->when);
    self->last_seq = seq;
  }
  Timer* operator[](size_t i) { return &timers[i]; }

  std::unique_ptr<Timer[]> timers;
  size_t n;
  Fired fired;
  uint64_t last_seq = 0;
};

TEST(TimerHeap, EmptyHeap) {
  TimerHeap h;
  EXPECT_EQ(h.size(), 0u);
  EXPECT_EQ(h.nextWhen(), TimerHeap::kNever);
  EXPECT_EQ(h.runExpired(INT64_MAX - 1), 0);
}

TEST(TimerHeap, AddReportsNewEarliest) {
  Pool p(3);
  TimerHeap h;
  p[0]->when = 50;
  p[1]->when = 70;
  p[2]->when = 10;
  EXPECT_TRUE(h.add(p[0]));
  EXPECT_FALSE(h.add(p[1]));
  EXPECT_TRUE(h.add(p[2]));
  EXPECT_EQ(h.nextWhen(), 10);
  EXPECT_EQ(h.size(), 3u);
}

TEST(TimerHeap, RunExpiredRunsOnlyDueTimersInOrder) {
  Pool p(5);
  TimerHeap h;
  const int64_t whens[] = {40, 10, 30, 20, 25};
  for (size_t i = 0; i < 5; i++) {
    p[i]->when = whens[i];
    p[i]->seq = 100 + i;
    h.add(p[i]);
  }
  EXPECT_EQ(h.runExpired(9), 0);
  EXPECT_TRUE(p.fired.log.empty());

  EXPECT_EQ(h.runExpired(25), 3);  // due at 25 means when <= 25
  ASSERT_EQ(p.fired.log.size(), 3u);
  EXPECT_EQ(p.fired.log[0].second, 10);
  EXPECT_EQ(p.fired.log[1].second, 20);
  EXPECT_EQ(p.fired.log[2].second, 25);
  EXPECT_EQ(p.last_seq, 104u);  // seq of the timer at 25 is passed to fn
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.nextWhen(), 30);

  EXPECT_EQ(h.runExpired(25), 0);
  EXPECT_EQ(h.runExpired(1000), 2);
  EXPECT_EQ(h.nextWhen(), TimerHeap::kNever);
  EXPECT_EQ(h.size(), 0u);
}

TEST(TimerHeap, EqualDeadlinesAllFire) {
  Pool p(20);
  TimerHeap h;
  for (size_t i = 0; i < 20; i++) {
    p[i]->when = 7;
    h.add(p[i]);
  }
  EXPECT_EQ(h.runExpired(7), 20);
  std::vector<size_t> which;
  for (auto& f : p.fired.log) which.push_back(f.first);
  std::sort(which.begin(), which.end());
  for (size_t i = 0; i < 20; i++) EXPECT_EQ(which[i], i);
}

TEST(TimerHeap, RemoveOfFiredOrUnarmedTimerReturnsFalse) {
  Pool p(2);
  TimerHeap h;
  EXPECT_FALSE(h.remove(p[0]));     // never armed
  EXPECT_FALSE(timerStop(p[0]));
  p[0]->when = 5;
  h.add(p[0]);
  EXPECT_EQ(h.runExpired(5), 1);
  EXPECT_FALSE(h.remove(p[0]));     // already fired
  EXPECT_FALSE(timerStop(p[0]));
  EXPECT_EQ(p[0]->heap.load(), nullptr);
  EXPECT_EQ(p[0]->index, -1);

  p[1]->when = 5;
  h.add(p[1]);
  EXPECT_TRUE(h.remove(p[1]));
  EXPECT_FALSE(h.remove(p[1]));     // removed twice
  EXPECT_EQ(h.runExpired(100), 0);  // a removed timer never fires
  EXPECT_EQ(h.size(), 0u);
}

TEST(TimerHeap, RemoveFromAnotherHeapReturnsFalse) {
  Pool p(1);
  TimerHeap a;
  TimerHeap b;
  p[0]->when = 1;
  a.add(p[0]);
  EXPECT_FALSE(b.remove(p[0]));
  EXPECT_EQ(a.size(), 1u);
  EXPECT_TRUE(timerStop(p[0]));
  EXPECT_EQ(a.size(), 0u);
}

TEST(TimerHeap, TimerCanBeReArmedFromItsCallback) {
  // fn runs without the heap lock: re-arming from it must not deadlock, and
  // a re-armed future timer waits for its new deadline.
  struct Rearm {
    TimerHeap* heap;
    int fired = 0;
  };
  Rearm r;
  TimerHeap h;
  r.heap = &h;
  Timer t;
  t.when = 10;
  t.arg = &r;
  t.fn = [](Timer* self, void* arg, uint64_t) {
    auto* rr = static_cast<Rearm*>(arg);
    rr->fired++;
    self->when += 100;
    rr->heap->add(self);
  };
  h.add(&t);
  rt::testing::Watchdog dog(std::chrono::seconds(10));
  EXPECT_EQ(h.runExpired(50), 1);
  EXPECT_EQ(r.fired, 1);
  EXPECT_EQ(h.size(), 1u);
  EXPECT_EQ(h.nextWhen(), 110);
  EXPECT_TRUE(h.remove(&t));
}

TEST(TimerHeap, MoveAllToKeepsEveryTimer) {
  Pool p(150);
  TimerHeap a;
  TimerHeap b;
  std::mt19937_64 rng(7);
  for (size_t i = 0; i < 150; i++) {
    p[i]->when = static_cast<int64_t>(rng() % 10'000) + 1;
    (i < 100 ? a : b).add(p[i]);
  }
  int64_t earliest = INT64_MAX;
  for (size_t i = 0; i < 150; i++) earliest = std::min(earliest, p[i]->when);

  a.moveAllTo(b);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(a.nextWhen(), TimerHeap::kNever);
  EXPECT_EQ(b.size(), 150u);
  EXPECT_EQ(b.nextWhen(), earliest);
  a.moveAllTo(a);  // no-op
  b.moveAllTo(b);
  EXPECT_EQ(b.size(), 150u);

  // Moved timers know their new heap: timerStop finds them there.
  EXPECT_TRUE(timerStop(p[3]));
  EXPECT_FALSE(a.remove(p[4]));
  EXPECT_TRUE(b.remove(p[4]));
  EXPECT_EQ(b.size(), 148u);

  EXPECT_EQ(b.runExpired(INT64_MAX - 1), 148);
  ASSERT_EQ(p.fired.log.size(), 148u);
  for (size_t i = 1; i < p.fired.log.size(); i++) {
    EXPECT_LE(p.fired.log[i - 1].second, p.fired.log[i].second) << i;
  }
  std::vector<size_t> which;
  for (auto& f : p.fired.log) which.push_back(f.first);
  std::sort(which.begin(), which.end());
  EXPECT_EQ(std::adjacent_find(which.begin(), which.end()), which.end());
  EXPECT_FALSE(std::binary_search(which.begin(), which.end(), 3u));
  EXPECT_FALSE(std::binary_search(which.begin(), which.end(), 4u));
}

// Random adds, removes and expiries against a std::multiset model.
TEST(TimerHeap, MatchesMultisetModelUnderRandomOperations) {
  constexpr size_t kTimers = 512;
  const int64_t kOps = scaled(200'000, 4);
  Pool p(kTimers);
  TimerHeap h;
  std::multiset<std::pair<int64_t, size_t>> model;
  std::vector<bool> armed(kTimers, false);
  std::mt19937_64 rng(12345);
  int64_t now = 0;

  for (int64_t op = 0; op < kOps; op++) {
    const size_t i = rng() % kTimers;
    const int kind = static_cast<int>(rng() % 10);
    if (kind < 5) {
      if (armed[i]) continue;
      p[i]->when = now + static_cast<int64_t>(rng() % 1000);
      const bool earliest = model.empty() || p[i]->when < model.begin()->first;
      const bool reported = h.add(p[i]);
      // add() says whether it became the earliest; ties may go either way.
      if (model.empty() || p[i]->when != model.begin()->first) {
        ASSERT_EQ(reported, earliest) << "op " << op;
      }
      model.emplace(p[i]->when, i);
      armed[i] = true;
    } else if (kind < 8) {
      const bool removed = h.remove(p[i]);
      ASSERT_EQ(removed, armed[i]) << "op " << op;
      if (armed[i]) {
        model.erase(model.find({p[i]->when, i}));
        armed[i] = false;
      }
    } else {
      now += static_cast<int64_t>(rng() % 200);
      p.fired.log.clear();
      const int ran = h.runExpired(now);
      std::vector<std::pair<int64_t, size_t>> due;
      while (!model.empty() && model.begin()->first <= now) {
        due.push_back(*model.begin());
        model.erase(model.begin());
      }
      ASSERT_EQ(static_cast<size_t>(ran), due.size()) << "op " << op;
      ASSERT_EQ(p.fired.log.size(), due.size());
      std::vector<std::pair<int64_t, size_t>> got;
      for (size_t k = 0; k < p.fired.log.size(); k++) {
        if (k > 0) {
          ASSERT_LE(p.fired.log[k - 1].second, p.fired.log[k].second) << "op " << op;
        }
        got.emplace_back(p.fired.log[k].second, p.fired.log[k].first);
        armed[p.fired.log[k].first] = false;
      }
      std::sort(got.begin(), got.end());
      ASSERT_EQ(got, due) << "op " << op;
    }
    ASSERT_EQ(h.size(), model.size()) << "op " << op;
    ASSERT_EQ(h.nextWhen(), model.empty() ? TimerHeap::kNever : model.begin()->first)
        << "op " << op;
  }
}

// timerStop() while another thread moves timers back and forth between two
// heaps (a P being resized away): each armed timer is stopped exactly once
// and never lost or duplicated.
TEST(TimerHeap, TimerStopRacesMoveAllTo) {
  const int kRounds = static_cast<int>(scaled(200, 4));
  constexpr size_t kTimers = 64;
  rt::testing::Watchdog dog(std::chrono::seconds(50));
  for (int round = 0; round < kRounds; round++) {
    Pool p(kTimers);
    TimerHeap a;
    TimerHeap b;
    for (size_t i = 0; i < kTimers; i++) {
      p[i]->when = static_cast<int64_t>(i) + 1;
      a.add(p[i]);
    }
    std::atomic<bool> stop{false};
    std::thread mover([&] {
      for (int k = 0; k < 1000 && !stop.load(std::memory_order_relaxed); k++) {
        if (k % 2 == 0) {
          a.moveAllTo(b);
        } else {
          b.moveAllTo(a);
        }
      }
    });
    size_t stopped = 0;
    for (size_t i = 0; i < kTimers; i++) {
      if (timerStop(p[i])) stopped++;
      EXPECT_FALSE(timerStop(p[i]));
    }
    stop.store(true);
    mover.join();
    EXPECT_EQ(stopped, kTimers) << "round " << round;
    EXPECT_EQ(a.size() + b.size(), 0u);
  }
}

}  // namespace
}  // namespace rt::internal
