// rt::Chan<T>: Go's channel semantics for Tasks.
#include "runtime/sync/chan.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
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
using rt::testing::tasksWaitingOn;
using rt::testing::withWorkers;

TEST(Chan, UnbufferedSendWaitsForTheReceiver) {
  std::atomic<bool> send_returned{false};
  bool returned_before_recv = true;
  std::optional<int> got;
  runTest(withWorkers(2), [&] {
    rt::Chan<int> ch;
    EXPECT_EQ(ch.capacity(), 0u);
    rt::WaitGroup wg;
    wg.add(1);
    rt::go([&] {
      EXPECT_TRUE(ch.send(42));
      send_returned.store(true);
      wg.done();
    });
    // The sender parks: an unbuffered send completes only with a receiver.
    EXPECT_TRUE(eventually([] { return tasksWaitingOn("chan send") == 1; }, 5s));
    rt::sleep_for(20ms);
    returned_before_recv = send_returned.load();
    got = ch.recv();
    wg.wait();
  });
  EXPECT_FALSE(returned_before_recv);
  EXPECT_TRUE(send_returned.load());
  EXPECT_EQ(got, 42);
}

TEST(Chan, UnbufferedHandOffInOrder) {
  const int kValues = static_cast<int>(scaled(20'000, 10));
  std::vector<int> got;
  runTest(withWorkers(2), [&] {
    rt::Chan<int> ch;
    rt::WaitGroup wg;
    wg.add(1);
    rt::go([&] {
      for (int i = 0; i < kValues; i++) ch.send(i);
      ch.close();
      wg.done();
    });
    while (std::optional<int> v = ch.recv()) got.push_back(*v);
    wg.wait();
  });
  ASSERT_EQ(got.size(), static_cast<size_t>(kValues));
  for (int i = 0; i < kValues; i++) ASSERT_EQ(got[i], i);
}

TEST(Chan, PingPong) {
  const int kRounds = static_cast<int>(scaled(10'000, 10));
  int last = -1;
  runTest(withWorkers(2), [&] {
    rt::Chan<int> ping;
    rt::Chan<int> pong;
    rt::WaitGroup wg;
    wg.add(1);
    rt::go([&] {
      while (std::optional<int> v = ping.recv()) pong.send(*v + 1);
      wg.done();
    });
    int v = 0;
    for (int i = 0; i < kRounds; i++) {
      ping.send(v);
      v = *pong.recv();
    }
    last = v;
    ping.close();
    wg.wait();
  });
  EXPECT_EQ(last, kRounds);
}

TEST(Chan, BufferedSendDoesNotBlockUntilFullAndIsFifo) {
  constexpr int kCap = 8;
  std::atomic<bool> filled{false};        // sender got kCap sends through
  std::atomic<bool> extra_sent{false};    // the (kCap+1)th send returned
  bool filled_before_any_recv = false;
  bool extra_sent_before_recv = true;
  size_t size_when_full = 0;
  std::vector<int> got;
  runTest(withWorkers(2), [&] {
    rt::Chan<int> ch(kCap);
    EXPECT_EQ(ch.capacity(), static_cast<size_t>(kCap));
    rt::WaitGroup wg;
    wg.add(1);
    rt::go([&] {
      for (int i = 0; i < kCap; i++) ch.send(i);
      filled.store(true);
      ch.send(kCap);  // buffer full: blocks until a receive
      extra_sent.store(true);
      wg.done();
    });
    // No receive has happened yet: the first kCap sends must not block.
    filled_before_any_recv = eventually([&] { return filled.load(); }, 5s);
    EXPECT_TRUE(eventually([] { return tasksWaitingOn("chan send") == 1; }, 5s));
    rt::sleep_for(20ms);
    extra_sent_before_recv = extra_sent.load();
    size_when_full = ch.size();
    for (int i = 0; i <= kCap; i++) {
      std::optional<int> v = ch.recv();
      ASSERT_TRUE(v.has_value());
      got.push_back(*v);
    }
    wg.wait();
    EXPECT_EQ(ch.size(), 0u);
  });
  EXPECT_TRUE(filled_before_any_recv);
  EXPECT_FALSE(extra_sent_before_recv);
  EXPECT_EQ(size_when_full, static_cast<size_t>(kCap));
  std::vector<int> want;
  for (int i = 0; i <= kCap; i++) want.push_back(i);
  EXPECT_EQ(got, want);
}

TEST(Chan, RecvDrainsBufferAfterCloseThenReturnsNullopt) {
  std::vector<std::optional<int>> got;
  bool send_after_close = true;
  runTest(withWorkers(1), [&] {
    rt::Chan<int> ch(4);
    ch.send(1);
    ch.send(2);
    ch.send(3);
    EXPECT_TRUE(ch.close());
    send_after_close = ch.send(4);
    for (int i = 0; i < 5; i++) got.push_back(ch.recv());
  });
  EXPECT_FALSE(send_after_close);
  EXPECT_EQ(got, (std::vector<std::optional<int>>{1, 2, 3, std::nullopt, std::nullopt}));
}

TEST(Chan, SendOnClosedReturnsFalseAndCloseTwiceReturnsFalse) {
  bool unbuffered_send = true, buffered_send = true;
  bool first_close = false, second_close = true;
  std::optional<int> recv_closed = 7;
  runTest(withWorkers(1), [&] {
    rt::Chan<int> ch;
    first_close = ch.close();
    second_close = ch.close();
    unbuffered_send = ch.send(1);
    recv_closed = ch.recv();
    rt::Chan<int> buffered(2);
    buffered.close();
    buffered_send = buffered.send(1);
  });
  EXPECT_TRUE(first_close);
  EXPECT_FALSE(second_close);
  EXPECT_FALSE(unbuffered_send);
  EXPECT_FALSE(buffered_send);
  EXPECT_EQ(recv_closed, std::nullopt);
}

TEST(Chan, CloseWakesBlockedReceivers) {
  constexpr int kReceivers = 3;
  std::atomic<int> returned{0};
  std::atomic<int> got_value{0};
  runTest(withWorkers(2), [&] {
    rt::Chan<int> ch;
    rt::WaitGroup wg;
    wg.add(kReceivers);
    for (int i = 0; i < kReceivers; i++) {
      rt::go([&] {
        if (ch.recv().has_value()) got_value.fetch_add(1);
        returned.fetch_add(1);
        wg.done();
      });
    }
    ASSERT_TRUE(eventually([&] { return tasksWaitingOn("chan receive") == kReceivers; }, 5s));
    EXPECT_EQ(returned.load(), 0);
    EXPECT_TRUE(ch.close());
    // Bounded: receivers that are never woken fail the test, not hang it.
    EXPECT_TRUE(eventually([&] { return returned.load() == kReceivers; }, 5s));
    if (returned.load() == kReceivers) wg.wait();
  });
  EXPECT_EQ(returned.load(), kReceivers);
  EXPECT_EQ(got_value.load(), 0);
}

TEST(Chan, CloseWakesBlockedSenders) {
  constexpr int kSenders = 3;
  for (size_t cap : {size_t{0}, size_t{1}}) {
    SCOPED_TRACE(cap);
    std::atomic<int> returned{0};
    std::atomic<int> succeeded{0};
    runTest(withWorkers(2), [&] {
      rt::Chan<int> ch(cap);
      for (size_t i = 0; i < cap; i++) ch.send(-1);  // fill the buffer
      rt::WaitGroup wg;
      wg.add(kSenders);
      for (int i = 0; i < kSenders; i++) {
        rt::go([&, i] {
          if (ch.send(i)) succeeded.fetch_add(1);
          returned.fetch_add(1);
          wg.done();
        });
      }
      ASSERT_TRUE(eventually([&] { return tasksWaitingOn("chan send") == kSenders; }, 5s));
      EXPECT_TRUE(ch.close());
      EXPECT_TRUE(eventually([&] { return returned.load() == kSenders; }, 5s));
      if (returned.load() == kSenders) wg.wait();
      // What was buffered before the close is still delivered.
      for (size_t i = 0; i < cap; i++) EXPECT_EQ(ch.recv(), -1);
      EXPECT_EQ(ch.recv(), std::nullopt);
    });
    EXPECT_EQ(returned.load(), kSenders);
    EXPECT_EQ(succeeded.load(), 0);
  }
}

TEST(Chan, MoveOnlyValues) {
  int got = 0;
  runTest(withWorkers(2), [&] {
    rt::Chan<std::unique_ptr<int>> ch(1);
    rt::WaitGroup wg;
    wg.add(1);
    rt::go([&] {
      ch.send(std::make_unique<int>(5));
      ch.send(std::make_unique<int>(6));  // blocks: handed over from the sendq
      wg.done();
    });
    std::optional<std::unique_ptr<int>> a = ch.recv();
    std::optional<std::unique_ptr<int>> b = ch.recv();
    wg.wait();
    got = **a * 10 + **b;
  });
  EXPECT_EQ(got, 56);
}

// Many producers and consumers: every value arrives exactly once, and each
// consumer sees each producer's values in the order they were sent.
class ChanManyToMany : public ::testing::TestWithParam<size_t> {};

TEST_P(ChanManyToMany, SumAndPerProducerOrder) {
  const size_t cap = GetParam();
  constexpr int kProducers = 4;
  constexpr int kConsumers = 4;
  const int64_t kPerProducer = scaled(20'000, 10);
  std::atomic<int64_t> sum{0};
  std::atomic<int64_t> count{0};
  std::atomic<int> order_violations{0};
  runTest(withWorkers(4), [&] {
    rt::Chan<int64_t> ch(cap);
    rt::WaitGroup producers;
    rt::WaitGroup consumers;
    producers.add(kProducers);
    consumers.add(kConsumers);
    for (int p = 0; p < kProducers; p++) {
      rt::go([&, p] {
        for (int64_t i = 0; i < kPerProducer; i++) EXPECT_TRUE(ch.send(p * kPerProducer + i));
        producers.done();
      });
    }
    for (int c = 0; c < kConsumers; c++) {
      rt::go([&] {
        std::vector<int64_t> last(kProducers, -1);
        while (std::optional<int64_t> v = ch.recv()) {
          const int p = static_cast<int>(*v / kPerProducer);
          if (*v <= last[p]) order_violations.fetch_add(1);
          last[p] = *v;
          sum.fetch_add(*v, std::memory_order_relaxed);
          count.fetch_add(1, std::memory_order_relaxed);
        }
        consumers.done();
      });
    }
    producers.wait();
    ch.close();
    consumers.wait();
  });
  const int64_t n = kProducers * kPerProducer;
  EXPECT_EQ(count.load(), n);
  EXPECT_EQ(sum.load(), n * (n - 1) / 2);
  EXPECT_EQ(order_violations.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Capacities, ChanManyToMany, ::testing::Values(0, 1, 16, 1024),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return "cap" + std::to_string(info.param);
                         });

}  // namespace
}  // namespace rt
