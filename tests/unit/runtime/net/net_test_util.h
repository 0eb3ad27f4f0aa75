// Helpers shared by the rt::net tests: running a test body as the main
// Task, loopback listeners, full reads, fd counting and sanitizer scaling.
//
// Only loopback addresses (127.0.0.1, [::1]) are ever used as targets.
#pragma once

#include <dirent.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <system_error>

#include "runtime/net/net.h"
#include "runtime/runtime.h"

namespace rt::net::testing {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

// n in a plain build, n / div under a sanitizer (at least 1).
inline int scaled(int n, int div = 5) {
  if (!kSanitized) return n;
  return n / div > 0 ? n / div : 1;
}

inline Deadline after(std::chrono::nanoseconds d) { return Clock::now() + d; }

inline int64_t msSince(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

// Runs body as the main Task of a fresh runtime.
inline void runTask(int workers, std::function<void()> body, Options opts = {}) {
  opts.workers = workers;
  rt::run(opts, std::move(body));
}

// A listener on 127.0.0.1, any port.
inline TcpListener listenLoopback(ListenOptions opts = {}) {
  std::error_code ec;
  TcpListener ln = TcpListener::bind("127.0.0.1:0", opts, ec);
  EXPECT_FALSE(ec) << ec.message();
  return ln;
}

// Connects `client` to `ln` and accepts the other end into `server` (5 s each). On
// failure adds a test failure naming the step and returns false.
inline bool connectPair(TcpListener& ln, TcpConn& client, TcpConn& server) {
  std::error_code ec;
  client = connect(ln.localAddress(), Clock::now() + std::chrono::seconds(5), ec);
  if (ec) {
    ADD_FAILURE() << "connect: " << ec.message();
    return false;
  }
  server = ln.accept(Clock::now() + std::chrono::seconds(5), ec);
  if (ec) {
    ADD_FAILURE() << "accept: " << ec.message();
    return false;
  }
  return true;
}

// Reads exactly n bytes unless an error comes first; returns the count.
inline size_t readFull(TcpConn& c, void* buf, size_t n, std::error_code& ec) {
  size_t got = 0;
  while (got < n) {
    got += c.read(static_cast<char*>(buf) + got, n - got, ec);
    if (ec) break;
  }
  return got;
}

// Polls pred() every millisecond (sleeping the Task) until it holds or
// `limit` passes; returns its last value.
template <class Pred>
bool waitUntil(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto end = Clock::now() + limit;
  while (!pred()) {
    if (Clock::now() >= end) return pred();
    rt::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Entries of /proc/self/fd (the directory's own fd excluded).
inline int openFdCount() {
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') n++;
  }
  closedir(d);
  return n - 1;
}

}  // namespace rt::net::testing
