// Runtime benchmarks: the Go runtime anchors (/work/shared/bench/go-runtime/*.go)
// re-written for Switchyard's scheduler, one Google Benchmark per program.
//
//   bazel run -c opt //tests/bench:runtime_bench
//   bazel run -c opt //tests/bench:runtime_bench -- --benchmark_filter='BM_Skynet/workers:2$'
//   tests/bench/run_runtime_bench.sh     # one fresh process per figure, Go side by side
//
// Every benchmark is registered for 1 and 2 workers (Go's GOMAXPROCS), so
// its name ends in /workers:1 or /workers:2. One benchmark iteration is one
// whole program: a fresh rt::run(...) doing the full workload (1M Tasks,
// 1M round trips, ...). The figure to read is a user counter measured
// inside the main Task exactly where the Go program starts and stops its
// clock; the Time column also includes starting and tearing down the
// runtime and is not comparable with Go.
//
// Counters (per iteration averages unless noted):
//   ns_per_op         BM_SpawnJoin: ns per Task (spawn+run+exit+join, as
//                     spawn.go's ns_per_g); BM_PingPong: ns per round trip
//                     (ns_per_rt); BM_Yield: ns per switch, 2 Tasks
//                     (ns_per_switch); BM_Skynet: ns per Task (1,111,111);
//                     BM_SpawnLive: ns per Task, spawn to exit.
//   ms_total          BM_Skynet: the skynet total (skynet.go's cold_ms when
//                     the process runs one iteration).
//   peak_rss_mb       getrusage(ru_maxrss) at the end: process-wide and
//                     monotonic, so only clean when the process ran this one
//                     benchmark (run_runtime_bench.sh does that).
//   alive_after_loop  BM_SpawnJoin: Tasks spawned but not finished when the
//                     spawn loop ended (spawn.go's alive_after_loop; tells
//                     which mode a run was in).
//   bytes_per_live_g  BM_SpawnLive: (RSS with all N Tasks parked - RSS
//                     before spawning) / N: the memory cost of a live Task.
//   ns_per_yield_1g   BM_Yield: one Task yielding alone (ns_per_gosched_1g).
//
// Flag of our own (removed before Google Benchmark sees argv):
//   --n=N   workload size instead of 1,000,000 (Tasks, round trips, yields
//           per Task; skynet uses the largest power of 10 <= N leaves).
//           For quick correctness runs, e.g. under --config=asan.
// Unless given on the command line, --benchmark_min_time=0.001 is passed,
// so each repetition is exactly one iteration (every workload takes far
// longer than 5 x 1 ms of wall time; a small --n may give a few more, which
// the per-iteration counters absorb).
//
// Notes on the output: with --benchmark_repetitions=K the K runs keep the
// plain names and the aggregate rows get Google Benchmark's usual _mean /
// _median / _stddev suffixes. --benchmark_format=csv needs one benchmark per
// process (the CSV reporter aborts when benchmarks have different counter
// sets); run_runtime_bench.sh does that.
#include <sys/resource.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/runtime.h"
#include "runtime/sync/chan.h"
#include "runtime/sync/sync.h"

namespace {

int64_t g_n = 1'000'000;

int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Process-wide high-water mark (ru_maxrss is in KiB on Linux).
double peakRssMb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

// Current resident set, from /proc/self/statm (pages).
int64_t currentRssBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long size = 0, resident = 0;
  int got = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  if (got != 2) return 0;
  return static_cast<int64_t>(resident) * sysconf(_SC_PAGESIZE);
}

rt::Options optionsFor(const benchmark::State& state) {
  rt::Options o;
  o.workers = static_cast<int>(state.range(0));
  return o;
}

[[noreturn]] void die(const char* msg) {
  std::fprintf(stderr, "runtime_bench: %s\n", msg);
  std::abort();
}

// ---- spawn.go: N no-op Tasks, WaitGroup add(N) up front, wait ----

void BM_SpawnJoin(benchmark::State& state) {
  const int64_t n = g_n;
  double ns_per_g = 0, alive = 0;
  for (auto _ : state) {
    // Sync objects live outside rt::run: a Task may still be inside done()
    // when wait() returns, and rt::run joins every thread before returning.
    rt::WaitGroup wg;
    int64_t el = 0;
    uint64_t alive_after_loop = 0;
    rt::run(optionsFor(state), [&] {
      wg.add(n);
      const int64_t start = nowNs();
      for (int64_t i = 0; i < n; i++) rt::go([&wg] { wg.done(); });
      alive_after_loop = rt::snapshot().tasks_live - 1;  // not the main Task
      wg.wait();
      el = nowNs() - start;
    });
    ns_per_g += static_cast<double>(el) / static_cast<double>(n);
    alive += static_cast<double>(alive_after_loop);
  }
  state.counters["ns_per_op"] = benchmark::Counter(ns_per_g, benchmark::Counter::kAvgIterations);
  state.counters["alive_after_loop"] =
      benchmark::Counter(alive, benchmark::Counter::kAvgIterations);
  state.counters["peak_rss_mb"] = peakRssMb();
}

// ---- 1M live Tasks: all spawned and parked before any exits ----

void BM_SpawnLive(benchmark::State& state) {
  const int64_t n = g_n;
  double ns_per_g = 0, bytes_per_g = 0, live_sum = 0;
  for (auto _ : state) {
    rt::WaitGroup started, gate, done;
    int64_t el = 0, rss_before = 0, rss_live = 0;
    uint64_t live = 0;
    rt::run(optionsFor(state), [&] {
      started.add(n);
      done.add(n);
      gate.add(1);
      rss_before = currentRssBytes();
      const int64_t start = nowNs();
      for (int64_t i = 0; i < n; i++) {
        rt::go([&] {
          started.done();
          gate.wait();
          done.done();
        });
      }
      started.wait();  // every Task has run (has its stack) and parks on gate
      rss_live = currentRssBytes();
      live = rt::snapshot().tasks_live - 1;
      gate.done();
      done.wait();
      el = nowNs() - start;
    });
    ns_per_g += static_cast<double>(el) / static_cast<double>(n);
    bytes_per_g += static_cast<double>(rss_live - rss_before) / static_cast<double>(n);
    live_sum += static_cast<double>(live);
  }
  state.counters["ns_per_op"] = benchmark::Counter(ns_per_g, benchmark::Counter::kAvgIterations);
  state.counters["bytes_per_live_g"] =
      benchmark::Counter(bytes_per_g, benchmark::Counter::kAvgIterations);
  state.counters["live_gs"] = benchmark::Counter(live_sum, benchmark::Counter::kAvgIterations);
  state.counters["peak_rss_mb"] = peakRssMb();
}

// ---- skynet.go: 10-ary tree of Tasks summing over unbuffered channels ----

void skynet(rt::Chan<int64_t>* c, int64_t num, int64_t size, int64_t div) {
  if (size == 1) {
    c->send(num);
    return;
  }
  // On this Task's stack, as Go's `rc := make(chan int)`: this Task receives
  // all `div` values before it returns, and a child touches the channel only
  // until its send has been taken.
  rt::Chan<int64_t> rc;
  int64_t sum = 0;
  for (int64_t i = 0; i < div; i++) {
    const int64_t sub_num = num + i * (size / div);
    rt::go([&rc, sub_num, size, div] { skynet(&rc, sub_num, size / div, div); });
  }
  for (int64_t i = 0; i < div; i++) sum += *rc.recv();
  c->send(sum);
}

void BM_Skynet(benchmark::State& state) {
  constexpr int64_t kDiv = 10;
  int64_t size = 1;
  while (size * kDiv <= g_n) size *= kDiv;
  int64_t tasks = 0;
  for (int64_t s = size; s >= 1; s /= kDiv) tasks += s;  // 1,111,111 for 1M leaves
  double ms = 0;
  for (auto _ : state) {
    rt::Chan<int64_t> c;
    int64_t el = 0, result = 0;
    rt::run(optionsFor(state), [&] {
      const int64_t start = nowNs();
      rt::go([&c, size] { skynet(&c, 0, size, kDiv); });
      result = *c.recv();
      el = nowNs() - start;
    });
    if (result != size * (size - 1) / 2) die("skynet: wrong sum");
    ms += static_cast<double>(el) / 1e6;
  }
  state.counters["ms_total"] = benchmark::Counter(ms, benchmark::Counter::kAvgIterations);
  state.counters["ns_per_op"] = benchmark::Counter(ms * 1e6 / static_cast<double>(tasks),
                                                   benchmark::Counter::kAvgIterations);
  state.counters["peak_rss_mb"] = peakRssMb();
}

// ---- pingpong.go: 2 Tasks, 2 unbuffered channels, N round trips ----

void BM_PingPong(benchmark::State& state) {
  const int64_t n = g_n;
  double ns_per_rt = 0;
  for (auto _ : state) {
    rt::Chan<int64_t> ping, pong;
    int64_t el = 0;
    rt::run(optionsFor(state), [&] {
      rt::go([&] {
        while (auto v = ping.recv()) pong.send(*v + 1);
        pong.close();
      });
      for (int64_t i = 0; i < 10000; i++) {  // warm-up, as pingpong.go
        ping.send(i);
        if (pong.recv() != i + 1) die("pingpong: wrong reply");
      }
      const int64_t start = nowNs();
      for (int64_t i = 0; i < n; i++) {
        ping.send(i);
        pong.recv();
      }
      el = nowNs() - start;
      ping.close();
      while (pong.recv()) {
      }  // the partner closes pong and exits
    });
    ns_per_rt += static_cast<double>(el) / static_cast<double>(n);
  }
  state.counters["ns_per_op"] = benchmark::Counter(ns_per_rt, benchmark::Counter::kAvgIterations);
  state.counters["peak_rss_mb"] = peakRssMb();
}

// ---- yield.go: g Tasks each yielding n times, released together ----

// Lives outside rt::run (see BM_SpawnJoin); one per yieldRun, as a closed
// channel cannot be reopened.
struct YieldSync {
  rt::WaitGroup wg;
  rt::Chan<int> start_ch;
};

int64_t yieldRun(YieldSync& s, int g, int64_t n) {
  s.wg.add(g);
  for (int j = 0; j < g; j++) {
    rt::go([&s, n] {
      s.start_ch.recv();
      for (int64_t i = 0; i < n; i++) rt::yield();
      s.wg.done();
    });
  }
  rt::yield();
  const int64_t start = nowNs();
  s.start_ch.close();
  s.wg.wait();
  return nowNs() - start;
}

void BM_Yield(benchmark::State& state) {
  const int64_t n = g_n;
  double ns_per_switch = 0, ns_1g = 0;
  for (auto _ : state) {
    YieldSync warm, two, one;
    int64_t el2 = 0, el1 = 0;
    rt::run(optionsFor(state), [&] {
      yieldRun(warm, 2, 10000);  // warm-up, as yield.go
      el2 = yieldRun(two, 2, n);
      el1 = yieldRun(one, 1, n);
    });
    ns_per_switch += static_cast<double>(el2) / static_cast<double>(2 * n);
    ns_1g += static_cast<double>(el1) / static_cast<double>(n);
  }
  state.counters["ns_per_op"] =
      benchmark::Counter(ns_per_switch, benchmark::Counter::kAvgIterations);
  state.counters["ns_per_yield_1g"] = benchmark::Counter(ns_1g, benchmark::Counter::kAvgIterations);
  state.counters["peak_rss_mb"] = peakRssMb();
}

// No Iterations()/Repetitions()/UseRealTime()/UseManualTime() here: each of
// them appends to the name (/iterations:1, /repeats:5, /real_time,
// /manual_time) and the names must end in /workers:N. Repetitions come from
// --benchmark_repetitions, the iteration count from --benchmark_min_time.
BENCHMARK(BM_SpawnJoin)->ArgName("workers")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SpawnLive)->ArgName("workers")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Skynet)->ArgName("workers")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PingPong)->ArgName("workers")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Yield)->ArgName("workers")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  args.push_back(argv[0]);
  static char kMinTime[] = "--benchmark_min_time=0.001";
  args.push_back(kMinTime);  // a later --benchmark_min_time on the command line wins
  for (int i = 1; i < argc; i++) {
    if (std::strncmp(argv[i], "--n=", 4) == 0) {
      g_n = std::strtoll(argv[i] + 4, nullptr, 10);
      if (g_n < 10) {
        std::fprintf(stderr, "runtime_bench: --n must be >= 10\n");
        return 2;
      }
      continue;
    }
    args.push_back(argv[i]);
  }
  int new_argc = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&new_argc, args.data());
  if (benchmark::ReportUnrecognizedArguments(new_argc, args.data())) return 1;
  benchmark::AddCustomContext("n", std::to_string(g_n));
  benchmark::AddCustomContext("task_stack_bytes", std::to_string(rt::Options{}.stack_size));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
