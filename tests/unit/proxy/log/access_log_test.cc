// The access log: exact line formats, escaping, and that lines written from
// Tasks on several workers all reach the file, including across a reopen
// (logrotate moves the file away, SIGUSR1 reopens it).
#include "proxy/log/access_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "runtime/runtime.h"
#include "runtime/sync/sync.h"

namespace switchyard::log {
namespace {

AccessRecord sample() {
  AccessRecord r;
  r.client_ip = "127.0.0.1";
  r.method = "GET";
  r.target = "/a?b=1";
  r.host = "example.com";
  r.user_agent = "curl/7.88";
  r.listener = "public";
  r.route = "r0";
  r.cluster = "backend";
  r.upstream = "127.0.0.1:9000";
  r.status = 200;
  r.bytes_sent = 1234;
  r.total_ns = 1'500'000;
  r.upstream_ns = 1'000'000;
  r.sched_delay_ns = 20'000;
  r.unix_time_ns = 1'800'000'000'123'000'000;  // 2027-01-15T08:00:00.123Z
  return r;
}

std::string fmt(config::AccessLogFormat f, const AccessRecord& r) {
  char buf[2048];
  size_t n = AccessLog::format(f, r, buf, sizeof buf);
  return std::string(buf, n);
}

TEST(AccessLogFormatTest, Json) {
  EXPECT_EQ(fmt(config::AccessLogFormat::kJson, sample()),
            "{\"time\":\"2027-01-15T08:00:00.123Z\",\"client\":\"127.0.0.1\",\"method\":\"GET\","
            "\"target\":\"/a?b=1\",\"proto\":\"HTTP/1.1\",\"host\":\"example.com\",\"status\":200,"
            "\"bytes_sent\":1234,\"listener\":\"public\",\"route\":\"r0\",\"cluster\":\"backend\","
            "\"upstream\":\"127.0.0.1:9000\",\"duration_s\":0.001500,"
            "\"upstream_duration_s\":0.001000,\"sched_delay_s\":0.000020,"
            "\"user_agent\":\"curl/7.88\"}\n");
}

TEST(AccessLogFormatTest, Combined) {
  AccessRecord r = sample();
  r.upstream_ns = -1;
  EXPECT_EQ(fmt(config::AccessLogFormat::kCombined, r),
            "127.0.0.1 - - [15/Jan/2027:08:00:00 +0000] \"GET /a?b=1 HTTP/1.1\" 200 1234 \"-\" "
            "\"curl/7.88\" rt=0.001500 urt=- sd=0.000020\n");
}

TEST(AccessLogFormatTest, EscapesWhatWouldBreakALine) {
  AccessRecord r = sample();
  r.user_agent = "evil\"\\\n\x01";
  EXPECT_NE(fmt(config::AccessLogFormat::kJson, r).find("\"user_agent\":\"evil\\\"\\\\\\u000a\\u0001\""),
            std::string::npos);
  EXPECT_NE(fmt(config::AccessLogFormat::kCombined, r).find("\"evil\\\"\\\\\\x0a\\x01\""),
            std::string::npos);
}

TEST(AccessLogFormatTest, ReportsOverflowAsZero) {
  char buf[16];
  EXPECT_EQ(AccessLog::format(config::AccessLogFormat::kJson, sample(), buf, sizeof buf), 0u);
}

size_t countLines(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  size_t n = 0;
  while (std::getline(f, line)) {
    EXPECT_EQ(line.front(), '{');
    EXPECT_EQ(line.back(), '}');
    n++;
  }
  return n;
}

TEST(AccessLogTest, LinesFromManyTasksReachTheFileAcrossAReopen) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::filesystem::path dir =
      std::filesystem::path(tmp != nullptr ? tmp : "/tmp") / ("access_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "access.log").string();
  const std::string rotated = (dir / "access.log.1").string();
  constexpr int kTasks = 8, kLinesEach = 250;
  rt::Options opts;
  opts.workers = 2;
  uint64_t dropped = 1;
  rt::run(opts, [&] {
    AccessLog log(config::AccessLogTarget::kFile, path, config::AccessLogFormat::kJson);
    std::string err;
    ASSERT_TRUE(log.start(err)) << err;
    auto burst = [&] {
      rt::WaitGroup wg;
      for (int t = 0; t < kTasks; t++) {
        wg.add(1);
        rt::go([&] {
          for (int i = 0; i < kLinesEach; i++) {
            log.record(rt::current_worker(), sample());
            if (i % 50 == 0) rt::yield();
          }
          wg.done();
        });
      }
      wg.wait();
    };
    burst();
    rt::sleep_for(std::chrono::milliseconds(300));  // flushed by the period
    std::filesystem::rename(path, rotated);          // logrotate
    log.reopen();
    burst();
    log.stop();
    dropped = log.dropped();
  });
  EXPECT_EQ(dropped, 0u);
  EXPECT_EQ(countLines(rotated), static_cast<size_t>(kTasks * kLinesEach));
  EXPECT_EQ(countLines(path), static_cast<size_t>(kTasks * kLinesEach));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace switchyard::log
