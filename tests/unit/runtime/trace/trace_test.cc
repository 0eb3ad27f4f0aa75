// schedtrace/scheddetail: Go's line format from a SchedSnapshot, and the
// live trace sysmon prints to stderr (Options, SWITCHYARD_DEBUG, and
// rt::set_schedtrace).
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/runtime.h"
#include "runtime/sched_snapshot.h"
#include "tests/unit/runtime/harness.h"
#include "tests/unit/runtime/test_util.h"

namespace rt {
namespace {

using namespace std::chrono_literals;
using rt::testing::runTest;
using rt::testing::withWorkers;

SchedSnapshot sample() {
  SchedSnapshot s;
  s.uptime_ms = 1000;
  s.gomaxprocs = 2;
  s.idleprocs = 0;
  s.threads = 5;
  s.spinningthreads = 0;
  s.needspinning = 0;
  s.idlethreads = 2;
  s.runqueue = 3;
  ProcessorSnapshot p0;
  p0.id = 0;
  p0.status = 1;
  p0.schedtick = 5;
  p0.m = 0;
  p0.runqsize = 1;
  ProcessorSnapshot p1;
  p1.id = 1;
  p1.status = 2;
  p1.schedtick = 17;
  p1.syscalltick = 4;
  p1.m = -1;
  p1.runqsize = 2;
  p1.gfreecnt = 3;
  p1.timerslen = 6;
  s.processors = {p0, p1};
  return s;
}

TEST(FormatSchedTrace, SummaryLineIsGosFormat) {
  EXPECT_EQ(formatSchedTrace(sample(), /*detailed=*/false),
            "SCHED 1000ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 "
            "needspinning=0 idlethreads=2 runqueue=3 [1 2]\n");
}

TEST(FormatSchedTrace, SummaryLineWithOneAndManyProcessors) {
  SchedSnapshot s;
  s.uptime_ms = 0;
  s.gomaxprocs = 1;
  s.idleprocs = 1;
  s.threads = 2;
  s.processors.resize(1);
  EXPECT_EQ(formatSchedTrace(s, false),
            "SCHED 0ms: gomaxprocs=1 idleprocs=1 threads=2 spinningthreads=0 "
            "needspinning=0 idlethreads=0 runqueue=0 [0]\n");
  s.gomaxprocs = 4;
  s.spinningthreads = 1;
  s.needspinning = 1;
  s.processors.resize(4);
  for (int i = 0; i < 4; i++) s.processors[i].runqsize = static_cast<uint32_t>(i * 10);
  EXPECT_EQ(formatSchedTrace(s, false),
            "SCHED 0ms: gomaxprocs=4 idleprocs=1 threads=2 spinningthreads=1 "
            "needspinning=1 idlethreads=0 runqueue=0 [0 10 20 30]\n");
}

TEST(FormatSchedTrace, DetailedLinesAreGosFormat) {
  SchedSnapshot s = sample();
  s.nmidlelocked = 1;
  s.sysmonwait = false;
  MachineSnapshot m0;
  m0.id = 0;
  m0.p = 0;
  m0.curg = 1;
  MachineSnapshot m3;
  m3.id = 3;
  m3.p = -1;
  m3.curg = -1;
  m3.spinning = true;
  m3.blocked = true;
  m3.lockedg = 9;
  s.machines = {m0, m3};
  TaskSnapshot g1;
  g1.id = 1;
  g1.status = 2;
  g1.m = 0;
  TaskSnapshot g9;
  g9.id = 9;
  g9.status = 4;
  g9.wait_reason = "chan receive";
  g9.m = -1;
  g9.lockedm = 3;
  s.tasks = {g1, g9};
  EXPECT_EQ(
      formatSchedTrace(s, /*detailed=*/true),
      "SCHED 1000ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 needspinning=0 "
      "idlethreads=2 runqueue=3 gcwaiting=false nmidlelocked=1 stopwait=0 sysmonwait=false\n"
      "  P0: status=1 schedtick=5 syscalltick=0 m=0 runqsize=1 gfreecnt=0 timerslen=0\n"
      "  P1: status=2 schedtick=17 syscalltick=4 m=nil runqsize=2 gfreecnt=3 timerslen=6\n"
      "  M0: p=0 curg=1 mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=false "
      "blocked=false lockedg=nil\n"
      "  M3: p=nil curg=nil mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=true "
      "blocked=true lockedg=9\n"
      "  G1: status=2() m=0 lockedm=nil\n"
      "  G9: status=4(chan receive) m=nil lockedm=3\n");
}

TEST(FormatSchedTrace, SysmonwaitTrue) {
  SchedSnapshot s = sample();
  s.sysmonwait = true;
  const std::string text = formatSchedTrace(s, true);
  EXPECT_NE(text.find(" sysmonwait=true\n"), std::string::npos) << text;
}

// Redirects this process's stderr (fd 2) into a file for its lifetime; the
// text is kept in the undeclared test outputs, and lines other than SCHED
// lines are echoed back so that nothing (a sanitizer report) is hidden.
class StderrCapture {
 public:
  explicit StderrCapture(const std::string& name) {
    const char* dir = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
    if (dir == nullptr) dir = std::getenv("TEST_TMPDIR");
    path_ = std::string(dir != nullptr ? dir : "/tmp") + "/" + name + ".stderr";
    std::fflush(stderr);
    saved_ = dup(2);
    int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    EXPECT_GE(fd, 0) << path_;
    dup2(fd, 2);
    close(fd);
  }
  ~StderrCapture() { restore(); }
  // Restores stderr and returns what was written meanwhile.
  std::string restore() {
    if (saved_ >= 0) {
      std::fflush(stderr);
      dup2(saved_, 2);
      close(saved_);
      saved_ = -1;
      std::ifstream f(path_);
      std::stringstream ss;
      ss << f.rdbuf();
      text_ = ss.str();
      std::istringstream lines(text_);
      std::string line;
      while (std::getline(lines, line)) {
        if (line.rfind("SCHED ", 0) != 0 && line.rfind("  ", 0) != 0) {
          std::fprintf(stderr, "%s\n", line.c_str());
        }
      }
    }
    return text_;
  }

 private:
  std::string path_;
  std::string text_;
  int saved_ = -1;
};

std::vector<std::string> schedLines(const std::string& text, const std::regex& re) {
  std::vector<std::string> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (std::regex_match(line, re)) out.push_back(line);
  }
  return out;
}

const std::regex kSummary2(
    R"(SCHED (\d+)ms: gomaxprocs=2 idleprocs=\d+ threads=\d+ spinningthreads=\d+ )"
    R"(needspinning=\d+ idlethreads=\d+ runqueue=\d+ \[\d+ \d+\])");

int64_t uptimeOf(const std::string& line) {
  std::smatch m;
  std::regex_search(line, m, std::regex(R"(SCHED (\d+)ms)"));
  return std::stoll(m[1]);
}

TEST(LiveSchedtrace, OptionPrintsSchedLinesPeriodically) {
  Options opts = withWorkers(2);
  opts.schedtrace = 50ms;
  StderrCapture capture("option");
  runTest(opts, [] { rt::sleep_for(rt::testing::patience(260ms)); });
  const std::string text = capture.restore();
  std::vector<std::string> lines = schedLines(text, kSummary2);
  EXPECT_GE(lines.size(), 2u) << text;
  for (size_t i = 1; i < lines.size(); i++) {
    EXPECT_GE(uptimeOf(lines[i]) - uptimeOf(lines[i - 1]), 45) << lines[i];
  }
}

TEST(LiveSchedtrace, DetailAddsProcessorAndMachineLines) {
  Options opts = withWorkers(2);
  opts.schedtrace = 50ms;
  opts.scheddetail = true;
  StderrCapture capture("detail");
  runTest(opts, [] { rt::sleep_for(rt::testing::patience(160ms)); });
  const std::string text = capture.restore();
  const std::regex head(
      R"(SCHED \d+ms: gomaxprocs=2 idleprocs=\d+ threads=\d+ spinningthreads=\d+ )"
      R"(needspinning=\d+ idlethreads=\d+ runqueue=\d+ gcwaiting=false nmidlelocked=\d+ )"
      R"(stopwait=0 sysmonwait=(true|false))");
  const std::regex p_line(
      R"(  P[01]: status=\d schedtick=\d+ syscalltick=\d+ m=(\d+|nil) runqsize=\d+ )"
      R"(gfreecnt=\d+ timerslen=\d+)");
  const std::regex m_line(
      R"(  M\d+: p=(\d+|nil) curg=(\d+|nil) mallocing=0 throwing=0 preemptoff= locks=0 )"
      R"(dying=0 spinning=(true|false) blocked=(true|false) lockedg=(\d+|nil))");
  EXPECT_GE(schedLines(text, head).size(), 1u) << text;
  EXPECT_GE(schedLines(text, p_line).size(), 2u) << text;
  EXPECT_GE(schedLines(text, m_line).size(), 1u) << text;
}

TEST(LiveSchedtrace, SwitchyardDebugEnvEnablesIt) {
  ASSERT_EQ(setenv("SWITCHYARD_DEBUG", "schedtrace=50", 1), 0);
  StderrCapture capture("env");
  runTest(withWorkers(2), [] { rt::sleep_for(rt::testing::patience(260ms)); });
  unsetenv("SWITCHYARD_DEBUG");
  const std::string text = capture.restore();
  EXPECT_GE(schedLines(text, kSummary2).size(), 2u) << text;
}

TEST(LiveSchedtrace, OffByDefaultAndSwitchableLive) {
  unsetenv("SWITCHYARD_DEBUG");
  int64_t on_at_ms = 0;
  StderrCapture capture("switch-on");
  runTest(withWorkers(2), [&] {
    rt::sleep_for(120ms);  // off: nothing may be printed
    on_at_ms = rt::snapshot().uptime_ms;
    rt::set_schedtrace(50ms, false);
    rt::sleep_for(rt::testing::patience(260ms));
  });
  const std::string text = capture.restore();
  size_t while_off = 0, while_on = 0;
  for (const std::string& l : schedLines(text, kSummary2)) {
    if (uptimeOf(l) < on_at_ms) {
      while_off++;
    } else {
      while_on++;
    }
  }
  EXPECT_EQ(while_off, 0u) << text;
  EXPECT_GE(while_on, 2u) << text;
}

TEST(LiveSchedtrace, SwitchedOffLiveStops) {
  Options opts = withWorkers(2);
  opts.schedtrace = 20ms;
  StderrCapture capture("switch-off");
  int64_t off_at_ms = 0;
  runTest(opts, [&] {
    rt::sleep_for(100ms);
    rt::set_schedtrace(0ms, false);
    off_at_ms = rt::snapshot().uptime_ms;
    rt::sleep_for(rt::testing::patience(300ms));
  });
  const std::string text = capture.restore();
  std::vector<std::string> lines = schedLines(text, kSummary2);
  EXPECT_GE(lines.size(), 2u) << text;
  // A line sysmon was already about to print may land just after the
  // switch; still printing 50 ms later (2.5 periods) means it did not stop.
  size_t late = 0;
  for (const std::string& l : lines) {
    if (uptimeOf(l) > off_at_ms + 50) late++;
  }
  EXPECT_EQ(late, 0u) << text;
}

}  // namespace
}  // namespace rt
