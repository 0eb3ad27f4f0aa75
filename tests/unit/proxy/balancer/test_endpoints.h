// Helpers shared by the balancer tests.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "proxy/balancer/endpoint_set.h"

namespace switchyard::proxy::testing {

inline constexpr uint64_t kSeed = 0x5eed5eed12345678ULL;

// "10.0.0.<first>:80", "10.0.0.<first+1>:80", ...
inline std::vector<config::HostPort> hostPorts(size_t n, size_t first = 1) {
  std::vector<config::HostPort> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back({"10.0.0." + std::to_string(first + i), 80, config::HostKind::kIpv4});
  }
  return out;
}

inline std::shared_ptr<EndpointSet> endpointSet(size_t n) {
  return std::make_shared<EndpointSet>(hostPorts(n));
}

}  // namespace switchyard::proxy::testing
