// PerWorkerCells: per-worker blocks add up exactly, deltas may be negative, callers off
// the workers share a block safely, and a reader running beside the writers never sees
// a counter go backwards.
#include "proxy/metrics/per_worker_cells.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace switchyard::proxy::metrics {
namespace {

TEST(PerWorkerCellsTest, SumsEveryWorkersBlock) {
  PerWorkerCells cells(3);
  EXPECT_EQ(cells.blocksAllocated(), 0);
  cells.add(0, 0, 5);
  cells.add(7, 0, 6);
  cells.add(255, 2, 1);
  EXPECT_EQ(cells.sum(0), 11u);
  EXPECT_EQ(cells.sum(1), 0u);
  EXPECT_EQ(cells.sum(2), 1u);
  EXPECT_EQ(cells.blocksAllocated(), 3);
  std::vector<uint64_t> all;
  cells.sumAll(all);
  EXPECT_EQ(all, (std::vector<uint64_t>{11, 0, 1}));
}

TEST(PerWorkerCellsTest, ReserveAllocatesUpFront) {
  PerWorkerCells cells(1);
  cells.reserve(4);
  EXPECT_EQ(cells.blocksAllocated(), 4);
  cells.reserve(1000);  // clamped to kMaxWorkers
  EXPECT_EQ(cells.blocksAllocated(), kMaxWorkers);
}

TEST(PerWorkerCellsTest, NegativeDeltasAcrossWorkersSumToZero) {
  PerWorkerCells cells(1);
  cells.add(3, 0, static_cast<uint64_t>(int64_t{1}));   // opened on worker 3
  cells.add(5, 0, static_cast<uint64_t>(int64_t{-1}));  // closed on worker 5
  EXPECT_EQ(PerWorkerCells::asSigned(cells.sum(0)), 0);
  cells.add(5, 0, static_cast<uint64_t>(int64_t{-2}));
  EXPECT_EQ(PerWorkerCells::asSigned(cells.sum(0)), -2);
}

TEST(PerWorkerCellsTest, CallersOffTheWorkersShareOneBlockWithoutLosingCounts) {
  PerWorkerCells cells(2);
  constexpr int kThreads = 4;
  constexpr int kAdds = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&cells, t] {
      const int outside = t % 2 == 0 ? -1 : kMaxWorkers + t;  // both mean "not a worker"
      for (int i = 0; i < kAdds; ++i) cells.add2(outside, 0, 1, 1, 2);
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(cells.sum(0), uint64_t{kThreads} * kAdds);
  EXPECT_EQ(cells.sum(1), uint64_t{2} * kThreads * kAdds);
  EXPECT_EQ(cells.blocksAllocated(), 1);
}

TEST(PerWorkerCellsTest, ConcurrentReaderSeesMonotonicExactTotals) {
  PerWorkerCells cells(1);
  constexpr int kWorkers = 4;
  constexpr int kAdds = 50000;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    uint64_t last = 0;
    while (!done.load(std::memory_order_acquire)) {
      const uint64_t now = cells.sum(0);
      ASSERT_GE(now, last);
      last = now;
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWorkers; ++w) {
    writers.emplace_back([&cells, w] {
      for (int i = 0; i < kAdds; ++i) cells.add(w, 0, 1);
    });
  }
  for (std::thread& writer : writers) writer.join();
  done.store(true, std::memory_order_release);
  reader.join();
  EXPECT_EQ(cells.sum(0), uint64_t{kWorkers} * kAdds);
}

}  // namespace
}  // namespace switchyard::proxy::metrics
