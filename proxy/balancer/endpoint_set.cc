#include "proxy/balancer/endpoint_set.h"

#include <utility>

namespace switchyard::proxy {

EndpointSet::EndpointSet(std::vector<config::HostPort> endpoints, std::vector<uint32_t> weights)
    : endpoints_(std::move(endpoints)),
      weights_(std::move(weights)),
      healthy_(new std::atomic<bool>[endpoints_.size()]),
      active_(new PaddedCounter[endpoints_.size()]) {
  // A missing or mismatched list (a caller bug; config checks the length) means equal
  // weights; a 0 would never be picked by the weighted kinds, so it counts as 1.
  if (weights_.size() != endpoints_.size()) weights_.assign(endpoints_.size(), 1);
  for (uint32_t& w : weights_) {
    if (w == 0) w = 1;
    if (w != weights_[0]) weighted_ = true;
  }
  names_.reserve(endpoints_.size());
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    names_.push_back(endpoints_[i].toString());
    healthy_[i].store(true, std::memory_order_relaxed);
  }
  healthy_count_.value.store(endpoints_.size(), std::memory_order_relaxed);
}

size_t EndpointSet::find(const std::string& name) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return i;
  }
  return kNoEndpoint;
}

bool EndpointSet::setHealthy(size_t i, bool healthy) {
  // exchange: of two racing writers of the same value, exactly one sees a change, so the
  // count moves once.
  const bool was = healthy_[i].exchange(healthy, std::memory_order_relaxed);
  if (was != healthy) {
    if (healthy) {
      healthy_count_.value.fetch_add(1, std::memory_order_relaxed);
    } else {
      healthy_count_.value.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  return was;
}

void EndpointSet::inheritHealth(const EndpointSet& previous) {
  for (size_t i = 0; i < size(); ++i) {
    const size_t before = previous.find(names_[i]);
    if (before != kNoEndpoint) setHealthy(i, previous.healthy(before));
  }
}

}  // namespace switchyard::proxy
