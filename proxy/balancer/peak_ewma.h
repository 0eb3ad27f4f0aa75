// peak_ewma: power of two choices over a latency estimate that penalises requests in
// flight (Finagle's and Linkerd's "peak EWMA").
//
// Each endpoint keeps an exponentially weighted moving average of its upstream latency
// (request written -> response head read). Two distinct candidates are drawn (per-P
// xorshift64*, as least_request); the one with the lower cost wins, where
//   cost = ewma_now * (in_flight + 1) / weight
//   - "peak": a sample above the average replaces it at once, so a stalling endpoint is
//     avoided after one slow response; samples below it pull it down gradually;
//   - the average decays with time constant `decay` (ewma_decay): w = exp(-dt / decay)
//     weighs the old value, both when a sample arrives and when a pick reads it. An
//     endpoint that gets no traffic therefore looks cheaper as time passes and is tried
//     again (otherwise one slow period would starve it forever);
//   - in_flight + 1 makes a fast endpoint that already has many requests look as expensive
//     as it is about to become (the count least_request keeps, EndpointSet's active count);
//   - an endpoint without a sample yet costs as if its latency were kInitialLatency.
// Weights (EndpointSet::weight) divide the cost: weight 2 takes about twice the load at
// the same latency.
//
// Shared writes per request: the in-flight count (as least_request), and one latency
// update of the chosen endpoint's line (a relaxed load of two words and a store of two:
// racing updates of the same endpoint may lose a sample, which only makes the average a
// little less smooth; no lock, no CAS loop). Each endpoint's state has its own cache line.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include "proxy/balancer/balancer.h"
#include "proxy/balancer/internal/per_worker.h"

namespace switchyard::proxy {

class PeakEwmaBalancer final : public Balancer {
 public:
  // The cost of an endpoint before its first response.
  static constexpr int64_t kInitialLatencyNs = 1'000'000;  // 1ms

  PeakEwmaBalancer(std::shared_ptr<EndpointSet> endpoints, uint64_t seed,
                   std::chrono::nanoseconds decay);

  size_t pick(const PickContext& ctx) override;
  void onRequestStart(size_t endpoint) override;
  void onRequestEnd(size_t endpoint) override;
  void observeLatency(size_t endpoint, int64_t latency_ns) override;
  config::BalancerKind kind() const override { return config::BalancerKind::kPeakEwma; }

  // The decayed average as of `now_ns` (steady clock), in ns; for tests and pick().
  double ewmaNs(size_t endpoint, int64_t now_ns) const;
  // The pick's cost of `endpoint` as of `now_ns`.
  double cost(size_t endpoint, int64_t now_ns) const;

 private:
  struct alignas(64) Latency {
    std::atomic<uint64_t> ewma_bits{0};  // a double's bits; 0.0 = no sample yet
    std::atomic<int64_t> stamp_ns{0};    // when ewma was last updated
  };
  static_assert(sizeof(Latency) == 64);

  internal::PerWorkerWords state_;  // per P: a xorshift64* state, never 0
  std::unique_ptr<Latency[]> latency_;
  double decay_ns_;
};

}  // namespace switchyard::proxy
