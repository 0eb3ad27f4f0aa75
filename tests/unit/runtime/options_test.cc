// Options: the default worker count (affinity, cgroup v2 cpu.max, cgroup v1
// CFS quota) and
// SWITCHYARD_DEBUG parsing. Pure functions; no runtime.
#include "runtime/options.h"

#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace rt {
namespace {

using namespace std::chrono_literals;

// Our cgroup v2 path, as options.cc reads it: the "0::" line of
// /proc/self/cgroup ("/" if there is none).
std::string ownCgroupPath() {
  std::ifstream f("/proc/self/cgroup");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  }
  return "/";
}

void mkdirs(const std::string& path) {
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    cur = path.substr(0, pos);
    if (!cur.empty()) {
      ASSERT_TRUE(mkdir(cur.c_str(), 0755) == 0 || errno == EEXIST) << cur;
    }
  }
}

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::trunc);
  ASSERT_TRUE(f.good()) << path;
  f << text;
}

// A fake cgroup v2 tree under TEST_TMPDIR mirroring our real cgroup path:
// cpu.max files can be written at our own level and at the root.
class FakeCgroup : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    root_ = std::string(tmp != nullptr ? tmp : "/tmp") + "/cgroup-" +
            std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    path_ = ownCgroupPath();
    leaf_ = root_ + (path_ == "/" ? "" : path_);
    mkdirs(leaf_);
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + root_ + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  // cpu.max at our own cgroup.
  void setLeaf(const std::string& text) { writeFile(leaf_ + "/cpu.max", text); }
  void setRoot(const std::string& text) { writeFile(root_ + "/cpu.max", text); }
  bool nested() const { return path_ != "/"; }

  std::string root_;
  std::string path_;
  std::string leaf_;
};

TEST_F(FakeCgroup, QuotaRoundsUpToWholeCpus) {
  struct Case {
    const char* cpu_max;
    int cpus;
  };
  const Case cases[] = {
      {"150000 100000", 2}, {"150000 100000\n", 2}, {"100000 100000", 1},
      {"50000 100000", 1},  {"250001 100000", 3},   {"400000 100000", 4},
      {"max 100000", 0},    {"max 100000\n", 0},
  };
  for (const Case& c : cases) {
    setLeaf(c.cpu_max);
    EXPECT_EQ(rt::cgroupCpuLimit(root_), c.cpus) << '"' << c.cpu_max << '"';
  }
}

TEST_F(FakeCgroup, GarbageOrMissingMeansNoLimit) {
  EXPECT_EQ(rt::cgroupCpuLimit(root_), 0);  // no cpu.max anywhere
  for (const char* text : {"", "garbage", "100000", "-5 100000", "100000 0", "0 100000",
                           "abc def"}) {
    setLeaf(text);
    EXPECT_EQ(rt::cgroupCpuLimit(root_), 0) << '"' << text << '"';
  }
  EXPECT_EQ(rt::cgroupCpuLimit(root_ + "/does-not-exist"), 0);
}

TEST_F(FakeCgroup, TightestQuotaOnThePathWins) {
  if (!nested()) {
    // In the root cgroup the leaf is the root: one file, one answer.
    setRoot("300000 100000");
    EXPECT_EQ(rt::cgroupCpuLimit(root_), 3);
    GTEST_SKIP() << "process is in the root cgroup (0::/): no ancestors to test";
  }
  setRoot("100000 100000");
  setLeaf("300000 100000");
  EXPECT_EQ(rt::cgroupCpuLimit(root_), 1);  // the ancestor is tighter
  setRoot("max 100000");
  EXPECT_EQ(rt::cgroupCpuLimit(root_), 3);
  setLeaf("max 100000");
  setRoot("200000 100000");
  EXPECT_EQ(rt::cgroupCpuLimit(root_), 2);  // only the ancestor limits
}

TEST_F(FakeCgroup, DefaultWorkersIsMinOfCpusAndQuota) {
  const int cpus = static_cast<int>(rt::allowedCpus().size());
  setLeaf("max 100000");
  EXPECT_EQ(rt::defaultWorkers(root_), cpus);
  setLeaf("100000 100000");
  EXPECT_EQ(rt::defaultWorkers(root_), 1);
  setLeaf("150000 100000");
  EXPECT_EQ(rt::defaultWorkers(root_), std::min(cpus, 2));
  setLeaf("10000000 100000");  // 100 CPUs of quota: the CPU count limits
  EXPECT_EQ(rt::defaultWorkers(root_), cpus);
  EXPECT_EQ(rt::defaultWorkers(root_ + "/does-not-exist"), cpus);
}

// cgroup v1 (Debian 10/11 hosts, older Docker and Kubernetes nodes): the
// CFS quota in the cpu hierarchy, found through the "cpu" controller's line
// of /proc/self/cgroup, given here as text so the tree is fully fake.
class FakeCgroupV1 : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    root_ = std::string(tmp != nullptr ? tmp : "/tmp") + "/cgroup-v1-" +
            std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    mkdirs(root_ + "/cpu,cpuacct/docker/abc");
    setCfs("", "-1", "100000");  // a mounted hierarchy's root always has both files
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + root_ + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  void setCfs(const std::string& dir, const std::string& quota, const std::string& period) {
    writeFile(root_ + "/cpu,cpuacct" + dir + "/cpu.cfs_quota_us", quota + "\n");
    writeFile(root_ + "/cpu,cpuacct" + dir + "/cpu.cfs_period_us", period + "\n");
  }
  std::string root_;
};

constexpr const char* kV1InDocker =
    "12:pids:/docker/abc\n"
    "4:cpu,cpuacct:/docker/abc\n"
    "1:name=systemd:/docker/abc\n"
    "0::/\n";

TEST_F(FakeCgroupV1, CfsQuotaRoundsUpToWholeCpus) {
  struct Case {
    const char* quota;
    const char* period;
    int cpus;
  };
  const Case cases[] = {{"150000", "100000", 2}, {"100000", "100000", 1}, {"50000", "100000", 1},
                        {"250001", "100000", 3}, {"400000", "200000", 2}, {"-1", "100000", 0},
                        {"0", "100000", 0},      {"100000", "0", 0},      {"junk", "100000", 0}};
  for (const Case& c : cases) {
    setCfs("/docker/abc", c.quota, c.period);
    EXPECT_EQ(rt::cgroupCpuLimit(root_, kV1InDocker), c.cpus) << c.quota << "/" << c.period;
  }
}

TEST_F(FakeCgroupV1, TightestOnThePathAndAcrossVersionsWins) {
  setCfs("/docker/abc", "300000", "100000");
  setCfs("/docker", "200000", "100000");
  EXPECT_EQ(rt::cgroupCpuLimit(root_, kV1InDocker), 2);  // the parent is tighter
  setCfs("/docker", "-1", "100000");
  EXPECT_EQ(rt::cgroupCpuLimit(root_, kV1InDocker), 3);
  // A v2 cpu.max at the unified root, tighter still (hybrid hosts have both).
  writeFile(root_ + "/cpu.max", "100000 100000\n");
  EXPECT_EQ(rt::cgroupCpuLimit(root_, kV1InDocker), 1);
}

TEST_F(FakeCgroupV1, FoundUnderTheCpuMountNameToo) {
  // Some hosts mount the hierarchy as "cpu" only.
  mkdirs(root_ + "/cpu/kubepods/pod1");
  writeFile(root_ + "/cpu/cpu.cfs_period_us", "100000\n");
  writeFile(root_ + "/cpu/cpu.cfs_quota_us", "-1\n");
  writeFile(root_ + "/cpu/kubepods/pod1/cpu.cfs_quota_us", "150000\n");
  writeFile(root_ + "/cpu/kubepods/pod1/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(rt::cgroupCpuLimit(root_, "3:cpu:/kubepods/pod1\n"), 2);
  // No cpu controller line: v1 is not looked at.
  EXPECT_EQ(rt::cgroupCpuLimit(root_, "3:memory:/kubepods/pod1\n"), 0);
  EXPECT_EQ(rt::cgroupCpuLimit(root_, ""), 0);
}

TEST_F(FakeCgroupV1, DefaultWorkersHonoursTheV1Quota) {
  // defaultWorkers() reads the real /proc/self/cgroup: mirror our own v1
  // cpu line in the fake tree, if this host has one.
  std::ifstream f("/proc/self/cgroup");
  std::string line, controllers, path;
  while (std::getline(f, line)) {
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    const std::string list = "," + line.substr(a + 1, b - a - 1) + ",";
    if (b != std::string::npos && list.find(",cpu,") != std::string::npos) {
      controllers = line.substr(a + 1, b - a - 1);
      path = line.substr(b + 1);
    }
  }
  if (controllers.empty()) GTEST_SKIP() << "no cgroup v1 cpu hierarchy on this host";
  const std::string dir = root_ + "/" + controllers + (path == "/" ? "" : path);
  mkdirs(dir);
  writeFile(root_ + "/" + controllers + "/cpu.cfs_period_us", "100000\n");
  writeFile(dir + "/cpu.cfs_period_us", "100000\n");
  writeFile(dir + "/cpu.cfs_quota_us", "100000\n");
  EXPECT_EQ(rt::defaultWorkers(root_), 1);
  writeFile(dir + "/cpu.cfs_quota_us", "-1\n");
  EXPECT_EQ(rt::defaultWorkers(root_), static_cast<int>(rt::allowedCpus().size()));
}

TEST(Options, AllowedCpusMatchesSchedGetaffinity) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  std::vector<int> want;
  for (int c = 0; c < CPU_SETSIZE; c++) {
    if (CPU_ISSET(c, &set)) want.push_back(c);
  }
  EXPECT_EQ(rt::allowedCpus(), want);
}

TEST(Options, Defaults) {
  Options o;
  EXPECT_EQ(o.workers, 0);
  EXPECT_TRUE(o.cpu_affinity.empty());
  EXPECT_EQ(o.affinity_mode, AffinityMode::kNone);
  EXPECT_EQ(o.stack_size, 64u * 1024);
  EXPECT_EQ(o.schedtrace, 0ms);
  EXPECT_FALSE(o.scheddetail);
}

TEST(Options, AffinityModeNames) {
  EXPECT_STREQ(rt::affinityModeName(AffinityMode::kNone), "none");
  EXPECT_STREQ(rt::affinityModeName(AffinityMode::kSpread), "spread");
  EXPECT_STREQ(rt::affinityModeName(AffinityMode::kPin), "pin");
}

TEST(ApplyDebugEnv, ParsesSchedtraceAndScheddetail) {
  Options o = rt::applyDebugEnv(Options{}, "schedtrace=1000,scheddetail=1");
  EXPECT_EQ(o.schedtrace, 1000ms);
  EXPECT_TRUE(o.scheddetail);
  o = rt::applyDebugEnv(o, "scheddetail=0");
  EXPECT_FALSE(o.scheddetail);
  EXPECT_EQ(o.schedtrace, 1000ms);  // untouched keys keep their value
  o = rt::applyDebugEnv(o, "schedtrace=0");
  EXPECT_EQ(o.schedtrace, 0ms);
}

TEST(ApplyDebugEnv, NullOrEmptyChangesNothing) {
  Options in;
  in.workers = 3;
  in.schedtrace = 7ms;
  in.scheddetail = true;
  for (const char* env : {static_cast<const char*>(nullptr), "", ",", ",,,"}) {
    Options o = rt::applyDebugEnv(in, env);
    EXPECT_EQ(o.workers, 3);
    EXPECT_EQ(o.schedtrace, 7ms);
    EXPECT_TRUE(o.scheddetail);
  }
}

TEST(ApplyDebugEnv, IgnoresGarbageAndKeepsValidItems) {
  Options in;
  in.schedtrace = 7ms;
  ::testing::internal::CaptureStderr();
  Options o = rt::applyDebugEnv(
      in, "bogus=1,schedtrace=abc,schedtrace=-5,schedtrace=12x,schedtrace=,=3,scheddetail");
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(o.schedtrace, 7ms);
  EXPECT_FALSE(o.scheddetail);
  for (const char* item : {"bogus=1", "schedtrace=abc", "schedtrace=-5", "schedtrace=12x"}) {
    EXPECT_NE(err.find(item), std::string::npos) << item << " not reported in: " << err;
  }
  // A valid item after garbage still applies.
  ::testing::internal::CaptureStderr();
  o = rt::applyDebugEnv(in, "gctrace=1,schedtrace=250,scheddetail=1");
  ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(o.schedtrace, 250ms);
  EXPECT_TRUE(o.scheddetail);
}

}  // namespace
}  // namespace rt
