#include "tests/unit/proxy/metrics/test_configs.h"

namespace switchyard::testing {

config::Config twoListenerConfig() {
  config::Config config;
  config.hash = "00000000deadbeef";
  for (const char* name : {"public", "internal"}) {
    config::ListenerConfig listener;
    listener.name = name;
    listener.address = {"127.0.0.1", 0, config::HostKind::kIpv4};
    config.listeners.push_back(listener);
  }
  config::ClusterConfig api;
  api.name = "api";
  api.endpoints = {{"10.0.0.1", 8080, config::HostKind::kIpv4},
                   {"::1", 8081, config::HostKind::kIpv6}};
  config::ClusterConfig web;
  web.name = "web";
  web.endpoints = {{"web.internal", 80, config::HostKind::kName}};
  config.clusters = {api, web};

  config::RouteConfig to_api;
  to_api.name = "api";
  to_api.path = "/api/";
  to_api.action = config::ClusterTarget{"api", 0};
  config::RouteConfig to_web;
  to_web.name = "web";
  to_web.listener = "public";
  to_web.action = config::ClusterTarget{"web", 1};
  config::RouteConfig admin;
  admin.name = "admin";
  admin.listener = "internal";
  admin.action = config::DirectResponse{204, ""};
  config.routes = {to_api, to_web, admin};
  return config;
}

}  // namespace switchyard::testing
