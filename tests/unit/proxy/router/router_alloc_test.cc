// match() must not allocate: 10k matches over a realistic table, counted by a replaced
// operator new (alloc_counter).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "proxy/router/router.h"
#include "tests/unit/proxy/router/alloc_counter.h"

namespace switchyard::proxy {
namespace {

// Keeps the compiler from eliding an allocation whose result is unused.
void escape(void* p) { asm volatile("" : : "g"(p) : "memory"); }

config::Config realisticConfig() {
  config::Config config;
  for (const char* name : {"public", "internal"}) {
    config::ListenerConfig listener;
    listener.name = name;
    config.listeners.push_back(listener);
  }
  for (const char* name : {"api", "web", "static"}) {
    config::ClusterConfig cluster;
    cluster.name = name;
    cluster.endpoints.push_back({"127.0.0.1", 9000, config::HostKind::kIpv4});
    config.clusters.push_back(cluster);
  }
  auto add = [&](std::string host, config::PathMatch match, std::string path, size_t cluster,
                 std::string listener) {
    config::RouteConfig route;
    route.name = "route[" + std::to_string(config.routes.size()) + "]";
    if (!host.empty()) route.host = host;
    if (!listener.empty()) route.listener = listener;
    route.path_match = match;
    route.path = path;
    route.action = config::ClusterTarget{config.clusters[cluster].name, cluster};
    config.routes.push_back(route);
  };
  for (int i = 0; i < 20; ++i) {
    add("svc" + std::to_string(i) + ".example.com", config::PathMatch::kPrefix, "/", i % 3, "");
  }
  add("", config::PathMatch::kExact, "/healthz", 0, "internal");
  add("*.example.org", config::PathMatch::kPrefix, "/api/", 0, "public");
  add("*.example.org", config::PathMatch::kPrefix, "/", 1, "");
  add("api.example.net", config::PathMatch::kExact, "/v1/login", 0, "");
  config::RouteConfig direct;
  direct.name = "fallback";
  direct.path = "/static/";
  direct.action = config::DirectResponse{404, "not here\n"};
  config.routes.push_back(direct);
  return config;
}

TEST(RouterAllocTest, CounterSeesAllocations) {
  switchyard::testing::AllocationScope scope;
  auto p = std::make_unique<std::string>(100, 'x');
  escape(p.get());
  EXPECT_GE(scope.allocations(), 1u);
}

TEST(RouterAllocTest, MatchDoesNotAllocate) {
  const config::Config config = realisticConfig();
  const std::unique_ptr<const Router> router = Router::build(config);
  ASSERT_NE(router, nullptr);

  struct Request {
    std::string_view listener;
    std::string_view host;
    std::string_view path;
  };
  // Long hosts and paths on purpose: nothing may be copied into a std::string (SSO
  // would hide short copies).
  const std::vector<Request> requests = {
      {"public", "SVC19.EXAMPLE.COM:8443",
       "/some/long/path/that/defeats/small/string/optimisation?q=1"},
      {"public", "svc3.example.com", "/"},
      {"internal", "anything.at.all.example.invalid:1", "/healthz"},
      {"public", "Deep.Nested.Sub.Domain.Example.Org.", "/api/v1/users/123456789?expand=all"},
      {"internal", "www.example.org", "/index.html"},
      {"public", "[2001:db8:85a3::8a2e:370:7334]:443", "/static/app.js"},
      {"public", "api.example.net", "/v1/login?next=/dashboard"},
      {"public", "nomatch.example.com", "/nothing/here/at/all/with/a/long/path"},
      {"unknown-listener", "svc1.example.com", "/"},
  };

  size_t matched = 0;
  size_t allocations = 0;
  {
    switchyard::testing::AllocationScope scope;
    for (int i = 0; i < 10000; ++i) {
      const Request& r = requests[static_cast<size_t>(i) % requests.size()];
      const RouteMatch* m = router->match(r.listener, r.host, r.path);
      if (m != nullptr) ++matched;
      escape(const_cast<RouteMatch*>(m));
    }
    allocations = scope.allocations();
  }
  EXPECT_EQ(allocations, 0u);
  EXPECT_GT(matched, 0u);
  EXPECT_LT(matched, 10000u);  // the miss is in the mix too
}

}  // namespace
}  // namespace switchyard::proxy
