// Regression test for a runtime bug found through rt::net (fixed in
// 675de74, "a Task woken during its park commit is queued by the parking
// M"): a Task parked on an fd with a deadline could be woken and resumed on
// another M while the M that parked it was still inside the park commit
// (poll_desc.cc waitCommit wrote WaitArgs::registered and commitWithTimer
// added sleep_timer after the CAS that published the Task). Plain builds
// then failed the assertion `t->index < 0` in TimerHeap::add within a
// second; TSan reported the races on every run.
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
using testing::readFull;

TEST(ParkCommitRaceTest, PingPongWithReadDeadlines) {
  constexpr int kPairs = 16;
  const int rounds = testing::scaled(5000, 10);
  std::atomic<int> errors{0};
  rt::WaitGroup done;
  testing::runTask(2, [&] {
    TcpListener ln = testing::listenLoopback();
    done.add(2 * kPairs);
    for (int i = 0; i < kPairs; i++) {
      std::error_code ec;
      TcpConn c = connect(ln.localAddress(), after(5s), ec);
      ASSERT_FALSE(ec);
      TcpConn s = ln.accept(after(5s), ec);
      ASSERT_FALSE(ec);
      // Both sides read with a deadline: every park arms sleep_timer.
      rt::go([&, s = std::move(s)]() mutable {
        char b[8];
        std::error_code sec;
        for (int r = 0; r < rounds; r++) {
          s.setReadDeadline(after(10s));
          if (readFull(s, b, 8, sec) != 8 || s.write(b, 8, sec) != 8) {
            errors++;
            break;
          }
        }
        done.done();
      });
      rt::go([&, c = std::move(c)]() mutable {
        char b[8] = "ping123";
        std::error_code cec;
        for (int r = 0; r < rounds; r++) {
          c.setReadDeadline(after(10s));
          if (c.write(b, 8, cec) != 8 || readFull(c, b, 8, cec) != 8) {
            errors++;
            break;
          }
        }
        done.done();
      });
    }
    done.wait();
  });
  EXPECT_EQ(errors.load(), 0);
}

}  // namespace
}  // namespace rt::net
