// rt::net on the scheduler: a Task parked on a socket is woken whether the
// runtime sleeps in a blocking epoll_wait (nothing else to do) or every P
// is busy (sysmon's hand-off poll).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "runtime/net/net.h"
#include "runtime/runtime.h"
#include "runtime/sync/sync.h"
#include "tests/unit/runtime/net/net_test_util.h"

namespace rt::net {
namespace {

using namespace std::chrono_literals;
using testing::after;
using testing::listenLoopback;
using testing::readFull;
using testing::runTask;

int64_t nowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             Clock::now().time_since_epoch())
      .count();
}

struct Pair {
  TcpListener ln;
  TcpConn client;
  TcpConn server;
};

Pair connectedPair() {
  Pair p;
  p.ln = listenLoopback();
  std::error_code ec;
  p.client = connect(p.ln.localAddress(), after(5s), ec);
  EXPECT_FALSE(ec) << ec.message();
  p.server = p.ln.accept(after(5s), ec);
  EXPECT_FALSE(ec) << ec.message();
  return p;
}

// workers=1 and the only Task parked on a read with no deadline: the M
// blocks in epoll_wait with no timeout. Data written by a plain thread
// must end that wait.
TEST(PollerWakeTest, BlockingPollEndsWhenDataArrives) {
  runTask(1, [&] {
    Pair p = connectedPair();
    const uint64_t waits0 = rt::snapshot().netpoll_blocking_waits;
    std::atomic<int64_t> wrote_us{0};
    const int64_t start_us = nowUs();
    std::thread writer([&] {
      std::this_thread::sleep_for(100ms);
      wrote_us = nowUs();
      ::send(p.client.fd(), "w", 1, MSG_NOSIGNAL);
    });
    char b = 0;
    std::error_code ec;
    EXPECT_EQ(p.server.read(&b, 1, ec), 1u);
    const int64_t woke_us = nowUs();
    rt::blocking([&] { writer.join(); });
    EXPECT_FALSE(ec);
    EXPECT_EQ(b, 'w');
    EXPECT_GE(woke_us - start_us, 90'000);
    EXPECT_LT(woke_us - wrote_us.load(), 1'000'000);
    EXPECT_GE(rt::snapshot().netpoll_blocking_waits, waits0 + 1);
  });
}

// The same blocking wait, ended by a Task spawned from a plain thread (the
// poller's wake-up channel, not an fd event): the new Task writes to the
// peer, which wakes the reader.
TEST(PollerWakeTest, BlockingPollEndsWhenATaskIsSpawnedFromOutside) {
  runTask(1, [&] {
    Pair p = connectedPair();
    std::atomic<int64_t> spawned_us{0};
    rt::WaitGroup writer;
    writer.add(1);
    std::thread spawner([&] {
      std::this_thread::sleep_for(100ms);
      spawned_us = nowUs();
      rt::go([&] {
        std::error_code wec;
        p.client.write("g", 1, wec);
        writer.done();
      });
    });
    char b = 0;
    std::error_code ec;
    EXPECT_EQ(p.server.read(&b, 1, ec), 1u);
    const int64_t woke_us = nowUs();
    rt::blocking([&] { spawner.join(); });
    writer.wait();
    EXPECT_EQ(b, 'g');
    EXPECT_LT(woke_us - spawned_us.load(), 1'000'000);
  });
}

// workers=1 and a Task spinning (calling only yield_if_preempted): no M is
// free to poll, so sysmon polls every poller_handoff_interval (1 ms here)
// and preempts the spinner; an echo Task serving a client thread keeps
// answering during the spin.
TEST(PollerWakeTest, NetworkTasksProgressWhileATaskSpins) {
  Options opts;
  opts.poller_handoff_interval = 1ms;
  std::atomic<int> round_trips{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> client_failed{false};
  rt::WaitGroup spun, served;
  runTask(
      1,
      [&] {
        TcpListener ln = listenLoopback();
        const Address addr = ln.localAddress();
        served.add(1);
        rt::go([&] {
          std::error_code ec;
          TcpConn c = ln.accept(after(10s), ec);
          char buf[8];
          while (!ec && readFull(c, buf, 8, ec) == 8) c.write(buf, 8, ec);
          served.done();  // eof: the client thread closed its socket
        });
        std::thread client([&] {
          const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
          timeval tv{5, 0};  // a broken runtime fails the test, not hangs it
          setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
          if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr.storage), addr.len) != 0) {
            client_failed = true;
          }
          char buf[8] = "1234567";
          while (!stop.load() && !client_failed.load()) {
            if (::send(fd, buf, 8, MSG_NOSIGNAL) != 8) break;
            size_t got = 0;
            while (got < 8) {
              const ssize_t r = ::recv(fd, buf + got, 8 - got, 0);
              if (r <= 0) break;
              got += static_cast<size_t>(r);
            }
            if (got != 8) {
              client_failed = true;
              break;
            }
            round_trips++;
          }
          ::close(fd);
        });
        EXPECT_TRUE(testing::waitUntil([&] { return round_trips.load() >= 5; }));
        const uint64_t forced0 = rt::snapshot().netpoll_forced_polls;
        const int rt0 = round_trips.load();
        spun.add(1);
        rt::go([&] {
          const auto end = Clock::now() + 300ms;
          volatile uint64_t x = 0;
          while (Clock::now() < end) {
            for (int i = 0; i < 1000; i++) x = x + static_cast<uint64_t>(i);
            rt::yield_if_preempted();
          }
          spun.done();
        });
        spun.wait();
        const int during = round_trips.load() - rt0;
        const uint64_t forced = rt::snapshot().netpoll_forced_polls - forced0;
        stop = true;
        rt::blocking([&] { client.join(); });
        served.wait();
        EXPECT_FALSE(client_failed.load());
        EXPECT_GE(during, 20) << "round trips during a 300 ms spin";
        EXPECT_GE(forced, 1u);
        std::printf("round trips during the spin: %d, forced polls: %llu\n", during,
                    static_cast<unsigned long long>(forced));
      },
      opts);
}

}  // namespace
}  // namespace rt::net
