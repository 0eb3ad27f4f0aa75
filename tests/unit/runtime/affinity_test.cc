// CPU affinity of the runtime's threads: Options::cpu_affinity with
// AffinityMode kSpread / kPin, and rt::set_affinity() applied live.
#include <dirent.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/options.h"
#include "runtime/runtime.h"
#include "runtime/sync/sync.h"
#include "tests/unit/runtime/harness.h"
#include "tests/unit/runtime/test_util.h"

namespace rt {
namespace {

using namespace std::chrono_literals;
using rt::testing::eventually;
using rt::testing::runTest;
using rt::testing::withWorkers;

std::vector<int> maskOf(pid_t tid) {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(tid, sizeof set, &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; c++) {
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  return cpus;
}
std::vector<int> myMask() { return maskOf(0); }

std::string str(const std::vector<int>& v) {
  std::string s = "{";
  for (size_t i = 0; i < v.size(); i++) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "}";
}

// Thread ids of the process whose name (comm) is `name`.
std::vector<pid_t> threadsNamed(const std::string& name) {
  std::vector<pid_t> out;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return out;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream comm(std::string("/proc/self/task/") + e->d_name + "/comm");
    std::string n;
    std::getline(comm, n);
    if (n == name) out.push_back(static_cast<pid_t>(std::stoi(e->d_name)));
  }
  closedir(dir);
  return out;
}

// Each test starts from, and gives back, the test thread's own mask (it
// becomes M0 inside rt::run).
class Affinity : public ::testing::Test {
 protected:
  void SetUp() override {
    sched_getaffinity(0, sizeof saved_, &saved_);
    process_cpus_ = myMask();
  }
  void TearDown() override { sched_setaffinity(0, sizeof saved_, &saved_); }

  // The masks Tasks see: kTasks Tasks, each sampling after yields/sleeps.
  static std::vector<std::vector<int>> sampleTaskMasks(int tasks) {
    std::mutex mu;
    std::vector<std::vector<int>> seen;
    rt::WaitGroup wg;
    wg.add(tasks);
    for (int i = 0; i < tasks; i++) {
      rt::go([&, i] {
        for (int k = 0; k < 3; k++) {
          if ((i + k) % 2 == 0) rt::yield(); else rt::sleep_for(200us);
          std::vector<int> m = myMask();
          std::lock_guard<std::mutex> l(mu);
          seen.push_back(std::move(m));
        }
        wg.done();
      });
    }
    wg.wait();
    return seen;
  }

  cpu_set_t saved_;
  std::vector<int> process_cpus_;
};

TEST_F(Affinity, AllowedCpusIsTheSortedProcessMask) {
  std::vector<int> cpus = rt::allowedCpus();
  EXPECT_EQ(cpus, process_cpus_);
  EXPECT_TRUE(std::is_sorted(cpus.begin(), cpus.end()));
}

TEST_F(Affinity, SpreadRestrictsEveryRuntimeThread) {
  Options opts = withWorkers(2);
  opts.cpu_affinity = {0};
  opts.affinity_mode = AffinityMode::kSpread;
  std::vector<std::vector<int>> seen;
  std::vector<int> sysmon_mask;
  runTest(opts, [&] {
    seen = sampleTaskMasks(20);
    // sysmon names itself and applies the mask when it first runs.
    eventually(
        [&] {
          std::vector<pid_t> sysmon = threadsNamed("sy-sysmon");
          sysmon_mask = sysmon.size() == 1 ? maskOf(sysmon[0]) : std::vector<int>{};
          return sysmon_mask == std::vector<int>{0};
        },
        2s);
  });
  ASSERT_EQ(seen.size(), 60u);
  for (const auto& m : seen) EXPECT_EQ(m, std::vector<int>{0}) << str(m);
  EXPECT_EQ(sysmon_mask, std::vector<int>{0}) << "sysmon: " << str(sysmon_mask);
}

TEST_F(Affinity, PinBindsEachProcessorsThreadToOneCpu) {
  if (process_cpus_.size() < 2) GTEST_SKIP() << "needs 2 CPUs, have " << str(process_cpus_);
  const std::vector<int> cpus = {process_cpus_[0], process_cpus_[1]};
  Options opts = withWorkers(2);
  opts.cpu_affinity = cpus;
  opts.affinity_mode = AffinityMode::kPin;
  struct Sample {
    int p;
    std::vector<int> mask;
  };
  std::vector<Sample> samples;
  runTest(opts, [&] {
    std::mutex mu;
    rt::WaitGroup wg;
    wg.add(20);
    for (int i = 0; i < 20; i++) {
      rt::go([&, i] {
        for (int k = 0; k < 3; k++) {
          if ((i + k) % 2 == 0) rt::yield(); else rt::sleep_for(200us);
          // Which P runs us: the M whose current Task is us. Reading the
          // snapshot is not a scheduling point, so the mask read right
          // after belongs to the same M and P.
          int p = -1;
          const uint64_t me = rt::currentTaskId();
          for (const MachineSnapshot& m : rt::snapshot().machines) {
            if (m.curg == static_cast<int64_t>(me)) p = static_cast<int>(m.p);
          }
          std::vector<int> mask = myMask();
          std::lock_guard<std::mutex> l(mu);
          samples.push_back({p, std::move(mask)});
        }
        wg.done();
      });
    }
    wg.wait();
  });
  ASSERT_EQ(samples.size(), 60u);
  for (const Sample& s : samples) {
    ASSERT_GE(s.p, 0);
    EXPECT_EQ(s.mask, std::vector<int>{cpus[s.p % 2]}) << "P" << s.p << " mask " << str(s.mask);
  }
}

TEST_F(Affinity, LiveChangeFromSpreadToNoneRestoresAllCpus) {
  if (process_cpus_.size() < 2) GTEST_SKIP() << "needs 2 CPUs to see a difference";
  Options opts = withWorkers(2);
  opts.cpu_affinity = {process_cpus_[0]};
  opts.affinity_mode = AffinityMode::kSpread;
  bool changed = false;
  std::vector<std::vector<int>> before, after;
  runTest(opts, [&] {
    before = sampleTaskMasks(4);
    changed = rt::set_affinity({}, AffinityMode::kNone);
    // Ms apply it at their next scheduling round: a few yields and sleeps.
    for (int i = 0; i < 5; i++) {
      rt::yield();
      rt::sleep_for(1ms);
    }
    after = sampleTaskMasks(10);
  });
  for (const auto& m : before) EXPECT_EQ(m, std::vector<int>{process_cpus_[0]});
  EXPECT_TRUE(changed);
  for (const auto& m : after) {
    EXPECT_EQ(m, process_cpus_) << "a Task still sees " << str(m);
  }
}

TEST_F(Affinity, LiveChangeFromSpreadToAnotherAllowedCpu) {
  if (process_cpus_.size() < 2) GTEST_SKIP() << "needs 2 CPUs";
  Options opts = withWorkers(2);
  opts.cpu_affinity = {process_cpus_[0]};
  opts.affinity_mode = AffinityMode::kSpread;
  bool changed = false;
  std::vector<std::vector<int>> after;
  runTest(opts, [&] {
    // CPU 1 is allowed for the process, though not for this thread now.
    changed = rt::set_affinity({process_cpus_[1]}, AffinityMode::kSpread);
    for (int i = 0; i < 5; i++) {
      rt::yield();
      rt::sleep_for(1ms);
    }
    after = sampleTaskMasks(10);
  });
  EXPECT_TRUE(changed);
  for (const auto& m : after) EXPECT_EQ(m, std::vector<int>{process_cpus_[1]}) << str(m);
}

TEST_F(Affinity, SetAffinityOutsideAllowedCpusIsRefused) {
  int outside = 0;
  while (std::binary_search(process_cpus_.begin(), process_cpus_.end(), outside)) outside++;
  ASSERT_LT(outside, CPU_SETSIZE);
  bool accepted_outside = true, accepted_negative = true;
  std::vector<std::vector<int>> after;
  runTest(withWorkers(2), [&] {
    accepted_outside = rt::set_affinity({outside}, AffinityMode::kSpread);
    accepted_negative = rt::set_affinity({-1}, AffinityMode::kPin);
    rt::sleep_for(1ms);
    after = sampleTaskMasks(4);
  });
  EXPECT_FALSE(accepted_outside) << "cpu " << outside;
  EXPECT_FALSE(accepted_negative);
  for (const auto& m : after) EXPECT_EQ(m, process_cpus_);  // unchanged
}

TEST_F(Affinity, OptionsOutsideAllowedCpusAreIgnored) {
  int outside = 0;
  while (std::binary_search(process_cpus_.begin(), process_cpus_.end(), outside)) outside++;
  Options opts = withWorkers(2);
  opts.cpu_affinity = {outside};
  opts.affinity_mode = AffinityMode::kSpread;
  std::vector<std::vector<int>> seen;
  runTest(opts, [&] { seen = sampleTaskMasks(4); });
  for (const auto& m : seen) EXPECT_EQ(m, process_cpus_);
}

TEST_F(Affinity, RunGivesTheCallerThreadItsMaskBack) {
  // The thread calling rt::run becomes M0 and is bound like every M; once
  // run returns it is the caller's thread again, with its own mask.
  Options opts = withWorkers(1);
  opts.cpu_affinity = {process_cpus_[0]};
  opts.affinity_mode = AffinityMode::kSpread;
  runTest(opts, [] { rt::sleep_for(1ms); });
  EXPECT_EQ(myMask(), process_cpus_);
}

}  // namespace
}  // namespace rt
