#include "proxy/balancer/peak_ewma.h"

#include <bit>
#include <cmath>
#include <utility>

namespace switchyard::proxy {
namespace {

int64_t steadyNowNs() {
  return std::chrono::steady_clock::now().time_since_epoch().count();
}

}  // namespace

PeakEwmaBalancer::PeakEwmaBalancer(std::shared_ptr<EndpointSet> endpoints, uint64_t seed,
                                   std::chrono::nanoseconds decay)
    : Balancer(std::move(endpoints)),
      latency_(new Latency[endpoints_->size()]),
      decay_ns_(static_cast<double>(decay.count() > 0 ? decay.count() : 1)) {
  for (int w = 0; w < internal::kMaxWorkers; ++w) state_[w].store(internal::xorshiftSeed(seed, w));
}

double PeakEwmaBalancer::ewmaNs(size_t e, int64_t now_ns) const {
  const double ewma = std::bit_cast<double>(latency_[e].ewma_bits.load(std::memory_order_relaxed));
  if (ewma <= 0.0) return 0.0;
  const int64_t elapsed = now_ns - latency_[e].stamp_ns.load(std::memory_order_relaxed);
  if (elapsed <= 0) return ewma;
  return ewma * std::exp(-static_cast<double>(elapsed) / decay_ns_);
}

double PeakEwmaBalancer::cost(size_t e, int64_t now_ns) const {
  const EndpointSet& set = *endpoints_;
  const bool sampled = latency_[e].ewma_bits.load(std::memory_order_relaxed) != 0;
  const double latency = sampled ? ewmaNs(e, now_ns) : static_cast<double>(kInitialLatencyNs);
  return latency * static_cast<double>(set.activeRequests(e) + 1) /
         static_cast<double>(set.weight(e));
}

size_t PeakEwmaBalancer::pick(const PickContext& ctx) {
  const Candidates c = candidates(ctx);
  if (c.forced != kNoEndpoint) return c.forced;
  if (c.count == 1) return nthCandidate(c, 0);

  const auto [rank_a, rank_b] = internal::twoDistinctRanks(state_[ctx.worker], c.count);
  const size_t a = nthCandidate(c, rank_a);
  const size_t b = nthCandidate(c, rank_b);
  const int64_t now = steadyNowNs();
  return cost(b, now) < cost(a, now) ? b : a;
}

void PeakEwmaBalancer::onRequestStart(size_t endpoint) {
  if (endpoint < endpoints_->size()) endpoints_->addActiveRequest(endpoint);
}

void PeakEwmaBalancer::onRequestEnd(size_t endpoint) {
  if (endpoint < endpoints_->size()) endpoints_->removeActiveRequest(endpoint);
}

void PeakEwmaBalancer::observeLatency(size_t endpoint, int64_t latency_ns) {
  if (endpoint >= endpoints_->size() || latency_ns < 0) return;
  // A zero sample would read as "no sample yet": a response takes at least 1ns.
  const double sample = static_cast<double>(latency_ns > 0 ? latency_ns : 1);
  const int64_t now = steadyNowNs();
  const double current = ewmaNs(endpoint, now);
  double next;
  if (current <= 0.0 || sample > current) {
    next = sample;  // peak: jump up at once (and the first sample is taken as is)
  } else {
    // Decay towards the sample with the weight of the time since the last update; the
    // decayed `current` already carries exp(-dt/decay) of the old value.
    const int64_t elapsed =
        now - latency_[endpoint].stamp_ns.load(std::memory_order_relaxed);
    const double w = elapsed > 0 ? std::exp(-static_cast<double>(elapsed) / decay_ns_) : 1.0;
    const double old = std::bit_cast<double>(
        latency_[endpoint].ewma_bits.load(std::memory_order_relaxed));
    next = old * w + sample * (1.0 - w);
  }
  latency_[endpoint].ewma_bits.store(std::bit_cast<uint64_t>(next), std::memory_order_relaxed);
  latency_[endpoint].stamp_ns.store(now, std::memory_order_relaxed);
}

}  // namespace switchyard::proxy
