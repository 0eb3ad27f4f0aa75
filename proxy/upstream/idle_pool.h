// IdlePool: one worker's idle keep-alive connections to one endpoint.
//
// Owns the idle upstream sockets a worker (P) may reuse. There is one pool
// per (endpoint, worker) and only Tasks running on that worker touch it,
// between two park points, so it needs no lock: take a connection, then do
// I/O with it. (A Task that resumes on another worker puts the connection
// back into that worker's pool; pools are caches, not owners of record.)
//
// Bounded (max_idle) and most-recently-used first: warm connections are
// reused, surplus cold ones age out. A connection idle longer than
// idle_timeout is closed instead of handed out, and so is one idle for at
// least kPeekAfterIdle that the upstream already closed (a non-blocking
// peek sees EOF or stray bytes; for TLS a close_notify alert is such bytes). Fresher
// connections skip the peek, a
// syscall per request on a busy proxy: upstreams close idle connections
// after seconds, not milliseconds, and the caller retries once on a fresh
// connection when a reused one fails before any response byte arrived (the
// upstream may close at any instant, peek or not).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "proxy/transport/stream.h"

namespace switchyard::upstream {

class IdlePool {
 public:
  static constexpr int64_t kPeekAfterIdleNs = 1'000'000'000;

  IdlePool(size_t max_idle, std::chrono::nanoseconds idle_timeout);

  // A live idle connection, or an invalid Stream when there is none.
  transport::Stream take(int64_t now_ns);
  // Parks `conn` for reuse; closes the oldest when the pool is full.
  void put(transport::Stream&& conn, int64_t now_ns);
  // Closes every connection idle past the timeout; returns how many.
  size_t expire(int64_t now_ns);
  void closeAll();

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    transport::Stream conn;
    int64_t idle_since_ns = 0;
  };
  static bool peerClosed(const transport::Stream& conn);

  const size_t max_idle_;
  const int64_t idle_timeout_ns_;
  std::vector<Entry> entries_;  // oldest first; capacity reserved up front
};

}  // namespace switchyard::upstream
