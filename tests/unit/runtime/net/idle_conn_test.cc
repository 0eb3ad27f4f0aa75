// Idle connections and fd hygiene: armOnReadable holds no Task (10,000
// armed connections, the peers in a child process so both ends fit under
// RLIMIT_NOFILE), and the fd count is back at its baseline after 10,000
// connect/accept/close cycles and the error paths.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "runtime/net/net.h"
#include "runtime/runtime.h"
#include "tests/unit/runtime/net/net_test_util.h"

namespace rt::net {
namespace {

using namespace std::chrono_literals;
using testing::after;
using testing::listenLoopback;
using testing::runTask;
using testing::waitUntil;

struct Slot {
  TcpConn conn;
  std::atomic<int> hits{0};
  std::atomic<int> bad{0};
  std::atomic<int>* fired = nullptr;
  char expect = 0;
  bool rearm = false;
};

// The hook: runs in a fresh Task with data (or eof) already waiting.
void onReadable(void* arg) {
  auto* s = static_cast<Slot*>(arg);
  char b = 0;
  std::error_code ec;
  if (s->conn.read(&b, 1, ec) == 1 && b == s->expect) {
    s->hits++;
  } else {
    s->bad++;
  }
  if (s->rearm) {
    s->rearm = false;
    s->expect++;
    s->conn.armOnReadable(onReadable, s);
  }
  s->fired->fetch_add(1);
}

TEST(IdleConnTest, ArmedConnectionStartsATaskWhenDataArrives) {
  runTask(2, [&] {
    TcpListener ln = listenLoopback();
    std::error_code ec;
    TcpConn client = connect(ln.localAddress(), after(5s), ec);
    ASSERT_FALSE(ec);
    std::atomic<int> fired{0};
    Slot slot;
    slot.conn = ln.accept(after(5s), ec);
    ASSERT_FALSE(ec);
    slot.fired = &fired;
    slot.expect = 'a';
    slot.rearm = true;  // the hook re-arms itself once, for 'b'
    slot.conn.armOnReadable(onReadable, &slot);
    rt::sleep_for(20ms);
    EXPECT_EQ(fired.load(), 0);
    EXPECT_EQ(rt::snapshot().tasks_live, 1u);  // main only: the armed conn holds none

    client.write("a", 1, ec);
    EXPECT_TRUE(waitUntil([&] { return fired.load() == 1; }));
    client.write("b", 1, ec);
    EXPECT_TRUE(waitUntil([&] { return fired.load() == 2; }));
    EXPECT_EQ(slot.hits.load(), 2);
    EXPECT_EQ(slot.bad.load(), 0);
    EXPECT_TRUE(waitUntil([] { return rt::snapshot().tasks_live == 1; }));

    // Disarmed before the data: the hook does not run.
    slot.expect = 'c';
    slot.conn.armOnReadable(onReadable, &slot);
    EXPECT_TRUE(slot.conn.disarmOnReadable());
    EXPECT_FALSE(slot.conn.disarmOnReadable());
    client.write("c", 1, ec);
    rt::sleep_for(50ms);
    EXPECT_EQ(fired.load(), 2);
    // Armed while that byte is pending: runs at once.
    slot.conn.armOnReadable(onReadable, &slot);
    EXPECT_TRUE(waitUntil([&] { return fired.load() == 3; }));
    EXPECT_EQ(slot.hits.load(), 3);
    EXPECT_FALSE(slot.conn.disarmOnReadable());
  });
}

// The child process: connects n times, then writes one byte on the
// connection each command names. Plain syscalls only (forked from a
// process that may have had threads), no allocation.
[[noreturn]] void childMain(uint16_t port, int n, int* fds, int cmd_fd, int ack_fd) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  char go;
  if (::read(cmd_fd, &go, 1) != 1) _exit(1);
  for (int i = 0; i < n; i++) {
    fds[i] = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fds[i] < 0 || ::connect(fds[i], reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) {
      _exit(2);
    }
  }
  if (::write(ack_fd, "c", 1) != 1) _exit(3);
  for (;;) {
    uint32_t idx;
    if (::read(cmd_fd, &idx, sizeof idx) != static_cast<ssize_t>(sizeof idx)) _exit(0);
    if (idx >= static_cast<uint32_t>(n)) _exit(0);
    if (::write(fds[idx], "d", 1) != 1) _exit(4);
  }
}

TEST(IdleConnTest, TenThousandArmedConnectionsHoldNoTasks) {
  const int n = testing::scaled(10000);
  constexpr int kWoken = 50;
  // The listening socket exists before the fork so the child knows the port.
  const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  Address any = *Address::parse("127.0.0.1:0");
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&any.storage), any.len), 0);
  ASSERT_EQ(::listen(lfd, 4096), 0);
  sockaddr_in bound{};
  socklen_t blen = sizeof bound;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&bound), &blen);
  int cmd[2], ack[2];
  ASSERT_EQ(::pipe(cmd), 0);
  ASSERT_EQ(::pipe(ack), 0);
  std::vector<int> child_fds(static_cast<size_t>(n), -1);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(lfd);
    ::close(cmd[1]);
    ::close(ack[0]);
    childMain(ntohs(bound.sin_port), n, child_fds.data(), cmd[0], ack[1]);
  }
  ::close(cmd[0]);
  ::close(ack[1]);

  std::atomic<int> fired{0};
  std::vector<Slot> slots(static_cast<size_t>(n));  // never resized: hooks keep &slots[i]
  runTask(2, [&] {
    // The slots outlive rt::run: close them inside it on every path (an
    // ASSERT returns early), while the netpoller still exists.
    struct CloseAll {
      std::vector<Slot>& slots;
      ~CloseAll() {
        for (Slot& s : slots) s.conn.close();
      }
    } close_all{slots};
    std::error_code ec;
    TcpListener ln = TcpListener::adopt(lfd, ec);
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_EQ(::write(cmd[1], "g", 1), 1);
    for (int i = 0; i < n; i++) {
      Slot& s = slots[static_cast<size_t>(i)];
      s.conn = ln.accept(after(30s), ec);
      ASSERT_FALSE(ec) << "accept " << i << ": " << ec.message();
      s.fired = &fired;
      s.expect = 'd';
      s.conn.armOnReadable(onReadable, &s);
    }
    char c = 0;
    ASSERT_EQ(rt::blocking([&] { return ::read(ack[0], &c, 1); }), 1);
    rt::sleep_for(20ms);
    const SchedSnapshot idle = rt::snapshot();
    EXPECT_EQ(idle.tasks_live, 1u) << "only the main Task; the armed connections hold none";
    EXPECT_GE(idle.netpoll_waiters, n);
    EXPECT_EQ(fired.load(), 0);

    // The child writes to kWoken connections spread over the range.
    for (int j = 0; j < kWoken; j++) {
      const uint32_t idx = static_cast<uint32_t>(j * (n / kWoken));
      ASSERT_EQ(::write(cmd[1], &idx, sizeof idx), static_cast<ssize_t>(sizeof idx));
    }
    EXPECT_TRUE(waitUntil([&] { return fired.load() >= kWoken; }));
    rt::sleep_for(20ms);
    EXPECT_EQ(fired.load(), kWoken);
    EXPECT_TRUE(waitUntil([] { return rt::snapshot().tasks_live == 1; }));
    int hits = 0, bad = 0, disarmed = 0;
    for (Slot& s : slots) {
      hits += s.hits.load();
      bad += s.bad.load();
      if (s.conn.disarmOnReadable()) disarmed++;
      s.conn.close();
    }
    EXPECT_EQ(hits, kWoken);
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(disarmed, n - kWoken);
    EXPECT_EQ(rt::snapshot().netpoll_waiters, 0);
  });
  const uint32_t quit = UINT32_MAX;
  EXPECT_EQ(::write(cmd[1], &quit, sizeof quit), static_cast<ssize_t>(sizeof quit));
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  ::close(cmd[1]);
  ::close(ack[0]);
}

TEST(IdleConnTest, FdCountReturnsToBaselineAfterManyCycles) {
  const int cycles = testing::scaled(10000, 5);
  runTask(2, [&] {
    Address refused_addr;
    {
      TcpListener gone = listenLoopback();
      refused_addr = gone.localAddress();
    }
    const int base = testing::openFdCount();
    ASSERT_GT(base, 0);
    {
      TcpListener ln = listenLoopback();
      const Address addr = ln.localAddress();
      for (int i = 0; i < cycles; i++) {
        std::error_code ec;
        TcpConn c = connect(addr, after(10s), ec);
        ASSERT_FALSE(ec) << "cycle " << i << ": " << ec.message();
        TcpConn s = ln.accept(after(10s), ec);
        ASSERT_FALSE(ec) << "cycle " << i << ": " << ec.message();
        if (i % 100 == 0) {  // now and then a byte each way
          char b;
          c.write("q", 1, ec);
          s.read(&b, 1, ec);
          s.write(&b, 1, ec);
          c.read(&b, 1, ec);
          ASSERT_FALSE(ec);
        }
        // Either side closes first; the other one by its destructor.
        if (i % 2 == 0) c.close(); else s.close();
      }
      // Error paths open and close sockets too.
      for (int i = 0; i < 100; i++) {
        std::error_code ec;
        TcpConn c = connect(refused_addr, after(5s), ec);
        ASSERT_EQ(ec, std::errc::connection_refused);
        TcpConn s = ln.accept(Clock::now(), ec);
        ASSERT_EQ(ec, std::errc::timed_out);
      }
      std::error_code ec;
      TcpListener dup = TcpListener::bind(addr, ListenOptions{}, ec);
      ASSERT_EQ(ec, std::errc::address_in_use);
      TcpConn bad = TcpConn::adopt(-1, ec);
      EXPECT_EQ(ec, std::errc::bad_file_descriptor);
    }
    EXPECT_EQ(testing::openFdCount(), base);
  });
}

}  // namespace
}  // namespace rt::net
