// TcpListener/TcpConn over loopback: echo at 1,000 connections, every error
// condition the header names (eof, timed_out, connection_reset,
// connection_refused, operation_canceled), writev, adopt, IPv6.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "runtime/net/net.h"
#include "runtime/runtime.h"
#include "runtime/sync/sync.h"
#include "tests/unit/runtime/net/net_test_util.h"

namespace rt::net {
namespace {

using namespace std::chrono_literals;
using testing::after;
using testing::connectPair;
using testing::listenLoopback;
using testing::msSince;
using testing::readFull;
using testing::runTask;

// Serves one connection: echoes fixed-size messages until eof.
void echoServe(TcpConn c, size_t msg) {
  std::vector<char> buf(msg);
  std::error_code ec;
  for (;;) {
    if (readFull(c, buf.data(), msg, ec) != msg) break;
    if (c.write(buf.data(), msg, ec) != msg) break;
  }
}

TEST(TcpTest, EchoThousandConcurrentConnections) {
  constexpr int kConns = 1000;
  const int rounds = testing::scaled(20, 4);
  constexpr size_t kMsg = 64;
  std::atomic<int> ok{0};
  std::atomic<int> failures{0};
  rt::WaitGroup clients, servers;
  runTask(2, [&] {
    TcpListener ln = listenLoopback();
    const Address addr = ln.localAddress();
    servers.add(kConns);
    rt::go([&] {
      for (int i = 0; i < kConns; i++) {
        std::error_code ec;
        TcpConn c = ln.accept(after(30s), ec);
        if (ec) {
          failures++;
          servers.done();
          continue;
        }
        rt::go([&servers, c = std::move(c)]() mutable {
          echoServe(std::move(c), kMsg);
          servers.done();
        });
      }
    });
    clients.add(kConns);
    for (int i = 0; i < kConns; i++) {
      rt::go([&, i] {
        std::error_code ec;
        TcpConn c = connect(addr, after(30s), ec);
        if (ec) {
          failures++;
          clients.done();
          return;
        }
        char out[kMsg], in[kMsg];
        bool good = true;
        for (int r = 0; r < rounds && good; r++) {
          std::memset(out, 'a' + (i + r) % 26, kMsg);
          good = c.write(out, kMsg, ec) == kMsg && readFull(c, in, kMsg, ec) == kMsg &&
                 std::memcmp(in, out, kMsg) == 0;
        }
        if (good) ok++; else failures++;
        c.close();
        clients.done();
      });
    }
    clients.wait();
    servers.wait();
  });
  EXPECT_EQ(ok.load(), kConns);
  EXPECT_EQ(failures.load(), 0);
}

TEST(TcpTest, ReadDeadlineTimesOutAndTheTaskGoesOn) {
  runTask(2, [&] {
    TcpListener ln = listenLoopback();
    std::error_code ec;
    TcpConn client, server;
    ASSERT_TRUE(connectPair(ln, client, server));

    char b;
    server.setReadDeadline(after(50ms));
    const auto t0 = Clock::now();
    EXPECT_EQ(server.read(&b, 1, ec), 0u);
    EXPECT_EQ(ec, std::errc::timed_out);
    EXPECT_GE(msSince(t0), 45);
    EXPECT_LT(msSince(t0), 2000);

    // The same Task goes on: a later read with no deadline gets the data.
    server.setReadDeadline(kNoDeadline);
    rt::WaitGroup writer;
    writer.add(1);
    rt::go([&] {
      rt::sleep_for(20ms);
      std::error_code wec;
      client.write("x", 1, wec);
      writer.done();
    });
    EXPECT_EQ(server.read(&b, 1, ec), 1u);
    EXPECT_FALSE(ec);
    EXPECT_EQ(b, 'x');
    writer.wait();
    // A deadline already in the past fails at once.
    server.setReadDeadline(Clock::now() - 1s);
    EXPECT_EQ(server.read(&b, 1, ec), 0u);
    EXPECT_EQ(ec, std::errc::timed_out);
  });
}

TEST(TcpTest, WriteDeadlineReportsPartialCount) {
  runTask(1, [&] {
    TcpListener ln = listenLoopback();
    std::error_code ec;
    TcpConn client, server;
    ASSERT_TRUE(connectPair(ln, client, server));
    // Nobody reads the client side: the buffers fill and the write waits.
    std::vector<char> big(64 << 20, 'z');
    server.setWriteDeadline(after(100ms));
    const auto t0 = Clock::now();
    const size_t n = server.write(big.data(), big.size(), ec);
    EXPECT_EQ(ec, std::errc::timed_out);
    EXPECT_GT(n, 0u);
    EXPECT_LT(n, big.size());
    EXPECT_GE(msSince(t0), 90);
  });
}

TEST(TcpTest, AcceptDeadlineTimesOut) {
  runTask(1, [&] {
    TcpListener ln = listenLoopback();
    std::error_code ec;
    const auto t0 = Clock::now();
    TcpConn c = ln.accept(after(50ms), ec);
    EXPECT_EQ(ec, std::errc::timed_out);
    EXPECT_FALSE(c.valid());
    EXPECT_GE(msSince(t0), 45);
    EXPECT_LT(msSince(t0), 2000);
  });
}

TEST(TcpTest, ConnectToClosedPortIsRefusedQuickly) {
  runTask(1, [&] {
    Address addr;
    {
      TcpListener ln = listenLoopback();
      addr = ln.localAddress();
    }  // closed: nobody listens on that port now
    std::error_code ec;
    const auto t0 = Clock::now();
    TcpConn c = connect(addr, after(5s), ec);
    EXPECT_EQ(ec, std::errc::connection_refused) << ec.message();
    EXPECT_FALSE(c.valid());
    EXPECT_LT(msSince(t0), 1000);
    // The host:port form goes through resolve() first.
    c = connect("localhost:" + std::to_string(addr.port()), after(5s), ec);
    EXPECT_EQ(ec, std::errc::connection_refused) << ec.message();
  });
}

// Linux drops a SYN while the listener's accept queue is full (backlog 1
// holds 2 connections), so a further connect waits for its SYN
// retransmission (1 s) and our 100 ms deadline passes first.
TEST(TcpTest, ConnectDeadlineWithFullAcceptQueue) {
  runTask(1, [&] {
    ListenOptions opts;
    opts.backlog = 1;
    TcpListener ln = listenLoopback(opts);
    std::vector<TcpConn> held;
    bool timed_out = false;
    for (int i = 0; i < 8 && !timed_out; i++) {
      std::error_code ec;
      const auto t0 = Clock::now();
      TcpConn c = connect(ln.localAddress(), after(100ms), ec);
      if (ec == std::errc::timed_out) {
        timed_out = true;
        EXPECT_GE(msSince(t0), 90);
        EXPECT_LT(msSince(t0), 900);
      } else {
        ASSERT_FALSE(ec) << ec.message();
        held.push_back(std::move(c));
      }
    }
    EXPECT_TRUE(timed_out) << "accept queue never filled after " << held.size() << " connects";
  });
}

TEST(TcpTest, PeerResetIsConnectionReset) {
  runTask(2, [&] {
    TcpListener ln = listenLoopback();
    std::error_code ec;
    TcpConn client, server;
    ASSERT_TRUE(connectPair(ln, client, server));
    // Linger 0: close sends RST instead of FIN.
    linger lg{1, 0};
    ASSERT_EQ(setsockopt(client.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    rt::WaitGroup closer;
    closer.add(1);
    rt::go([&] {
      rt::sleep_for(20ms);
      client.close();
      closer.done();
    });
    char b;
    server.setReadDeadline(after(5s));
    EXPECT_EQ(server.read(&b, 1, ec), 0u);
    EXPECT_EQ(ec, std::errc::connection_reset) << ec.message();
    // Writing to the dead connection: EPIPE, reported as a reset too.
    EXPECT_EQ(server.write("x", 1, ec), 0u);
    EXPECT_EQ(ec, std::errc::connection_reset) << ec.message();
    closer.wait();
  });
}

TEST(TcpTest, WriteAfterPeerClosedEndsInResetNotSigpipe) {
  runTask(1, [&] {
    TcpListener ln = listenLoopback();
    TcpConn client, server;
    ASSERT_TRUE(connectPair(ln, client, server));
    client.close();  // orderly FIN; our writes then draw an RST
    std::error_code wec;
    for (int i = 0; i < 200 && !wec; i++) {
      server.write("data", 4, wec);
      rt::sleep_for(1ms);
    }
    EXPECT_EQ(wec, std::errc::connection_reset) << wec.message();
  });
}

TEST(TcpTest, HalfCloseEachDirection) {
  runTask(2, [&] {
    TcpListener ln = listenLoopback();
    std::error_code ec;
    TcpConn client, server;
    ASSERT_TRUE(connectPair(ln, client, server));
    rt::WaitGroup done;
    done.add(1);
    rt::go([&] {
      std::error_code sec;
      char buf[16];
      EXPECT_EQ(readFull(server, buf, 5, sec), 5u);
      EXPECT_EQ(std::string(buf, 5), "hello");
      EXPECT_EQ(server.read(buf, sizeof buf, sec), 0u);
      EXPECT_EQ(sec, errc::eof);
      // The other direction still works after the peer's half-close.
      EXPECT_EQ(server.write("bye", 3, sec), 3u);
      EXPECT_FALSE(sec);
      EXPECT_FALSE(server.shutdownWrite());
      done.done();
    });
    EXPECT_EQ(client.write("hello", 5, ec), 5u);
    EXPECT_FALSE(client.shutdownWrite());
    char buf[16];
    EXPECT_EQ(readFull(client, buf, 3, ec), 3u);
    EXPECT_EQ(std::string(buf, 3), "bye");
    EXPECT_EQ(client.read(buf, sizeof buf, ec), 0u);
    EXPECT_EQ(ec, errc::eof);
    done.wait();
  });
}

TEST(TcpTest, InterruptWakesBlockedReadAndAccept) {
  runTask(2, [&] {
    TcpListener ln = listenLoopback();
    std::error_code ec;
    TcpConn client, server;
    ASSERT_TRUE(connectPair(ln, client, server));
    rt::WaitGroup done;
    done.add(2);
    std::error_code read_ec, accept_ec;
    int64_t read_ms = 0;
    rt::go([&] {
      char b;
      const auto t0 = Clock::now();
      server.read(&b, 1, read_ec);
      read_ms = msSince(t0);
      done.done();
    });
    rt::go([&] {
      TcpConn c = ln.accept(accept_ec);
      done.done();
    });
    rt::sleep_for(50ms);
    server.interrupt();
    ln.interrupt();
    done.wait();
    EXPECT_EQ(read_ec, std::errc::operation_canceled) << read_ec.message();
    EXPECT_EQ(accept_ec, std::errc::operation_canceled) << accept_ec.message();
    EXPECT_GE(read_ms, 40);
    // Final: later operations fail the same way, even with data waiting.
    client.write("x", 1, ec);
    char b;
    EXPECT_EQ(server.read(&b, 1, ec), 0u);
    EXPECT_EQ(ec, std::errc::operation_canceled);
    EXPECT_EQ(server.write("x", 1, ec), 0u);
    EXPECT_EQ(ec, std::errc::operation_canceled);
  });
}

TEST(TcpTest, WritevGathersAndSurvivesPartialWrites) {
  runTask(2, [&] {
    TcpListener ln = listenLoopback();
    std::error_code ec;
    TcpConn client, server;
    ASSERT_TRUE(connectPair(ln, client, server));

    // Small: three pieces, one empty.
    const char a[] = "GET ", c[] = "/ HTTP/1.1\r\n";
    iovec small[3] = {{const_cast<char*>(a), 4}, {nullptr, 0}, {const_cast<char*>(c), 12}};
    EXPECT_EQ(client.writev(small, 3, ec), 16u);
    EXPECT_FALSE(ec);
    char buf[16];
    EXPECT_EQ(readFull(server, buf, 16, ec), 16u);
    EXPECT_EQ(std::string(buf, 16), "GET / HTTP/1.1\r\n");

    // Large: 100 entries (more than one sendmsg batch) of 32 KiB, far more
    // than the socket buffers, so sendmsg returns short counts that end in
    // the middle of entries.
    constexpr int kParts = 100;
    constexpr size_t kPart = 32 << 10;
    std::vector<char> data(kParts * kPart);
    for (size_t i = 0; i < data.size(); i++) data[i] = static_cast<char>(i * 7 + i / 4093);
    std::vector<iovec> iov(kParts);
    for (int i = 0; i < kParts; i++) iov[i] = {data.data() + i * kPart, kPart};
    std::vector<char> got(data.size());
    rt::WaitGroup done;
    done.add(1);
    size_t got_n = 0;
    rt::go([&] {
      std::error_code rec;
      got_n = readFull(server, got.data(), got.size(), rec);
      done.done();
    });
    EXPECT_EQ(client.writev(iov.data(), kParts, ec), data.size());
    EXPECT_FALSE(ec) << ec.message();
    done.wait();
    EXPECT_EQ(got_n, data.size());
    EXPECT_TRUE(got == data);
  });
}

// read() skips the syscall when a short read said the queue was empty and
// waits for an edge instead: data arriving after that look must still wake
// the reader, whatever the read sizes.
TEST(TcpTest, DrainedReadsStillSeeLaterData) {
  runTask(2, [&] {
    TcpListener ln = listenLoopback();
    std::error_code ec;
    TcpConn client, server;
    ASSERT_TRUE(connectPair(ln, client, server));
    server.setReadDeadline(after(20s));

    // Byte by byte: bytes left queued, then none, then late data.
    EXPECT_EQ(client.write("abc", 3, ec), 3u);
    rt::sleep_for(5ms);
    std::string got;
    char b;
    for (int i = 0; i < 3; i++) {
      ASSERT_EQ(server.read(&b, 1, ec), 1u) << ec.message();
      got += b;
    }
    EXPECT_EQ(got, "abc");
    rt::WaitGroup writer;
    writer.add(1);
    rt::go([&] {
      std::error_code wec;
      rt::sleep_for(20ms);
      client.write("d", 1, wec);
      writer.done();
    });
    ASSERT_EQ(server.read(&b, 1, ec), 1u) << ec.message();
    EXPECT_EQ(b, 'd');
    writer.wait();

    // A stream of odd-sized writes against odd-sized reads, writer and
    // reader on different Ps: the queue keeps going empty and non-empty
    // under the reader's feet.
    const int kMessages = testing::scaled(20000, 10);
    std::vector<char> sent;
    uint32_t seed = 12345;
    auto next = [&seed] {
      seed = seed * 1103515245u + 12345u;
      return seed >> 16;
    };
    for (int i = 0; i < kMessages; i++) {
      const size_t len = 1 + next() % 300;
      for (size_t j = 0; j < len; j++) sent.push_back(static_cast<char>(next()));
    }
    writer.add(1);
    rt::go([&] {
      std::error_code wec;
      uint32_t wseed = 777;
      size_t off = 0;
      while (off < sent.size() && !wec) {
        wseed = wseed * 1103515245u + 12345u;
        const size_t len = std::min<size_t>(1 + (wseed >> 16) % 300, sent.size() - off);
        client.write(sent.data() + off, len, wec);
        off += len;
        if ((wseed >> 8) % 16 == 0) rt::yield();
      }
      writer.done();
    });
    std::vector<char> recvd;
    recvd.reserve(sent.size());
    char buf[4096];
    size_t sizes[] = {7, 4096, 1, 300, 64};
    for (int i = 0; recvd.size() < sent.size(); i++) {
      const size_t want = std::min(sizes[i % 5], sent.size() - recvd.size());
      const size_t n = server.read(buf, want, ec);
      ASSERT_FALSE(ec) << ec.message() << " after " << recvd.size() << " bytes";
      recvd.insert(recvd.end(), buf, buf + n);
    }
    writer.wait();
    EXPECT_TRUE(recvd == sent);

    // Drained, then the peer closes: the FIN's edge ends the wait with eof.
    client.close();
    EXPECT_EQ(server.read(buf, sizeof buf, ec), 0u);
    EXPECT_EQ(ec, errc::eof);
  });
}

// A short read normally means "queue empty, wait for an edge". Not when the
// peer's FIN came in the same edge as the data: recv returns the data now
// and the end only on the next call, and no edge will come for it. One
// worker, so the writer's data and FIN are both queued before the poller
// runs and reach the parked reader as one event.
TEST(TcpTest, ShortReadBeforeAQueuedFinStillSeesTheEnd) {
  runTask(1, [&] {
    TcpListener ln = listenLoopback();
    std::error_code ec;
    TcpConn client, server;
    ASSERT_TRUE(connectPair(ln, client, server));
    rt::WaitGroup writer;
    writer.add(1);
    rt::go([&] {
      std::error_code wec;
      rt::sleep_for(10ms);  // the reader parks first
      client.write("data", 4, wec);
      client.shutdownWrite();
      writer.done();
    });
    server.setReadDeadline(after(3s));
    char buf[64];
    EXPECT_EQ(server.read(buf, sizeof buf, ec), 4u) << ec.message();
    const auto t0 = Clock::now();
    EXPECT_EQ(server.read(buf, sizeof buf, ec), 0u);
    EXPECT_EQ(ec, errc::eof) << ec.message();
    EXPECT_LT(msSince(t0), 1000) << "the end was only seen at the read deadline";
    writer.wait();
  });
}

TEST(TcpTest, SocketOptionsAndAddresses) {
  runTask(1, [&] {
    TcpListener ln = listenLoopback();
    std::error_code ec;
    TcpConn client, server;
    ASSERT_TRUE(connectPair(ln, client, server));
    auto intOpt = [](int fd, int level, int name) {
      int v = -1;
      socklen_t len = sizeof v;
      getsockopt(fd, level, name, &v, &len);
      return v;
    };
    // Accepted and connected sockets: non-blocking, close-on-exec, no delay.
    for (const TcpConn* c : {&client, &server}) {
      EXPECT_NE(fcntl(c->fd(), F_GETFL) & O_NONBLOCK, 0);
      EXPECT_NE(fcntl(c->fd(), F_GETFD) & FD_CLOEXEC, 0);
      EXPECT_NE(intOpt(c->fd(), IPPROTO_TCP, TCP_NODELAY), 0);
    }
    EXPECT_FALSE(server.setNoDelay(false));
    EXPECT_EQ(intOpt(server.fd(), IPPROTO_TCP, TCP_NODELAY), 0);
    EXPECT_FALSE(server.setKeepAlive(true, std::chrono::seconds(30)));
    EXPECT_NE(intOpt(server.fd(), SOL_SOCKET, SO_KEEPALIVE), 0);
    EXPECT_EQ(intOpt(server.fd(), IPPROTO_TCP, TCP_KEEPIDLE), 30);
    EXPECT_EQ(intOpt(server.fd(), IPPROTO_TCP, TCP_KEEPINTVL), 30);
    EXPECT_FALSE(server.setKeepAlive(false));
    EXPECT_EQ(intOpt(server.fd(), SOL_SOCKET, SO_KEEPALIVE), 0);

    EXPECT_EQ(client.peerAddress().toString(), ln.localAddress().toString());
    EXPECT_EQ(server.peerAddress().toString(), client.localAddress().toString());
    EXPECT_EQ(server.localAddress().port(), ln.localAddress().port());

    // Move transfers ownership; the moved-from object is empty.
    const int fd = server.fd();
    TcpConn moved = std::move(server);
    EXPECT_FALSE(server.valid());
    EXPECT_EQ(moved.fd(), fd);
    char b;
    EXPECT_EQ(server.read(&b, 1, ec), 0u);
    EXPECT_EQ(ec, std::errc::bad_file_descriptor);
  });
}

TEST(TcpTest, ReuseAddrAlwaysAndReusePortOnRequest) {
  runTask(1, [&] {
    ListenOptions opts;
    opts.reuse_port = true;
    TcpListener a = listenLoopback(opts);
    std::error_code ec;
    TcpListener b = TcpListener::bind(a.localAddress(), opts, ec);
    EXPECT_FALSE(ec) << ec.message();
    TcpListener c = TcpListener::bind(a.localAddress(), ListenOptions{}, ec);
    EXPECT_EQ(ec, std::errc::address_in_use) << ec.message();
    EXPECT_FALSE(c.valid());
  });
}

TEST(TcpTest, AdoptInheritedListenerAndConnectedSocket) {
  runTask(2, [&] {
    // A blocking listening socket, as a parent process would hand it over.
    const int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
    Address any = *Address::parse("127.0.0.1:0");
    ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&any.storage), any.len), 0);
    ASSERT_EQ(::listen(lfd, 16), 0);
    std::error_code ec;
    TcpListener ln = TcpListener::adopt(lfd, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_NE(fcntl(ln.fd(), F_GETFL) & O_NONBLOCK, 0);
    TcpConn client, server;
    ASSERT_TRUE(connectPair(ln, client, server));

    // A connected pair adopted as TcpConns.
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    TcpConn x = TcpConn::adopt(sv[0], ec);
    ASSERT_FALSE(ec);
    TcpConn y = TcpConn::adopt(sv[1], ec);
    ASSERT_FALSE(ec);
    rt::WaitGroup writer;
    writer.add(1);
    rt::go([&] {
      rt::sleep_for(10ms);
      std::error_code wec;
      x.write("ping", 4, wec);
      writer.done();
    });
    char buf[4];
    EXPECT_EQ(readFull(y, buf, 4, ec), 4u);
    EXPECT_EQ(std::string(buf, 4), "ping");
    writer.wait();

    // Adopting something that is not a listener fails and closes the fd.
    const int notl = ::socket(AF_INET, SOCK_STREAM, 0);
    TcpListener bad = TcpListener::adopt(notl, ec);
    EXPECT_EQ(ec, std::errc::invalid_argument);
    EXPECT_EQ(fcntl(notl, F_GETFD), -1);
  });
}

TEST(TcpTest, Ipv6LoopbackEcho) {
  bool skipped = false;
  runTask(2, [&] {
    std::error_code ec;
    TcpListener ln = TcpListener::bind("[::1]:0", ListenOptions{}, ec);
    if (ec) {
      skipped = true;
      return;
    }
    EXPECT_EQ(ln.localAddress().family(), AF_INET6);
    rt::WaitGroup server;
    server.add(1);
    rt::go([&] {
      std::error_code sec;
      TcpConn s = ln.accept(after(5s), sec);
      if (!sec) echoServe(std::move(s), 5);
      server.done();
    });
    {
      TcpConn c = connect("[::1]:" + std::to_string(ln.localAddress().port()), after(5s), ec);
      EXPECT_FALSE(ec) << ec.message();
      EXPECT_EQ(c.peerAddress().toString(),
                "[::1]:" + std::to_string(ln.localAddress().port()));
      char buf[5];
      EXPECT_EQ(c.write("six!!", 5, ec), 5u);
      EXPECT_EQ(readFull(c, buf, 5, ec), 5u);
      EXPECT_EQ(std::string(buf, 5), "six!!");
    }  // closed: the server sees eof
    server.wait();
  });
  if (skipped) GTEST_SKIP() << "IPv6 loopback unavailable";
}

TEST(TcpTest, OperationsFromAPlainThreadDoNotWait) {
  runTask(1, [&] {
    TcpListener ln = listenLoopback();
    std::error_code ec;
    rt::blocking([&] {
      std::thread([&] { ln.accept(ec); }).join();
    });
    EXPECT_EQ(ec, std::errc::operation_not_permitted);
  });
}

// The non-parking pair TLS builds on: tryRead says "would block" instead
// of parking, waitReadable parks until bytes arrive (or the deadline), and
// tryWrite reports a full send buffer instead of waiting.
TEST(TcpTest, TryReadWaitReadableTryWrite) {
  runTask(1, [] {
    TcpListener ln = listenLoopback();
    std::error_code ec;
    TcpConn client, server;
    ASSERT_TRUE(connectPair(ln, client, server));

    char buf[64];
    EXPECT_EQ(server.tryRead(buf, sizeof buf, ec), 0u);
    EXPECT_EQ(ec, std::errc::resource_unavailable_try_again);

    server.setReadDeadline(after(30ms));
    EXPECT_EQ(server.waitReadable(), std::errc::timed_out);

    rt::go([&client] {
      rt::sleep_for(20ms);
      std::error_code wec;
      client.write("hello", 5, wec);
    });
    server.setReadDeadline(after(5s));
    std::error_code wait_ec;
    size_t n = 0;
    for (int i = 0; i < 10 && n == 0; i++) {
      wait_ec = server.waitReadable();
      if (wait_ec) break;
      n = server.tryRead(buf, sizeof buf, ec);
    }
    ASSERT_FALSE(wait_ec) << wait_ec.message();
    EXPECT_EQ(std::string(buf, n), "hello");
    // The queue is known empty now: no syscall, still "would block".
    EXPECT_EQ(server.tryRead(buf, sizeof buf, ec), 0u);
    EXPECT_EQ(ec, std::errc::resource_unavailable_try_again);

    // Fill the send buffer: tryWrite goes short, then reports would-block.
    std::vector<char> big(1 << 20, 'x');
    size_t sent = 0;
    bool blocked = false;
    for (int i = 0; i < 1000 && !blocked; i++) {
      const size_t w = client.tryWrite(big.data(), big.size(), ec);
      sent += w;
      blocked = w == 0 && ec == std::errc::resource_unavailable_try_again;
    }
    EXPECT_TRUE(blocked);
    EXPECT_GT(sent, 0u);
    client.setWriteDeadline(after(30ms));
    EXPECT_EQ(client.waitWritable(), std::errc::timed_out);

    client.close();
    size_t drained = 0;
    server.setReadDeadline(after(5s));
    for (int i = 0; i < 100000; i++) {
      const size_t r = server.tryRead(big.data(), big.size(), ec);
      drained += r;
      if (ec == std::errc::resource_unavailable_try_again) {
        if (server.waitReadable()) break;
        continue;
      }
      if (ec) break;
    }
    EXPECT_EQ(ec, rt::net::errc::eof);
    EXPECT_EQ(drained, sent);
  });
}

}  // namespace
}  // namespace rt::net
