// Network benchmark: netecho.go (/work/shared/bench/go-runtime/netecho.go)
// re-written on rt::net, the same workload step by step.
//
//   bazel run -c opt //tests/bench:net_bench
//   bazel run -c opt //tests/bench:net_bench -- --benchmark_filter='BM_TcpEcho/workers:1$'
//   bazel run -c opt //tests/bench:net_bench -- --conns=100 --rounds=10   # a quick check
//
// BM_TcpEcho/workers:N (Go: GOMAXPROCS=N). In one process: an echo server
// on 127.0.0.1 (one Task per accepted connection: read exactly `size`
// bytes, write them back) and `conns` client connections, dialled one
// after the other before the clock starts (so the listen backlog is never
// the bottleneck), one Task each. Every client waits on a start gate; 50 ms
// after the last one was spawned the gate opens and each does `rounds`
// ping-pongs (write `size`, read exactly `size`). Every read that would
// block parks the Task on the netpoller, so a round trip is two netpoll
// wake-ups, as in Go.
//
// Counters (the figures to compare with netecho.go's RESULT line; measured
// over the ping-pong phase only, as Go does):
//   rt_per_sec     round trips per second (conns * rounds / wall time)
//   cpu_us_per_rt  process CPU (getrusage user+sys, client and server
//                  together) per round trip, in microseconds
//   p50_us/p99_us  per-round-trip latency seen by the clients
//   dial_ms        time to dial every connection
// One benchmark iteration is one whole program (a fresh rt::run); the Time
// column includes start-up, dialling and teardown and is not comparable.
//
// Flags of our own (removed before Google Benchmark sees argv): --conns=N
// (1000), --rounds=N (100), --size=N (64 bytes). Unless given on the
// command line, --benchmark_min_time=0.001 is passed, so each repetition is
// exactly one iteration.
#include <sys/resource.h>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/net/net.h"
#include "runtime/runtime.h"
#include "runtime/sync/sync.h"

namespace {

int g_conns = 1000;
int g_rounds = 100;
size_t g_size = 64;

int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double cpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

[[noreturn]] void die(const char* what, const std::error_code& ec) {
  std::fprintf(stderr, "net_bench: %s: %s\n", what, ec.message().c_str());
  std::abort();
}

// Reads exactly n bytes (Go's io.ReadFull).
bool readFull(rt::net::TcpConn& c, char* buf, size_t n, std::error_code& ec) {
  size_t got = 0;
  while (got < n) {
    got += c.read(buf + got, n - got, ec);
    if (ec) return false;
  }
  return true;
}

struct Result {
  double total_ms = 0, rt_per_sec = 0, cpu_s = 0, cpu_us_per_rt = 0;
  double p50_us = 0, p99_us = 0, dial_ms = 0;
};

Result runOnce(int workers) {
  const int conns = g_conns;
  const int rounds = g_rounds;
  const size_t size = g_size;
  Result res;
  // Sync objects outlive rt::run: a Task may still be inside done() when
  // wait() returns.
  rt::WaitGroup servers, acceptor, clients, start_gate;
  std::vector<std::vector<int64_t>> lat(static_cast<size_t>(conns));
  rt::Options opts;
  opts.workers = workers;
  rt::run(opts, [&] {
    std::error_code ec;
    rt::net::TcpListener ln = rt::net::TcpListener::bind("127.0.0.1:0", {}, ec);
    if (ec) die("listen", ec);
    acceptor.add(1);
    rt::go([&] {
      for (;;) {
        std::error_code aec;
        rt::net::TcpConn c = ln.accept(aec);
        if (aec) break;  // interrupted at the end
        servers.add(1);
        rt::go([&servers, size, c = std::move(c)]() mutable {
          std::vector<char> buf(size);
          std::error_code sec;
          while (readFull(c, buf.data(), size, sec) && c.write(buf.data(), size, sec) == size) {
          }
          c.close();
          servers.done();
        });
      }
      acceptor.done();
    });

    std::vector<rt::net::TcpConn> cs(static_cast<size_t>(conns));
    const rt::net::Address addr = ln.localAddress();
    const int64_t dial0 = nowNs();
    for (auto& c : cs) {
      c = rt::net::connect(addr, rt::net::kNoDeadline, ec);
      if (ec) die("dial", ec);
    }
    res.dial_ms = static_cast<double>(nowNs() - dial0) / 1e6;

    start_gate.add(1);
    clients.add(conns);
    for (int i = 0; i < conns; i++) {
      lat[static_cast<size_t>(i)].reserve(static_cast<size_t>(rounds));
      rt::go([&, i] {
        rt::net::TcpConn& c = cs[static_cast<size_t>(i)];
        std::vector<int64_t>& l = lat[static_cast<size_t>(i)];
        std::vector<char> out(size), in(size);
        std::error_code cec;
        start_gate.wait();
        for (int r = 0; r < rounds; r++) {
          const int64_t s = nowNs();
          if (c.write(out.data(), size, cec) != size) die("client write", cec);
          if (!readFull(c, in.data(), size, cec)) die("client read", cec);
          l.push_back(nowNs() - s);
        }
        clients.done();
      });
    }
    rt::sleep_for(std::chrono::milliseconds(50));  // let all clients park on the gate
    const double cpu0 = cpuSeconds();
    const int64_t start = nowNs();
    start_gate.done();
    clients.wait();
    const int64_t el = nowNs() - start;
    res.cpu_s = cpuSeconds() - cpu0;

    for (auto& c : cs) c.close();
    servers.wait();
    ln.interrupt();
    acceptor.wait();
    ln.close();

    const double total = static_cast<double>(conns) * rounds;
    res.total_ms = static_cast<double>(el) / 1e6;
    res.rt_per_sec = total / (static_cast<double>(el) / 1e9);
    res.cpu_us_per_rt = res.cpu_s * 1e6 / total;
  });
  std::vector<int64_t> all;
  all.reserve(static_cast<size_t>(conns) * static_cast<size_t>(rounds));
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return static_cast<double>(all[static_cast<size_t>(p * static_cast<double>(all.size() - 1))]) /
           1e3;
  };
  res.p50_us = pct(0.50);
  res.p99_us = pct(0.99);
  return res;
}

void BM_TcpEcho(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  Result sum;
  for (auto _ : state) {
    const Result r = runOnce(workers);
    sum.total_ms += r.total_ms;
    sum.rt_per_sec += r.rt_per_sec;
    sum.cpu_s += r.cpu_s;
    sum.cpu_us_per_rt += r.cpu_us_per_rt;
    sum.p50_us += r.p50_us;
    sum.p99_us += r.p99_us;
    sum.dial_ms += r.dial_ms;
    // The same line as netecho.go, for scripts that compare the two.
    std::printf(
        "RESULT impl=switchyard bench=netecho procs=%d conns=%d rounds=%d total_ms=%.1f "
        "rt_per_sec=%.0f cpu_s=%.3f cpu_us_per_rt=%.2f p50_us=%.1f p99_us=%.1f dial_ms=%.1f\n",
        workers, g_conns, g_rounds, r.total_ms, r.rt_per_sec, r.cpu_s, r.cpu_us_per_rt, r.p50_us,
        r.p99_us, r.dial_ms);
    std::fflush(stdout);
  }
  auto avg = [](double v) { return benchmark::Counter(v, benchmark::Counter::kAvgIterations); };
  state.counters["rt_per_sec"] = avg(sum.rt_per_sec);
  state.counters["cpu_us_per_rt"] = avg(sum.cpu_us_per_rt);
  state.counters["p50_us"] = avg(sum.p50_us);
  state.counters["p99_us"] = avg(sum.p99_us);
  state.counters["dial_ms"] = avg(sum.dial_ms);
}

BENCHMARK(BM_TcpEcho)->ArgName("workers")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

bool parseFlag(const char* arg, const char* name, long long& out) {
  const size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0) return false;
  out = std::strtoll(arg + n, nullptr, 10);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // Both ends of every connection live in this process (Go raises the
  // limit itself too).
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  std::vector<char*> args;
  args.push_back(argv[0]);
  static char kMinTime[] = "--benchmark_min_time=0.001";
  args.push_back(kMinTime);  // a later --benchmark_min_time on the command line wins
  for (int i = 1; i < argc; i++) {
    long long v = 0;
    if (parseFlag(argv[i], "--conns=", v)) {
      g_conns = static_cast<int>(std::max(1LL, v));
    } else if (parseFlag(argv[i], "--rounds=", v)) {
      g_rounds = static_cast<int>(std::max(1LL, v));
    } else if (parseFlag(argv[i], "--size=", v)) {
      g_size = static_cast<size_t>(std::max(1LL, v));
    } else {
      args.push_back(argv[i]);
    }
  }
  int new_argc = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&new_argc, args.data());
  if (benchmark::ReportUnrecognizedArguments(new_argc, args.data())) return 1;
  benchmark::AddCustomContext("conns", std::to_string(g_conns));
  benchmark::AddCustomContext("rounds", std::to_string(g_rounds));
  benchmark::AddCustomContext("size", std::to_string(g_size));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
