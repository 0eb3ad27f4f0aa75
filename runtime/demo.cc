// runtime demo: watch the scheduler work.
//
//   bazel run //runtime:demo                 # 2 s of mixed load, trace every 250 ms
//   bazel run //runtime:demo -- --workers 1 --detail
//
// Spawns CPU-bound Tasks, a pool of sleepers, a channel pipeline and a Task
// that makes blocking calls, then prints Go-format SCHED lines so you can
// see run queues fill and drain, Ps go idle, and sysmon retake Ps.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "runtime/runtime.h"
#include "runtime/sync/chan.h"
#include "runtime/sync/sync.h"

int main(int argc, char** argv) {
  rt::Options opts;
  opts.schedtrace = std::chrono::milliseconds(250);
  int seconds = 2;
  for (int i = 1; i < argc; i++) {
    if (std::strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
      opts.workers = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--detail") == 0) {
      opts.scheddetail = true;
    } else if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: demo [--workers N] [--detail] [--seconds S]\n");
      return 2;
    }
  }
  return rt::run(opts, [seconds] {
    using namespace std::chrono;
    const auto end = steady_clock::now() + seconds * 1s;
    std::atomic<uint64_t> spins{0}, sleeps{0}, messages{0}, blocking_calls{0};
    rt::WaitGroup wg;

    // CPU-bound Tasks that cooperate with sysmon's preemption requests.
    for (int i = 0; i < 4; i++) {
      wg.add(1);
      rt::go([&] {
        while (steady_clock::now() < end) {
          for (int k = 0; k < 10000; k++) spins.fetch_add(1, std::memory_order_relaxed);
          rt::yield_if_preempted();
        }
        wg.done();
      });
    }
    // Sleepers: timers on every P.
    for (int i = 0; i < 200; i++) {
      wg.add(1);
      rt::go([&, i] {
        while (steady_clock::now() < end) {
          rt::sleep_for(milliseconds(1 + i % 20));
          sleeps.fetch_add(1, std::memory_order_relaxed);
        }
        wg.done();
      });
    }
    // A three-stage channel pipeline.
    auto* a = new rt::Chan<int>(0);
    auto* b = new rt::Chan<int>(16);
    wg.add(3);
    rt::go([&] {
      for (int n = 0; steady_clock::now() < end; n++) a->send(n);
      a->close();
      wg.done();
    });
    rt::go([&] {
      while (auto v = a->recv()) b->send(*v * 2);
      b->close();
      wg.done();
    });
    rt::go([&] {
      while (b->recv()) messages.fetch_add(1, std::memory_order_relaxed);
      wg.done();
    });
    // Blocking calls: sysmon hands their P to another thread.
    wg.add(1);
    rt::go([&] {
      while (steady_clock::now() < end) {
        rt::blocking([] { usleep(50'000); });
        blocking_calls.fetch_add(1, std::memory_order_relaxed);
      }
      wg.done();
    });
    wg.wait();
    delete a;
    delete b;
    rt::SchedSnapshot s = rt::snapshot();
    std::printf(
        "demo: %d workers, %llu tasks spawned, %llu context switches, %llu steals, "
        "%llu sysmon retakes, %llu preempt requests; spins=%llu sleeps=%llu messages=%llu "
        "blocking_calls=%llu\n",
        s.gomaxprocs, (unsigned long long)s.tasks_spawned,
        (unsigned long long)s.context_switches, (unsigned long long)s.steals,
        (unsigned long long)s.sysmon_retakes, (unsigned long long)s.sysmon_preempt_requests,
        (unsigned long long)spins.load(), (unsigned long long)sleeps.load(),
        (unsigned long long)messages.load(), (unsigned long long)blocking_calls.load());
  });
}
