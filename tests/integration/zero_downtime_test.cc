// Zero-downtime operation of the real binary, end to end with real
// processes (issue 8): reloads under load, a refused reload, graceful
// shutdown with a slow upstream, and a binary upgrade under load.
//
// Every test runs `proxy/switchyard` with port-0 listeners in front of an
// Origin on loopback, drives it with LoadGenerator (load.h) and signals
// only the processes it started, by pid. Timing bounds are generous and
// stretched under the sanitizers: these tests assert correctness (no
// request fails, no connection is refused); the latency percentiles they
// print are measurements, compared in tests/bench/reload_bench.sh.
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include "tests/integration/http_wire.h"
#include "tests/integration/load.h"
#include "tests/integration/origin.h"
#include "tests/integration/process.h"
#include "tests/integration/proxy_harness.h"

namespace switchyard::itest {
namespace {

// Waits until `needle` occurs `count` times in the process's stderr.
bool waitForCount(Process& p, const std::string& needle, size_t count, Ms timeout) {
  const auto end = Clock::now() + timeout;
  while (p.errCount(needle) < count) {
    if (Clock::now() >= end) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// Two keep-alive clients and two that open a connection per request.
LoadOptions twoOfEach(uint16_t port) {
  LoadOptions options;
  options.port = port;
  options.keepalive_clients = 2;
  options.new_connection_clients = 2;
  return options;
}

std::string summary(const LoadStats& s) {
  std::string text = "sent " + std::to_string(s.sent) + ", ok " + std::to_string(s.ok) +
                     ", failed " + std::to_string(s.failed) + ", refused " +
                     std::to_string(s.refused) + ", retried " + std::to_string(s.retried);
  for (const auto& f : s.failures) text += "\n  " + f;
  return text;
}

// Two valid configs that differ in routes, workers and the handoff
// interval; "/" reaches the origin in both.
constexpr std::string_view kReloadConfig = R"toml([admin]
address = "127.0.0.1:0"

[log]
access = "off"

[runtime]
workers = {WORKERS}
poller_handoff_interval = "{HANDOFF}"

[[listener]]
name = "main"
address = "127.0.0.1:0"

[[route]]
name = "{EXTRA_ROUTE}"
path_prefix = "/{EXTRA_ROUTE}/"
direct_response = { status = 200, body = "{EXTRA_ROUTE}" }

[[route]]
name = "{ROUTE}"
cluster = "{CLUSTER}"

[[cluster]]
name = "{CLUSTER}"
endpoints = ["{ORIGIN}"]
)toml";

std::string reloadConfig(int variant, const std::string& origin) {
  const bool a = variant % 2 == 0;
  return fill(std::string(kReloadConfig), {{"WORKERS", a ? "1" : "2"},
                                           {"HANDOFF", a ? "10ms" : "2ms"},
                                           {"EXTRA_ROUTE", a ? "alpha" : "beta"},
                                           {"ROUTE", a ? "all-a" : "all-b"},
                                           {"CLUSTER", a ? "origin-a" : "origin-b"},
                                           {"ORIGIN", origin}});
}

// 20 SIGHUPs alternating two configs, plus an invalid file in the middle,
// under keep-alive and new-connection load: nothing fails, nothing is
// refused, no keep-alive connection is closed under a client, and the
// invalid file changes nothing.
TEST(ZeroDowntime, TwentyReloadsUnderLoadDropNothing) {
  Watchdog watchdog(patience(120s));
  Origin origin(echoHandler());
  const std::string path = tempPath("reload.toml");
  writeFile(path, reloadConfig(0, origin.address()));
  Process p({"-c", path});
  ASSERT_TRUE(p.started());
  const uint16_t port = p.waitForPort("main", patience(10s));
  ASSERT_NE(port, 0) << p.err();
  ASSERT_TRUE(p.waitForErr(std::regex("\nswitchyard: ready\n"), patience(10s))) << p.err();

  LoadGenerator load(twoOfEach(port));
  std::this_thread::sleep_for(1s);
  const auto reloads_start = Clock::now();
  constexpr int kReloads = 20;
  for (int i = 1; i <= kReloads; i++) {
    writeFile(path, reloadConfig(i, origin.address()));
    p.signal(SIGHUP);
    ASSERT_TRUE(waitForCount(p, "reloaded ", static_cast<size_t>(i), patience(10s)))
        << "reload " << i << "\n" << p.err();
    if (i == kReloads / 2) {
      writeFile(path, "[[listener]]\nname = \"main\"\naddress = \"nonsense\"\n");
      p.signal(SIGHUP);
      ASSERT_TRUE(waitForCount(p, "keeping the running configuration", 1, patience(10s)))
          << p.err();
    }
    std::this_thread::sleep_for(50ms);
  }
  const auto reloads_end = Clock::now();
  std::this_thread::sleep_for(500ms);
  const LoadStats stats = load.stop();

  EXPECT_EQ(stats.failed, 0u) << summary(stats);
  EXPECT_EQ(stats.refused, 0u) << summary(stats);
  EXPECT_EQ(stats.retried, 0u) << "a reload closed keep-alive connections: " << summary(stats);
  EXPECT_GT(stats.ok, 200u) << summary(stats);
  EXPECT_EQ(p.errCount("reloaded "), static_cast<size_t>(kReloads));
  EXPECT_EQ(p.errCount("reload failed: keeping"), 1u);
  // The last config (variant 20: "a") is the one in force.
  Client c(port);
  EXPECT_EQ(c.get("/alpha/x").body, "alpha");
  EXPECT_EQ(c.get("/beta/x").body.rfind("origin GET /beta/x", 0), 0u);

  const auto steady = percentile(stats.samples, 99, Clock::time_point{}, reloads_start);
  const auto during = percentile(stats.samples, 99, reloads_start, reloads_end);
  std::printf("reload-under-load: %s; p99 steady %lld us, p99 during %d reloads %lld us\n",
              summary(stats).c_str(), static_cast<long long>(steady.count()), kReloads,
              static_cast<long long>(during.count()));

  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(patience(10s)), 0) << p.err();
}

constexpr std::string_view kDrainConfig = R"toml([admin]
address = "127.0.0.1:0"

[log]
access = "off"

[runtime]
workers = 2

[process]
drain_timeout = "{DRAIN}"

[[listener]]
name = "main"
address = "127.0.0.1:0"

[[route]]
cluster = "origin"

[[cluster]]
name = "origin"
endpoints = ["{ORIGIN}"]
)toml";

// An origin that answers /slow/<ms> after that many milliseconds.
Origin::Handler slowHandler() {
  return httpHandler([](const Message& request, OriginConn& conn) {
    const std::string prefix = "/slow/";
    if (request.target.rfind(prefix, 0) == 0) {
      std::this_thread::sleep_for(Ms(std::stoi(request.target.substr(prefix.size()))));
    }
    return echoResponse(request, conn);
  });
}

// SIGTERM: accepting stops, the idle keep-alive is closed at once, the
// in-flight request to a slow upstream completes, and the process exits 0
// well within drain_timeout, even with an idle admin connection open.
TEST(ZeroDowntime, SigtermFinishesInFlightAndClosesIdle) {
  Watchdog watchdog(patience(60s));
  Origin origin(slowHandler());
  const std::string path = tempPath("drain.toml");
  writeFile(path, fill(std::string(kDrainConfig), {{"DRAIN", "10s"}, {"ORIGIN", origin.address()}}));
  Process p({"-c", path});
  ASSERT_TRUE(p.started());
  const uint16_t port = p.waitForPort("main", patience(10s));
  const uint16_t admin = p.waitForPort("admin", patience(10s));
  ASSERT_NE(port, 0) << p.err();

  Client idle(port);
  EXPECT_EQ(idle.get("/warm").status, 200);
  // A scraper's keep-alive on the admin port must not hold the exit either.
  Client scraper(admin);
  EXPECT_EQ(scraper.get("/metrics").status, 200);
  Client busy(port);
  ASSERT_TRUE(busy.send(makeGet("/slow/1500")));
  ASSERT_TRUE(Origin::eventually([&] { return origin.requests() >= 2; }, patience(5s)));

  const auto start = Clock::now();
  p.signal(SIGTERM);
  EXPECT_TRUE(idle.waitClosed(patience(1s))) << "the idle keep-alive was not closed";
  // Accepting stops: within a bounded wait, connecting is refused.
  EXPECT_TRUE(Origin::eventually([&] { return !Client(port, 1s).connected(); }, patience(2s)));

  const Message slow = busy.response();
  EXPECT_EQ(slow.status, 200);
  EXPECT_EQ(slow.body.rfind("origin GET /slow/1500", 0), 0u) << slow.body;
  EXPECT_TRUE(containsIgnoreCase(slow.header("Connection"), "close"));
  EXPECT_EQ(p.wait(patience(10s)), 0) << p.err();
  EXPECT_LT(Clock::now() - start, patience(5s));
  EXPECT_NE(p.err().find("draining (up to 10000 ms)"), std::string::npos) << p.err();
}

// drain_timeout bounds the drain: an upstream slower than it does not keep
// the process alive, and the exit is still 0.
TEST(ZeroDowntime, DrainTimeoutBoundsTheDrain) {
  Watchdog watchdog(patience(60s));
  Origin origin(slowHandler());
  const std::string path = tempPath("drain-short.toml");
  writeFile(path,
            fill(std::string(kDrainConfig), {{"DRAIN", "300ms"}, {"ORIGIN", origin.address()}}));
  // The drain gives up on the slow request on purpose: its Task and buffers
  // are still held when the process exits, which LeakSanitizer would report.
  ProcessOptions options;
  options.extra_env = {"ASAN_OPTIONS=detect_leaks=0"};
  Process p({"-c", path}, options);
  ASSERT_TRUE(p.started());
  const uint16_t port = p.waitForPort("main", patience(10s));
  ASSERT_NE(port, 0) << p.err();
  Client busy(port);
  ASSERT_TRUE(busy.send(makeGet("/slow/8000")));
  ASSERT_TRUE(Origin::eventually([&] { return origin.requests() >= 1; }, patience(5s)));
  const auto start = Clock::now();
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(patience(10s)), 0) << p.err();
  const auto took = Clock::now() - start;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, patience(3s)) << "the drain waited for the slow upstream";
  origin.stop();
}

// Binary upgrade (SIGUSR2) under load: the old process starts the binary
// again with its listening sockets, the new one reports ready, the old one
// drains on SIGTERM, and no request fails and no connection is refused.
// Keep-alive connections of the old process are closed by its drain while
// idle: the clients' one retry of such a request (see load.h) is counted.
TEST(ZeroDowntime, BinaryUpgradeUnderLoadDropsNothing) {
  Watchdog watchdog(patience(90s));
  Origin origin(echoHandler());
  const std::string path = tempPath("upgrade.toml");
  writeFile(path, fill(std::string(kDrainConfig), {{"DRAIN", "5s"}, {"ORIGIN", origin.address()}}));
  Process old_process({"-c", path});
  ASSERT_TRUE(old_process.started());
  const uint16_t port = old_process.waitForPort("main", patience(10s));
  const uint16_t admin = old_process.waitForPort("admin", patience(10s));
  ASSERT_NE(port, 0) << old_process.err();
  ASSERT_TRUE(waitForCount(old_process, "switchyard: ready\n", 1, patience(10s)));

  LoadGenerator load(twoOfEach(port));
  std::this_thread::sleep_for(500ms);
  old_process.signal(SIGUSR2);
  std::optional<std::string> child_text =
      old_process.waitForErr(std::regex(R"(SIGUSR2: started .* as pid (\d+))"), patience(10s));
  ASSERT_TRUE(child_text) << old_process.err();
  const pid_t child = static_cast<pid_t>(std::stoi(*child_text));
  // Both processes write to the same stderr: the second "ready" is the new one's.
  ASSERT_TRUE(waitForCount(old_process, "switchyard: ready\n", 2, patience(10s)))
      << old_process.err();
  EXPECT_EQ(old_process.errCount("adopted 2 of 2 inherited sockets"), 1u) << old_process.err();
  std::this_thread::sleep_for(300ms);  // both processes serve

  old_process.signal(SIGTERM);
  EXPECT_EQ(old_process.wait(patience(10s), /*join_output=*/false), 0) << old_process.err();
  std::this_thread::sleep_for(500ms);  // only the new process serves
  const LoadStats stats = load.stop();
  std::printf("binary-upgrade-under-load: %s\n", summary(stats).c_str());
  EXPECT_EQ(stats.failed, 0u) << summary(stats);
  EXPECT_EQ(stats.refused, 0u) << summary(stats) << "\n" << old_process.err();
  EXPECT_GT(stats.ok, 100u) << summary(stats);

  // The new process owns the listener and the admin port now.
  EXPECT_EQ(Client(port).get("/after").status, 200);
  Client health(admin);
  EXPECT_EQ(health.get("/readyz").status, 200);
  EXPECT_TRUE(std::regex_search(old_process.err(),
                                std::regex("running config .* \\(pid " + *child_text + "\\)")));

  // The new process is not the test's child (its parent was the old one):
  // stop it by its pid and wait until it is gone or a zombie.
  ASSERT_EQ(::kill(child, SIGTERM), 0);
  const bool gone = Origin::eventually(
      [&] {
        if (::kill(child, 0) != 0) return errno == ESRCH;
        std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
        std::string pid_field, comm, state;
        stat >> pid_field >> comm >> state;
        return state == "Z";
      },
      patience(10s));
  std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
  std::string stat_line;
  std::getline(stat, stat_line);
  EXPECT_TRUE(gone) << stat_line << "\n" << old_process.err();
  if (!gone) ::kill(child, SIGKILL);
}

}  // namespace
}  // namespace switchyard::itest

namespace switchyard::itest {
namespace {

// A binary upgrade whose new process cannot start (here: the file became
// invalid meanwhile) changes nothing: the old process logs the new one's
// exit status and keeps serving, and a later SIGUSR2 may try again.
TEST(ZeroDowntime, FailedUpgradeKeepsTheOldProcessServing) {
  Watchdog watchdog(patience(60s));
  Origin origin(echoHandler());
  const std::string path = tempPath("bad-upgrade.toml");
  writeFile(path, fill(std::string(kDrainConfig), {{"DRAIN", "1s"}, {"ORIGIN", origin.address()}}));
  Process p({"-c", path});
  ASSERT_TRUE(p.started());
  const uint16_t port = p.waitForPort("main", patience(10s));
  ASSERT_NE(port, 0) << p.err();
  Client kept(port);
  EXPECT_EQ(kept.get("/before").status, 200);

  writeFile(path, "[[listener]]\nname = \"main\"\naddress = \"nonsense\"\n");
  p.signal(SIGUSR2);
  ASSERT_TRUE(p.waitForErr(std::regex(R"(upgrade: pid \d+ exited with status 1; this process keeps serving)"),
                           patience(10s)))
      << p.err();
  EXPECT_EQ(kept.get("/after").status, 200);
  EXPECT_EQ(Client(port).get("/new-connection").status, 200);

  // Fixed file: the next SIGUSR2 is accepted (the failed child was reaped).
  writeFile(path, fill(std::string(kDrainConfig), {{"DRAIN", "1s"}, {"ORIGIN", origin.address()}}));
  p.signal(SIGUSR2);
  ASSERT_TRUE(waitForCount(p, "SIGUSR2: started ", 2, patience(10s))) << p.err();
  ASSERT_TRUE(waitForCount(p, "switchyard: ready\n", 2, patience(10s))) << p.err();
  EXPECT_EQ(p.errCount("is already running"), 0u);
  // Stop both: the old one by its Process, the new one by the pid it logged.
  const std::string err = p.err();
  std::string last_pid;
  const std::regex started(R"(as pid (\d+))");
  for (auto it = std::sregex_iterator(err.begin(), err.end(), started);
       it != std::sregex_iterator(); ++it) {
    last_pid = (*it)[1].str();
  }
  ASSERT_FALSE(last_pid.empty());
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(patience(10s), /*join_output=*/false), 0) << p.err();
  ASSERT_EQ(::kill(static_cast<pid_t>(std::stoi(last_pid)), SIGTERM), 0);
}

}  // namespace
}  // namespace switchyard::itest
