// Many clients at once: 200 concurrent clients doing 20 requests each, all
// answered correctly; and 1000 idle keep-alive connections that hold no
// Task (the idle hand-off of connection.h).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/runtime.h"
#include "tests/integration/origin.h"
#include "tests/integration/proxy_harness.h"

namespace switchyard::itest {
namespace {

constexpr std::string_view kConfig = R"toml(
[log]
access = "off"

[[listener]]
name = "main"
address = "127.0.0.1:0"

[[route]]
path_prefix = "/direct/"
direct_response = { status = 200, body = "direct\n" }

[[route]]
cluster = "origin"

[[cluster]]
name = "origin"
endpoints = ["{ORIGIN}"]
)toml";

// Collects the first few failures from many threads.
class Failures {
 public:
  void add(std::string what) {
    count_++;
    std::lock_guard<std::mutex> l(mu_);
    if (first_.size() < 5) first_.push_back(std::move(what));
  }
  int count() const { return count_.load(); }
  std::string text() const {
    std::lock_guard<std::mutex> l(mu_);
    std::string out;
    for (const auto& f : first_) out += f + "\n";
    return out;
  }

 private:
  std::atomic<int> count_{0};
  mutable std::mutex mu_;
  std::vector<std::string> first_;
};

TEST(ConcurrencyTest, TwoHundredClientsTwentyRequestsEach) {
  constexpr int kClients = 200;
  constexpr int kRequests = 20;
  Origin origin(echoHandler());
  ProxyHarness proxy(fill(std::string(kConfig), {{"ORIGIN", origin.address()}}),
                     {.workers = 2, .time_limit = 90s});
  ASSERT_TRUE(proxy.ok());
  Failures failures;
  std::atomic<int> ok{0};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> clients;
  for (int id = 0; id < kClients; id++) {
    clients.emplace_back([&, id] {
      Client c(proxy.port(), patience(20s));
      ready++;
      while (!go.load()) std::this_thread::yield();
      if (!c.connected()) {
        failures.add("client " + std::to_string(id) + ": connect failed");
        return;
      }
      for (int r = 0; r < kRequests; r++) {
        const std::string target = "/c" + std::to_string(id) + "/r" + std::to_string(r);
        std::string expected;
        Message m;
        if (r % 5 == 4) {  // a body now and then
          const std::string body = patternBytes(100 + id * 13 + r, id * 100 + r);
          c.send("POST " + target + " HTTP/1.1\r\nHost: example.com\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n" + body);
          m = c.response();
          expected = "origin POST " + target;
          if (m.header("X-Request-Body-Hash") != hex(fnv1a(body))) {
            failures.add(target + ": request body hash mismatch");
          }
        } else if (r % 7 == 3) {  // and a direct response
          m = c.get("/direct/" + std::to_string(r));
          expected = "direct\n";
        } else {
          m = c.get(target);
          expected = "origin GET " + target;
        }
        if (m.status != 200 || m.body != expected) {
          failures.add(target + ": status " + std::to_string(m.status) + " body \"" +
                       m.body.substr(0, 80) + "\"");
          return;
        }
        ok++;
      }
    });
  }
  // Every client connected (or failed) before the requests start at once.
  Origin::eventually([&] { return ready.load() == kClients; }, 20s);
  go = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures.count(), 0) << failures.text();
  EXPECT_EQ(ok.load(), kClients * kRequests);
}

// "reason x count, ..." over the live Tasks, for failure messages.
std::string waitReasons(ProxyHarness& proxy) {
  std::map<std::string, int> reasons;
  proxy.inTask([&] {
    for (const rt::TaskSnapshot& t : rt::snapshot(/*with_tasks=*/true).tasks) {
      reasons[std::to_string(t.status) + ":" + t.wait_reason]++;
    }
  });
  std::string out = "Tasks by status:wait reason:";
  for (const auto& [r, n] : reasons) out += " " + r + " x" + std::to_string(n);
  return out;
}

// Tasks that exist right now (listed by the scheduler, not counted).
size_t tasksListed(ProxyHarness& proxy) {
  size_t n = 0;
  proxy.inTask([&] { n = rt::snapshot(/*with_tasks=*/true).tasks.size(); });
  return n;
}

// Opens `n` keep-alive connections and completes one request on each (a
// few through the origin, so pooled upstream connections exist too).
std::vector<Client> openIdleConnections(ProxyHarness& proxy, int n) {
  std::vector<Client> conns;
  conns.reserve(n);
  for (int i = 0; i < n; i++) {
    conns.emplace_back(proxy.port());
    Message m = conns.back().get(i % 50 == 0 ? "/via-origin" : "/direct/x");
    EXPECT_EQ(m.status, 200) << i;
    if (m.status != 200) break;
  }
  return conns;
}

TEST(ConcurrencyTest, IdleKeepAliveConnectionsHoldNoTask) {
  const int kConns = 1000;
  Origin origin(echoHandler());
  ProxyHarness proxy(fill(std::string(kConfig), {{"ORIGIN", origin.address()}}),
                     {.workers = 2, .time_limit = 90s});
  ASSERT_TRUE(proxy.ok());
  std::vector<Client> conns = openIdleConnections(proxy, kConns);
  ASSERT_EQ(conns.size(), static_cast<size_t>(kConns));
  // Every connection is now idle between requests: the Tasks left are the
  // harness's, the accept loop's and the one taking the snapshot.
  size_t listed = 0;
  const bool settled = Origin::eventually(
      [&] {
        listed = tasksListed(proxy);
        return listed < 20;
      },
      5s);
  EXPECT_TRUE(settled) << listed << " Tasks with " << kConns << " idle connections; "
                       << waitReasons(proxy);
  int64_t open = 0;
  proxy.inTask([&] { open = proxy.server().activeConnections(); });
  EXPECT_EQ(open, kConns);
  // And they all wake up for their next request, and go idle again.
  for (int i = 0; i < kConns; i++) {
    Message m = conns[i].get("/direct/again");
    ASSERT_EQ(m.status, 200) << i;
  }
  EXPECT_TRUE(Origin::eventually([&] { return tasksListed(proxy) < 20; }, 5s))
      << waitReasons(proxy);
}

// The same through the runtime's counter, as an operator sees it (the
// switchyard_runtime_tasks metric). It also counts a hook started at arm time
// twice (runtime_bugs_test.cc); the proxy arms only after a read said "would
// block", so that path is not taken here.
TEST(ConcurrencyTest, TasksLiveStaysSmallWithIdleConnections) {
  const int kConns = 1000;
  Origin origin(echoHandler());
  ProxyHarness proxy(fill(std::string(kConfig), {{"ORIGIN", origin.address()}}),
                     {.workers = 2, .time_limit = 90s});
  ASSERT_TRUE(proxy.ok());
  std::vector<Client> conns = openIdleConnections(proxy, kConns);
  uint64_t live = 0;
  const bool settled = Origin::eventually(
      [&] {
        proxy.inTask([&] { live = rt::snapshot().tasks_live; });
        return live < 20;
      },
      5s);
  EXPECT_TRUE(settled) << "tasks_live " << live << " with " << tasksListed(proxy)
                       << " Tasks listed";
}

}  // namespace
}  // namespace switchyard::itest
