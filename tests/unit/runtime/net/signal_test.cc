// SignalReader: a signal in Options::notify_signals reaches a Task as one
// value read through the netpoller; no handler runs.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>

#include "runtime/net/net.h"
#include "runtime/runtime.h"
#include "runtime/sync/sync.h"
#include "tests/unit/runtime/net/net_test_util.h"

namespace rt::net {
namespace {

using namespace std::chrono_literals;
using testing::after;
using testing::msSince;
using testing::runTask;

Options withSignals(std::vector<int> sigs) {
  Options o;
  o.notify_signals = std::move(sigs);
  return o;
}

TEST(SignalTest, KillIsReceivedByATaskOnce) {
  runTask(
      2,
      [&] {
        std::error_code ec;
        SignalReader reader({SIGUSR1}, ec);
        ASSERT_FALSE(ec) << ec.message();
        rt::go([] {
          rt::sleep_for(20ms);
          ::kill(::getpid(), SIGUSR1);  // process-directed, as from a shell
        });
        std::optional<int> sig = reader.wait(after(5s), ec);
        ASSERT_FALSE(ec) << ec.message();
        ASSERT_TRUE(sig);
        EXPECT_EQ(*sig, SIGUSR1);
        // Exactly one value: the next wait times out.
        sig = reader.wait(after(100ms), ec);
        EXPECT_FALSE(sig);
        EXPECT_EQ(ec, std::errc::timed_out);
      },
      withSignals({SIGUSR1}));
}

TEST(SignalTest, PendingSignalsAreReadInTurn) {
  runTask(
      1,
      [&] {
        std::error_code ec;
        SignalReader reader({SIGUSR1, SIGUSR2}, ec);
        ASSERT_FALSE(ec) << ec.message();
        ::kill(::getpid(), SIGUSR2);
        ::kill(::getpid(), SIGUSR1);
        std::optional<int> a = reader.wait(after(5s), ec);
        std::optional<int> b = reader.wait(after(5s), ec);
        ASSERT_TRUE(a && b);
        // The kernel hands out pending standard signals lowest number first.
        EXPECT_EQ(*a, SIGUSR1);
        EXPECT_EQ(*b, SIGUSR2);
      },
      withSignals({SIGUSR1, SIGUSR2}));
}

TEST(SignalTest, SignalNotInNotifySignalsIsRejected) {
  runTask(
      1,
      [&] {
        std::error_code ec;
        SignalReader reader({SIGUSR2}, ec);
        EXPECT_EQ(ec, std::errc::invalid_argument);
        reader.wait(after(10ms), ec);
        EXPECT_EQ(ec, std::errc::bad_file_descriptor);
        SignalReader none({}, ec);
        EXPECT_EQ(ec, std::errc::invalid_argument);
      },
      withSignals({SIGUSR1}));
}

TEST(SignalTest, InterruptWakesTheWaiter) {
  runTask(
      2,
      [&] {
        std::error_code ec;
        SignalReader reader({SIGUSR1}, ec);
        ASSERT_FALSE(ec);
        rt::WaitGroup interrupter;
        interrupter.add(1);
        rt::go([&] {
          rt::sleep_for(30ms);
          reader.interrupt();
          interrupter.done();
        });
        const auto t0 = Clock::now();
        EXPECT_FALSE(reader.wait(kNoDeadline, ec));
        EXPECT_EQ(ec, std::errc::operation_canceled);
        EXPECT_GE(msSince(t0), 25);
        interrupter.wait();
      },
      withSignals({SIGUSR1}));
}

}  // namespace
}  // namespace rt::net
