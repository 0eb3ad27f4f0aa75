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
// "/kubepods/pod1/ctr" from the "0::/kubepods/pod1/ctr" line of
// /proc/self/cgroup (cgroup v2 unified hierarchy).
std::string ownCgroupPath() {
  std::ifstream f("/proc/self/cgroup");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  }
  return "/";
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
}  // namespace

int cgroupCpuLimit(const std::string& cgroup_root) {
  // The tightest quota on the path from our cgroup up to the root wins.
  std::string path = ownCgroupPath();
  int limit = 0;
  for (int depth = 0; depth < 64; depth++) {
    std::ifstream f(cgroup_root + (path == "/" ? "" : path) + "/cpu.max");
    std::string text;
    if (f && std::getline(f, text)) {
      int cpus = parseCpuMax(text);
      if (cpus > 0 && (limit == 0 || cpus < limit)) limit = cpus;
    }
    if (path == "/" || path.empty()) break;
    size_t slash = path.rfind('/');
    path = slash == 0 ? "/" : path.substr(0, slash);
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
