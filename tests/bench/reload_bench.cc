// reload_bench: latency and failures of a proxy while it reloads, measured
// the same way for every proxy (tests/bench/reload_bench.sh drives it).
//
//   reload_bench origin
//       runs an echo origin on 127.0.0.1 (tests/integration/origin.h), prints
//       "origin PORT" and serves until stdin closes.
//   reload_bench load --port P --reload 'CMD' [--reloads 20] [--warmup-ms 500]
//                     [--steady-ms 2000] [--interval-ms 150] [--tail-ms 1000]
//                     [--clients 2]
//       runs LoadGenerator (2 keep-alive + 2 new-connection clients by
//       default) against 127.0.0.1:P; after --warmup-ms (not counted) and
//       --steady-ms runs CMD (a shell
//       command that reloads the proxy) --reloads times, --interval-ms apart;
//       prints one line: requests, failed, refused, retried, p50/p99 steady
//       and p50/p99 during the reloads.
// A measurement, not a test: it never fails on numbers.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>

#include "tests/integration/load.h"
#include "tests/integration/origin.h"

using namespace switchyard::itest;

namespace {

int runOrigin() {
  Origin origin(echoHandler());
  std::printf("origin %u\n", origin.port());
  std::fflush(stdout);
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  origin.stop();
  return 0;
}

int runLoad(int argc, char** argv) {
  LoadOptions options;
  std::string reload;
  int reloads = 20;
  int warmup_ms = 500, steady_ms = 2000, interval_ms = 150, tail_ms = 1000, clients = 2;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const char* value = argv[i + 1];
    if (key == "--port") options.port = static_cast<uint16_t>(std::atoi(value));
    else if (key == "--reload") reload = value;
    else if (key == "--reloads") reloads = std::atoi(value);
    else if (key == "--warmup-ms") warmup_ms = std::atoi(value);
    else if (key == "--steady-ms") steady_ms = std::atoi(value);
    else if (key == "--interval-ms") interval_ms = std::atoi(value);
    else if (key == "--tail-ms") tail_ms = std::atoi(value);
    else if (key == "--clients") clients = std::atoi(value);
    else {
      std::fprintf(stderr, "reload_bench: unknown option %s\n", key.c_str());
      return 2;
    }
  }
  if (options.port == 0 || reload.empty()) {
    std::fprintf(stderr, "reload_bench load: --port and --reload are required\n");
    return 2;
  }
  options.keepalive_clients = clients;
  options.new_connection_clients = clients;
  options.io_timeout = std::chrono::seconds(5);
  LoadGenerator load(options);
  // Connections to the origin, threads, caches: not part of "steady".
  std::this_thread::sleep_for(std::chrono::milliseconds(warmup_ms));
  const auto steady_start = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(steady_ms));
  const auto reloads_start = Clock::now();
  for (int i = 0; i < reloads; i++) {
    const std::string cmd = reload + " " + std::to_string(i % 2);
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "reload_bench: '%s' failed\n", cmd.c_str());
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  }
  const auto reloads_end = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(tail_ms));
  const LoadStats s = load.stop();
  auto us = [](std::chrono::microseconds d) { return static_cast<long long>(d.count()); };
  std::printf(
      "requests=%llu failed=%llu refused=%llu retried=%llu "
      "steady_p50_us=%lld steady_p99_us=%lld reload_p50_us=%lld reload_p99_us=%lld\n",
      static_cast<unsigned long long>(s.sent), static_cast<unsigned long long>(s.failed),
      static_cast<unsigned long long>(s.refused), static_cast<unsigned long long>(s.retried),
      us(percentile(s.samples, 50, steady_start, reloads_start)),
      us(percentile(s.samples, 99, steady_start, reloads_start)),
      us(percentile(s.samples, 50, reloads_start, reloads_end)),
      us(percentile(s.samples, 99, reloads_start, reloads_end)));
  for (const auto& f : s.failures) std::printf("  first failures: %s\n", f.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "origin") == 0) return runOrigin();
  if (argc >= 2 && std::strcmp(argv[1], "load") == 0) return runLoad(argc, argv);
  std::fprintf(stderr, "usage: reload_bench origin | reload_bench load --port P --reload CMD ...\n");
  return 2;
}
