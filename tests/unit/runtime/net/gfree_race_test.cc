// Regression test of a runtime data race (not an rt::net one), found by
// TSan in tcp_test's 1,000-connection echo and fixed in 787d3e6:
// rt::detail::allocTask() read sched->gfree.size without sched->lock while
// gfput() on another M appended to sched->gfree under the lock (Go reads
// its counter racily on purpose; in C++ that is undefined behaviour on a
// plain integer). TSan failed every run that spilled dead Tasks to the
// global free list (>= 64 dead Tasks on one P) while another P spawned.
//
// Two Tasks on two Ps each spawn and reap batches of short Tasks, so dead
// Tasks spill to the global list on one P while the other allocates.
//   bazel test //tests/unit/runtime/net:gfree_race_test --config=tsan
#include <gtest/gtest.h>

#include <atomic>

#include "runtime/runtime.h"
#include "runtime/sync/sync.h"

namespace {

TEST(GfreeRaceTest, SpawnOnBothPsWhileTheOtherSpills) {
  constexpr int kBatches = 50;
  constexpr int kPerBatch = 200;
  std::atomic<int> ran{0};
  // Outside rt::run: a Task may still be inside done() when wait() returns.
  rt::WaitGroup spawners, batches[2];
  rt::Options opts;
  opts.workers = 2;
  rt::run(opts, [&] {
    spawners.add(2);
    for (int s = 0; s < 2; s++) {
      rt::go([&, s] {
        rt::WaitGroup& batch = batches[s];
        for (int b = 0; b < kBatches; b++) {
          batch.add(kPerBatch);
          for (int i = 0; i < kPerBatch; i++) {
            rt::go([&] {
              ran++;
              batch.done();
            });
          }
          batch.wait();
        }
        spawners.done();
      });
    }
    spawners.wait();
  });
  EXPECT_EQ(ran.load(), 2 * kBatches * kPerBatch);
}

}  // namespace
