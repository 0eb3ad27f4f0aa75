// ClusterLimits: [cluster.limits], a circuit breaker per cluster (Envoy's
// max_connections / max_requests): over a limit the proxy answers 503 at once and counts
// it (switchyard_upstream_overflow_total); nothing ever waits in a queue for a slot.
//
// Both counts are shared atomics, because a limit is a property of the sum over workers;
// they are touched only when the limit is configured (0 = off costs one branch).
//   - requests: reserved with a CAS before the request is sent, released when it ends.
//   - connections: every upstream connection of the cluster, idle in a pool or in use.
//     Fed by the same deltas as the switchyard_upstream_connections gauge
//     (ClusterRuntime::noteConnections), plus a reservation held across a connect so that
//     concurrent connects cannot overshoot. A pooled connection on another worker still
//     counts, so at the limit a worker without a pooled connection of its own gets 503
//     even though another worker has an idle one (pools are per worker by design).
#pragma once

#include <atomic>
#include <cstdint>

#include "config/config.h"

namespace switchyard::proxy::resilience {

class ClusterLimits {
 public:
  explicit ClusterLimits(const config::ClusterLimits& limits)
      : max_connections_(limits.max_connections), max_requests_(limits.max_requests) {}
  ClusterLimits(const ClusterLimits&) = delete;
  ClusterLimits& operator=(const ClusterLimits&) = delete;

  // A request wants to go upstream: false when max_requests are in flight already.
  // A true must be paired with endRequest().
  bool tryStartRequest() { return max_requests_ == 0 || tryReserve(requests_, max_requests_); }
  void endRequest() {
    if (max_requests_ != 0) requests_.fetch_sub(1, std::memory_order_relaxed);
  }

  // A new upstream connection is about to be made: false when max_connections exist.
  // A true is released by releaseConnect() -- right before the connection is counted by
  // connectionsChanged(+1), or when the connect failed.
  bool tryReserveConnect() {
    return max_connections_ == 0 || tryReserve(connections_, max_connections_);
  }
  void releaseConnect() { connectionsChanged(-1); }
  // Connections opened (+) or closed (-), idle or active alike.
  void connectionsChanged(int64_t delta) {
    if (max_connections_ != 0 && delta != 0) {
      connections_.fetch_add(delta, std::memory_order_relaxed);
    }
  }

  int64_t requests() const { return requests_.load(std::memory_order_relaxed); }
  int64_t connections() const { return connections_.load(std::memory_order_relaxed); }

 private:
  static bool tryReserve(std::atomic<int64_t>& count, uint64_t limit) {
    int64_t current = count.load(std::memory_order_relaxed);
    // Bounded: each failed CAS means another request got or released a slot meanwhile.
    for (int i = 0; i < 64; ++i) {
      if (current >= static_cast<int64_t>(limit)) return false;
      if (count.compare_exchange_weak(current, current + 1, std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }

  const uint64_t max_connections_;
  const uint64_t max_requests_;
  alignas(64) std::atomic<int64_t> requests_{0};
  alignas(64) std::atomic<int64_t> connections_{0};
};

}  // namespace switchyard::proxy::resilience
