// Runtime behaviour the proxy relies on, reduced to the runtime API. Found
// by the integration tests; kept here as regression tests.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "runtime/net/net.h"
#include "runtime/runtime.h"

namespace {

using namespace std::chrono_literals;

// A hook armed while an edge is already pending starts its Task at once.
// That Task was counted twice (once when built, once by startTask), so
// tasks_live (the switchyard_runtime_tasks metric) drifted up for good.
TEST(RuntimeAccounting, HookStartedAtArmTimeIsCountedOnce) {
  rt::Options opts;
  opts.workers = 2;
  uint64_t before = 0, after = 0;
  bool ran_in_time = false;
  rt::run(opts, [&] {
    std::error_code ec;
    rt::net::TcpListener listener =
        rt::net::TcpListener::bind("127.0.0.1:0", rt::net::ListenOptions{}, ec);
    ASSERT_FALSE(ec);
    rt::net::TcpConn client =
        rt::net::connect(listener.localAddress(), rt::net::Clock::now() + 5s, ec);
    ASSERT_FALSE(ec);
    rt::net::TcpConn server = listener.accept(rt::net::Clock::now() + 5s, ec);
    ASSERT_FALSE(ec);
    client.write("x", 1, ec);
    // Nobody waits on `server`: the poller latches the edge (kReady).
    rt::sleep_for(50ms);
    before = rt::snapshot().tasks_live;
    static std::atomic<bool> ran{false};
    server.armOnReadable([](void*) { ran.store(true); }, nullptr);
    for (int i = 0; i < 1000 && !ran.load(); i++) rt::sleep_for(1ms);
    ran_in_time = ran.load();
    rt::sleep_for(20ms);  // the hook's Task has exited
    after = rt::snapshot().tasks_live;
    server.close();
    client.close();
    listener.close();
  });
  EXPECT_TRUE(ran_in_time);
  EXPECT_EQ(after, before) << "tasks_live drifted by " << static_cast<int64_t>(after - before);
}

}  // namespace
