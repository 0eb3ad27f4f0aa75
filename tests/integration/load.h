// LoadGenerator: a bounded, closed-loop HTTP load for the zero-downtime
// tests: clients that keep one connection alive across requests and
// clients that open a new connection per request, on plain threads with
// blocking sockets (independent of the runtime under test).
//
// It classifies every request, so a test can assert on each kind:
//   ok        a complete 200 response
//   failed    anything else: an error status, a reset or EOF after some
//             bytes, a timeout, or a retry that failed as well
//   refused   connect() failed with ECONNREFUSED (no listener, or a full
//             backlog being reset)
//   retried   a reused keep-alive connection that the server had closed
//             before sending any byte, retried once on a new connection
//             and then answered. HTTP clients do this for idempotent
//             requests (RFC 9112 9.3.1; Go's Transport, curl): it is what
//             happens when a server closes an idle keep-alive while a
//             request is on its way, and it is counted, not hidden.
// Each answered request's latency is kept with its completion time, so a
// test can compare percentiles of time windows.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/http_wire.h"

namespace switchyard::itest {

struct LoadOptions {
  uint16_t port = 0;
  std::string target = "/";
  int keepalive_clients = 2;
  int new_connection_clients = 2;
  Ms io_timeout = patience(5s);
  // Pause between two requests of one client; zero = back to back.
  std::chrono::microseconds think_time{0};
};

struct LoadSample {
  Clock::time_point done;
  std::chrono::microseconds latency;
};

struct LoadStats {
  uint64_t sent = 0;
  uint64_t ok = 0;
  uint64_t failed = 0;
  uint64_t refused = 0;
  uint64_t retried = 0;
  std::vector<std::string> failures;  // the first few, for the test's message
  std::vector<LoadSample> samples;    // every answered request
};

// The p-th percentile (0..100) of the latencies completed in [from, to).
std::chrono::microseconds percentile(const std::vector<LoadSample>& samples, double p,
                                     Clock::time_point from, Clock::time_point to);

class LoadGenerator {
 public:
  explicit LoadGenerator(LoadOptions options);
  ~LoadGenerator();  // stops
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  // Joins every client (each finishes its current request first).
  LoadStats stop();
  uint64_t answered() const { return answered_.load(); }

 private:
  void keepAliveClient();
  void newConnectionClient();
  void record(const LoadSample& sample);
  void fail(std::string why);

  LoadOptions options_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> answered_{0};
  std::mutex mu_;
  LoadStats stats_;  // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace switchyard::itest
