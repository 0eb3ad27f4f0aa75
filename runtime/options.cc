#include "runtime/options.h"

#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace rt {

const char* affinityModeName(AffinityMode m) {
  switch (m) {
    case AffinityMode::kNone: return "none";
    case AffinityMode::kSpread: return "spread";
    case AffinityMode::kPin: return "pin";
  }
  return "none";
}

std::vector<int> allowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return {0};
  for (int c = 0; c < CPU_SETSIZE; c++) {
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

namespace {
std::string readAll(const std::string& path) {
  std::ifstream f(path);
  std::ostringstream text;
  text << f.rdbuf();
  return text.str();
}

// From /proc/self/cgroup: the cgroup v2 path ("0::/kubepods/pod1/ctr"),
// and the cgroup v1 line whose controller list names "cpu"
// ("4:cpu,cpuacct:/docker/abc"). Empty when absent.
struct OwnCgroups {
  std::string v2_path;
  std::string v1_cpu_controllers;  // "cpu,cpuacct": the v1 hierarchy's mount dir
  std::string v1_cpu_path;
};
OwnCgroups parseProcSelfCgroup(const std::string& text) {
  OwnCgroups own;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) {
      own.v2_path = line.substr(3);
      continue;
    }
    const size_t a = line.find(':');
    const size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1);
    std::istringstream list(controllers);
    std::string c;
    while (std::getline(list, c, ',')) {
      if (c == "cpu") {
        own.v1_cpu_controllers = controllers;
        own.v1_cpu_path = line.substr(b + 1);
      }
    }
  }
  return own;
}

// Parses "max 100000" or "150000 100000"; returns CPUs rounded up, 0 = none.
int parseCpuMax(const std::string& text) {
  std::istringstream in(text);
  std::string quota;
  long long period = 0;
  if (!(in >> quota >> period) || quota == "max" || period <= 0) return 0;
  long long q = std::atoll(quota.c_str());
  if (q <= 0) return 0;
  return static_cast<int>((q + period - 1) / period);
}

// cgroup v1: cpu.cfs_quota_us ("-1" = unlimited) over cpu.cfs_period_us.
int parseCfs(const std::string& quota_text, const std::string& period_text) {
  std::istringstream q_in(quota_text), p_in(period_text);
  long long quota = 0, period = 0;
  if (!(q_in >> quota) || !(p_in >> period) || quota <= 0 || period <= 0) return 0;
  return static_cast<int>((quota + period - 1) / period);
}

// Calls read(dir) for `path` ("/a/b") under `base` and every ancestor up to
// `base` itself; returns the tightest positive limit, 0 if none.
template <typename Read>
int tightestOnPath(const std::string& base, std::string path, Read read) {
  if (path.empty() || path[0] != '/') path = "/";
  int limit = 0;
  for (int depth = 0; depth < 64; depth++) {
    const int cpus = read(base + (path == "/" ? "" : path));
    if (cpus > 0 && (limit == 0 || cpus < limit)) limit = cpus;
    if (path == "/") break;
    size_t slash = path.rfind('/');
    path = slash == 0 ? "/" : path.substr(0, slash);
  }
  return limit;
}
}  // namespace

int cgroupCpuLimit(const std::string& cgroup_root) {
  return cgroupCpuLimit(cgroup_root, readAll("/proc/self/cgroup"));
}

int cgroupCpuLimit(const std::string& cgroup_root, const std::string& proc_self_cgroup) {
  const OwnCgroups own = parseProcSelfCgroup(proc_self_cgroup);
  // v2 (unified): cpu.max along our path. With no "0::" line at all, the
  // root cgroup's file is still looked at (a v2-only container).
  int limit = tightestOnPath(cgroup_root, own.v2_path, [](const std::string& dir) {
    std::ifstream f(dir + "/cpu.max");
    std::string text;
    return f && std::getline(f, text) ? parseCpuMax(text) : 0;
  });
  // v1: the cpu hierarchy is mounted as <root>/cpu,cpuacct (often also
  // symlinked as <root>/cpu); the tightest of v1 and v2 wins.
  if (!own.v1_cpu_controllers.empty()) {
    for (const std::string& mount : {own.v1_cpu_controllers, std::string("cpu")}) {
      const std::string base = cgroup_root + "/" + mount;
      if (!std::ifstream(base + "/cpu.cfs_period_us")) continue;
      const int v1 = tightestOnPath(base, own.v1_cpu_path, [](const std::string& dir) {
        return parseCfs(readAll(dir + "/cpu.cfs_quota_us"), readAll(dir + "/cpu.cfs_period_us"));
      });
      if (v1 > 0 && (limit == 0 || v1 < limit)) limit = v1;
      break;
    }
  }
  return limit;
}

int defaultWorkers(const std::string& cgroup_root) {
  int n = static_cast<int>(allowedCpus().size());
  int quota = cgroupCpuLimit(cgroup_root);
  if (quota > 0) n = std::min(n, quota);
  return std::max(n, 1);
}

Options applyDebugEnv(Options opts, const char* env_value) {
  if (env_value == nullptr) return opts;
  std::string all(env_value);
  size_t pos = 0;
  while (pos <= all.size()) {
    size_t comma = all.find(',', pos);
    if (comma == std::string::npos) comma = all.size();
    std::string item = all.substr(pos, comma - pos);
    pos = comma + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string key = item.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
    char* end = nullptr;
    long long v = std::strtoll(value.c_str(), &end, 10);
    const bool numeric = !value.empty() && end != nullptr && *end == '\0' && v >= 0;
    if (key == "schedtrace" && numeric) {
      opts.schedtrace = std::chrono::milliseconds(v);
    } else if (key == "scheddetail" && numeric) {
      opts.scheddetail = v != 0;
    } else {
      std::fprintf(stderr, "switchyard runtime: SWITCHYARD_DEBUG: ignoring \"%s\"\n",
                   item.c_str());
    }
  }
  return opts;
}

}  // namespace rt
