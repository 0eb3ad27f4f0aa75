// EndpointSet: a cluster's endpoints with the two pieces of mutable state the balancers
// read: a health flag and an active-request count per endpoint.
//
// Ownership and threads:
//   - The endpoint list (addresses, names) is fixed at construction and read freely.
//   - Health flags are written by the health checker (active probes, or the proxy after
//     passive failures) from any thread, rarely; they are read by every pick. They are
//     packed together in one array (read-mostly data shares lines happily) and written
//     with exchange so that healthyCount() stays exact.
//   - Active-request counts are written on every request by least_request (and only by
//     it), from every worker: each lives alone on a cache line (see least_request.h).
//   - All accesses are relaxed: a pick acts on a snapshot that may be a moment old, which
//     is inherent to health checking anyway; no other memory is published through these
//     flags.
//
// An EndpointSet is shared (std::shared_ptr) between the cluster's balancer and its health
// checker; nothing on the request path copies that pointer.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"

namespace switchyard::proxy {

// "No endpoint": PickContext::exclude when nothing is excluded.
inline constexpr size_t kNoEndpoint = SIZE_MAX;

class EndpointSet {
 public:
  // Every endpoint starts healthy (an endpoint is innocent until a check fails, so a
  // fresh proxy serves immediately).
  // `weights`: one per endpoint (config::ClusterConfig::weights), or empty for all 1.
  explicit EndpointSet(std::vector<config::HostPort> endpoints,
                       std::vector<uint32_t> weights = {});
  EndpointSet(const EndpointSet&) = delete;
  EndpointSet& operator=(const EndpointSet&) = delete;

  size_t size() const { return endpoints_.size(); }
  const config::HostPort& endpoint(size_t i) const { return endpoints_[i]; }
  // "host:port" ("[::1]:80" for IPv6): the endpoint's identity for hashing, logs, metrics.
  const std::string& name(size_t i) const { return names_[i]; }
  // Relative share of endpoint i (1 unless configured); fixed at construction.
  uint32_t weight(size_t i) const { return weights_[i]; }
  // False when every weight is equal (the balancers then skip weighting entirely).
  bool weighted() const { return weighted_; }
  // Index of the endpoint called `name`, or kNoEndpoint (linear; not for the hot path).
  size_t find(const std::string& name) const;

  bool healthy(size_t i) const { return healthy_[i].load(std::memory_order_relaxed); }
  // Returns the previous value. Any thread.
  bool setHealthy(size_t i, bool healthy);
  size_t healthyCount() const { return healthy_count_.value.load(std::memory_order_relaxed); }

  // Copies the health of every endpoint that `previous` also has (same name), so that a
  // reload does not send traffic back to a known-dead endpoint. Call before the set is
  // published to the workers.
  void inheritHealth(const EndpointSet& previous);

  // Requests started and not yet ended on endpoint i, as counted by
  // Balancer::onRequestStart/onRequestEnd (least_request only; 0 for the others).
  uint64_t activeRequests(size_t i) const {
    return active_[i].value.load(std::memory_order_relaxed);
  }
  void addActiveRequest(size_t i) { active_[i].value.fetch_add(1, std::memory_order_relaxed); }
  void removeActiveRequest(size_t i) { active_[i].value.fetch_sub(1, std::memory_order_relaxed); }

 private:
  // One counter per cache line: writers of different endpoints never share a line.
  struct alignas(64) PaddedCounter {
    std::atomic<uint64_t> value{0};
  };
  static_assert(sizeof(PaddedCounter) == 64);

  std::vector<config::HostPort> endpoints_;
  std::vector<std::string> names_;
  std::vector<uint32_t> weights_;
  bool weighted_ = false;
  std::unique_ptr<std::atomic<bool>[]> healthy_;
  PaddedCounter healthy_count_;
  std::unique_ptr<PaddedCounter[]> active_;
};

}  // namespace switchyard::proxy
