// Router table tests: host (exact, wildcard, port, case, IPv6, trailing dot), path (exact
// vs prefix, query string), listener filter, first match wins, no match.
#include "proxy/router/router.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "config/config.h"
#include "config/loader.h"

namespace switchyard::proxy {
namespace {

using config::ClusterTarget;
using config::DirectResponse;
using config::PathMatch;
using config::RouteConfig;

// A Config built field by field (the loader has its own tests; here the input is the
// validated snapshot, as the proxy gets it).
class ConfigBuilder {
 public:
  ConfigBuilder() {
    listener("public");
    listener("internal");
    cluster("api");
    cluster("web");
    cluster("static");
  }

  ConfigBuilder& listener(std::string name) {
    config::ListenerConfig l;
    l.name = std::move(name);
    config_.listeners.push_back(std::move(l));
    return *this;
  }
  ConfigBuilder& cluster(std::string name) {
    config::ClusterConfig c;
    c.name = std::move(name);
    c.endpoints.push_back({"127.0.0.1", 9000, config::HostKind::kIpv4});
    config_.clusters.push_back(std::move(c));
    return *this;
  }
  // One route to `cluster_name`. host/listener: "" = absent.
  ConfigBuilder& route(std::string name, std::string host, PathMatch match, std::string path,
                       std::string cluster_name, std::string listener = "") {
    RouteConfig r;
    r.name = std::move(name);
    if (!host.empty()) r.host = std::move(host);
    if (!listener.empty()) r.listener = std::move(listener);
    r.path_match = match;
    r.path = std::move(path);
    ClusterTarget target;
    target.cluster = cluster_name;
    for (size_t i = 0; i < config_.clusters.size(); ++i) {
      if (config_.clusters[i].name == cluster_name) target.cluster_index = i;
    }
    r.action = target;
    config_.routes.push_back(std::move(r));
    return *this;
  }
  ConfigBuilder& direct(std::string name, std::string host, PathMatch match, std::string path,
                        int status, std::string body, std::string listener = "") {
    RouteConfig r;
    r.name = std::move(name);
    if (!host.empty()) r.host = std::move(host);
    if (!listener.empty()) r.listener = std::move(listener);
    r.path_match = match;
    r.path = std::move(path);
    r.action = DirectResponse{status, std::move(body)};
    config_.routes.push_back(std::move(r));
    return *this;
  }

  std::unique_ptr<const Router> build() const { return Router::build(config_); }
  config::Config& config() { return config_; }

 private:
  config::Config config_;
};

// The name of the route that matches, or "<none>".
std::string matched(const Router& router, std::string_view listener, std::string_view host,
                    std::string_view path) {
  const RouteMatch* m = router.match(listener, host, path);
  return m == nullptr ? "<none>" : m->route_name;
}

TEST(RouterTest, ExactHostMatchesOnlyThatName) {
  auto router =
      ConfigBuilder().route("api", "api.example.com", PathMatch::kPrefix, "/", "api").build();
  ASSERT_NE(router, nullptr);
  EXPECT_EQ(matched(*router, "public", "api.example.com", "/"), "api");
  EXPECT_EQ(matched(*router, "public", "www.example.com", "/"), "<none>");
  EXPECT_EQ(matched(*router, "public", "example.com", "/"), "<none>");
  EXPECT_EQ(matched(*router, "public", "x.api.example.com", "/"), "<none>");
  EXPECT_EQ(matched(*router, "public", "api.example.co", "/"), "<none>");
  EXPECT_EQ(matched(*router, "public", "api.example.comm", "/"), "<none>");
  EXPECT_EQ(matched(*router, "public", "", "/"), "<none>");
}

TEST(RouterTest, WildcardMatchesSubdomainsButNotTheBareSuffix) {
  auto router =
      ConfigBuilder().route("wild", "*.example.com", PathMatch::kPrefix, "/", "web").build();
  EXPECT_EQ(matched(*router, "public", "a.example.com", "/"), "wild");
  EXPECT_EQ(matched(*router, "public", "a.b.example.com", "/"), "wild");
  EXPECT_EQ(matched(*router, "public", "A.EXAMPLE.COM:443", "/"), "wild");
  EXPECT_EQ(matched(*router, "public", "example.com", "/"), "<none>");
  EXPECT_EQ(matched(*router, "public", ".example.com", "/"), "<none>");
  EXPECT_EQ(matched(*router, "public", "aexample.com", "/"), "<none>");
  EXPECT_EQ(matched(*router, "public", "example.com.evil.net", "/"), "<none>");
  EXPECT_EQ(matched(*router, "public", "a.example.org", "/"), "<none>");
}

TEST(RouterTest, ExactBeforeWildcardFollowsFileOrder) {
  // File order decides, not specificity: the exact route listed after the wildcard is
  // shadowed for its own name.
  auto wildcard_first = ConfigBuilder()
                            .route("wild", "*.example.com", PathMatch::kPrefix, "/", "web")
                            .route("exact", "api.example.com", PathMatch::kPrefix, "/", "api")
                            .build();
  EXPECT_EQ(matched(*wildcard_first, "public", "api.example.com", "/"), "wild");

  auto exact_first = ConfigBuilder()
                         .route("exact", "api.example.com", PathMatch::kPrefix, "/", "api")
                         .route("wild", "*.example.com", PathMatch::kPrefix, "/", "web")
                         .build();
  EXPECT_EQ(matched(*exact_first, "public", "api.example.com", "/"), "exact");
  EXPECT_EQ(matched(*exact_first, "public", "www.example.com", "/"), "wild");
}

TEST(RouterTest, FirstMatchWinsInFileOrder) {
  auto router = ConfigBuilder()
                    .route("api-v2", "", PathMatch::kPrefix, "/api/v2/", "api")
                    .route("api", "", PathMatch::kPrefix, "/api/", "web")
                    .route("catch-all", "", PathMatch::kPrefix, "/", "static")
                    .route("never", "", PathMatch::kPrefix, "/api/v2/x", "api")
                    .build();
  EXPECT_EQ(matched(*router, "public", "h", "/api/v2/x"), "api-v2");
  EXPECT_EQ(matched(*router, "public", "h", "/api/v1/x"), "api");
  EXPECT_EQ(matched(*router, "public", "h", "/index.html"), "catch-all");
  EXPECT_EQ(router->match("public", "h", "/api/v2/x")->route_index, 0u);
  EXPECT_EQ(router->match("public", "h", "/index.html")->route_index, 2u);
}

TEST(RouterTest, ListenerFilter) {
  auto router = ConfigBuilder()
                    .route("admin-only", "", PathMatch::kPrefix, "/admin", "api", "internal")
                    .route("public-only", "", PathMatch::kPrefix, "/", "web", "public")
                    .route("any", "", PathMatch::kPrefix, "/", "static")
                    .build();
  EXPECT_EQ(matched(*router, "internal", "h", "/admin/x"), "admin-only");
  EXPECT_EQ(matched(*router, "public", "h", "/admin/x"), "public-only");
  EXPECT_EQ(matched(*router, "internal", "h", "/other"), "any");
  EXPECT_EQ(matched(*router, "public", "h", "/other"), "public-only");
  // A listener the snapshot does not know sees only listener-less routes.
  EXPECT_EQ(matched(*router, "gone", "h", "/admin/x"), "any");

  // The index overload agrees with the name overload.
  const size_t internal = router->listenerIndex("internal");
  ASSERT_EQ(internal, 1u);
  EXPECT_EQ(router->match(internal, "h", "/admin")->route_name, "admin-only");
  EXPECT_EQ(router->listenerIndex("gone"), Router::kUnknownListener);
  EXPECT_EQ(router->match(Router::kUnknownListener, "h", "/admin")->route_name, "any");
}

TEST(RouterTest, ListenerFilterWithoutCatchAllGivesNoMatch) {
  auto router =
      ConfigBuilder().route("internal", "", PathMatch::kPrefix, "/", "api", "internal").build();
  EXPECT_EQ(matched(*router, "internal", "h", "/"), "internal");
  EXPECT_EQ(matched(*router, "public", "h", "/"), "<none>");
}

TEST(RouterTest, PortIsStripped) {
  auto router =
      ConfigBuilder().route("api", "api.example.com", PathMatch::kPrefix, "/", "api").build();
  EXPECT_EQ(matched(*router, "public", "api.example.com:8080", "/"), "api");
  EXPECT_EQ(matched(*router, "public", "api.example.com:80", "/"), "api");
  EXPECT_EQ(matched(*router, "public", "api.example.com:", "/"), "api");
  EXPECT_EQ(matched(*router, "public", "api.example.com.:8080", "/"), "api");
}

TEST(RouterTest, HostIsCaseInsensitiveAndTrailingDotIgnored) {
  auto router = ConfigBuilder()
                    .route("api", "api.example.com", PathMatch::kPrefix, "/", "api")
                    .route("wild", "*.example.org", PathMatch::kPrefix, "/", "web")
                    .build();
  EXPECT_EQ(matched(*router, "public", "API.Example.COM", "/"), "api");
  EXPECT_EQ(matched(*router, "public", "api.example.com.", "/"), "api");
  EXPECT_EQ(matched(*router, "public", "Www.Example.Org.", "/"), "wild");
  // Only ASCII letters fold: bytes outside A-Z are compared as they are.
  EXPECT_EQ(matched(*router, "public", "api.example.co\xCD", "/"), "<none>");
}

TEST(RouterTest, PatternFromConfigIsFoldedToo) {
  // The loader lower-cases patterns; a hand-built snapshot may not. Build folds them.
  auto router = ConfigBuilder()
                    .route("api", "API.Example.com", PathMatch::kPrefix, "/", "api")
                    .route("wild", "*.EXAMPLE.ORG", PathMatch::kPrefix, "/", "web")
                    .build();
  EXPECT_EQ(matched(*router, "public", "api.example.com", "/"), "api");
  EXPECT_EQ(matched(*router, "public", "x.example.org", "/"), "wild");
}

TEST(RouterTest, Ipv6LiteralHosts) {
  auto router = ConfigBuilder()
                    .route("named", "localhost", PathMatch::kPrefix, "/", "api")
                    .route("any", "", PathMatch::kPrefix, "/", "web")
                    .build();
  EXPECT_EQ(matched(*router, "public", "[::1]:8080", "/"), "any");
  EXPECT_EQ(matched(*router, "public", "[::1]", "/"), "any");
  EXPECT_EQ(matched(*router, "public", "[2001:db8::1]:443", "/x"), "any");
  EXPECT_EQ(matched(*router, "public", "[::1", "/"), "any");  // malformed, still routed
  EXPECT_EQ(matched(*router, "public", "localhost:8080", "/"), "named");

  EXPECT_EQ(Router::normalizeHost("[::1]:8080"), "::1");
  EXPECT_EQ(Router::normalizeHost("[::1]"), "::1");
  EXPECT_EQ(Router::normalizeHost("[2001:db8::1]:443"), "2001:db8::1");
  EXPECT_EQ(Router::normalizeHost("::1"), "::1");  // unbracketed: not a host:port
  EXPECT_EQ(Router::normalizeHost("[::1"), "[::1");
  EXPECT_EQ(Router::normalizeHost("Example.COM.:80"), "Example.COM");
  EXPECT_EQ(Router::normalizeHost("10.0.0.1:80"), "10.0.0.1");
  EXPECT_EQ(Router::normalizeHost(""), "");
  EXPECT_EQ(Router::normalizeHost("."), "");
}

TEST(RouterTest, Ipv4LiteralHost) {
  auto router = ConfigBuilder().route("ip", "10.0.0.1", PathMatch::kPrefix, "/", "api").build();
  EXPECT_EQ(matched(*router, "public", "10.0.0.1:8080", "/"), "ip");
  EXPECT_EQ(matched(*router, "public", "10.0.0.10", "/"), "<none>");
}

TEST(RouterTest, PathExactVersusPrefix) {
  auto router = ConfigBuilder()
                    .direct("health", "", PathMatch::kExact, "/healthz", 200, "ok\n")
                    .route("api", "", PathMatch::kPrefix, "/api", "api")
                    .build();
  EXPECT_EQ(matched(*router, "public", "h", "/healthz"), "health");
  EXPECT_EQ(matched(*router, "public", "h", "/healthz/"), "<none>");
  EXPECT_EQ(matched(*router, "public", "h", "/healthzz"), "<none>");
  EXPECT_EQ(matched(*router, "public", "h", "/Healthz"), "<none>");  // paths are case-sensitive
  EXPECT_EQ(matched(*router, "public", "h", "/health"), "<none>");
  // Envoy prefix semantics: a plain string prefix, not a path-segment prefix.
  EXPECT_EQ(matched(*router, "public", "h", "/api"), "api");
  EXPECT_EQ(matched(*router, "public", "h", "/api/x"), "api");
  EXPECT_EQ(matched(*router, "public", "h", "/apix"), "api");
  EXPECT_EQ(matched(*router, "public", "h", "/ap"), "<none>");
  EXPECT_EQ(matched(*router, "public", "h", "/API"), "<none>");
  EXPECT_EQ(matched(*router, "public", "h", ""), "<none>");
  EXPECT_EQ(matched(*router, "public", "h", "*"), "<none>");
}

TEST(RouterTest, QueryStringIsNotPartOfTheMatch) {
  auto router = ConfigBuilder()
                    .direct("health", "", PathMatch::kExact, "/healthz", 200, "ok\n")
                    .route("api", "", PathMatch::kPrefix, "/api/", "api")
                    .build();
  EXPECT_EQ(matched(*router, "public", "h", "/healthz?verbose=1"), "health");
  EXPECT_EQ(matched(*router, "public", "h", "/healthz#frag"), "health");
  EXPECT_EQ(matched(*router, "public", "h", "/api?x=/api/"), "<none>");
  EXPECT_EQ(matched(*router, "public", "h", "/api/?x"), "api");
}

TEST(RouterTest, HostAndPathMustBothHold) {
  auto router = ConfigBuilder()
                    .route("api", "api.example.com", PathMatch::kPrefix, "/v1/", "api")
                    .route("web", "www.example.com", PathMatch::kPrefix, "/", "web")
                    .build();
  EXPECT_EQ(matched(*router, "public", "api.example.com", "/v1/users"), "api");
  EXPECT_EQ(matched(*router, "public", "api.example.com", "/v2/users"), "<none>");
  EXPECT_EQ(matched(*router, "public", "www.example.com", "/v1/users"), "web");
}

TEST(RouterTest, NoRoutesNoMatch) {
  auto router = ConfigBuilder().build();
  ASSERT_NE(router, nullptr);
  EXPECT_EQ(router->routeCount(), 0u);
  EXPECT_EQ(router->match("public", "h", "/"), nullptr);
}

TEST(RouterTest, MatchCarriesClusterOrDirectResponse) {
  auto router = ConfigBuilder()
                    .direct("teapot", "", PathMatch::kExact, "/tea", 418, "short and stout\n")
                    .route("to-static", "", PathMatch::kPrefix, "/", "static")
                    .build();
  const RouteMatch* direct = router->match("public", "h", "/tea");
  ASSERT_NE(direct, nullptr);
  EXPECT_TRUE(direct->isDirectResponse());
  EXPECT_EQ(direct->route_index, 0u);
  EXPECT_EQ(direct->status, 418);
  EXPECT_EQ(direct->body, "short and stout\n");

  const RouteMatch* forward = router->match("public", "h", "/x");
  ASSERT_NE(forward, nullptr);
  EXPECT_FALSE(forward->isDirectResponse());
  EXPECT_EQ(forward->route_index, 1u);
  EXPECT_EQ(forward->route_name, "to-static");
  EXPECT_EQ(forward->cluster_index, 2u);
  EXPECT_EQ(forward->cluster_name, "static");
  EXPECT_EQ(&router->route(1), forward);
}

TEST(RouterTest, RouterOutlivesItsConfig) {
  std::unique_ptr<const Router> router;
  {
    ConfigBuilder builder;
    builder.route("api", "*.example.com", PathMatch::kPrefix, "/api/", "api");
    router = builder.build();
  }
  const RouteMatch* m = router->match("public", "x.example.com", "/api/1");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->cluster_name, "api");
}

TEST(RouterTest, InconsistentClusterReferenceIsRefused) {
  ConfigBuilder builder;
  builder.route("bad", "", PathMatch::kPrefix, "/", "api");
  auto& target = std::get<ClusterTarget>(builder.config().routes[0].action);
  target.cluster = "missing";
  target.cluster_index = 99;
  EXPECT_EQ(builder.build(), nullptr);

  // An index that disagrees with the name is resolved by the name.
  target.cluster = "web";
  target.cluster_index = 0;
  auto router = builder.build();
  ASSERT_NE(router, nullptr);
  EXPECT_EQ(router->match("public", "h", "/")->cluster_index, 1u);
}

TEST(RouterTest, BuiltFromALoadedConfig) {
  const char* text = R"(
[[listener]]
name = "public"
address = "127.0.0.1:0"

[[listener]]
name = "ops"
address = "127.0.0.1:0"

[[cluster]]
name = "api"
endpoints = ["127.0.0.1:9001", "127.0.0.1:9002"]

[[cluster]]
name = "web"
endpoints = ["127.0.0.1:9101"]

[[route]]
name = "health"
listener = "ops"
path_exact = "/healthz"
direct_response = { status = 200, body = "ok\n" }

[[route]]
name = "api"
host = "API.example.com"
path_prefix = "/v1/"
cluster = "api"

[[route]]
host = "*.example.com"
cluster = "web"
)";
  config::LoadOptions options;
  options.allowed_cpus = std::vector<int>{0};
  const config::LoadResult loaded = config::loadConfigString(text, "router_test.toml", options);
  ASSERT_TRUE(loaded.ok()) << loaded.errorReport();
  auto router = Router::build(*loaded.config());
  ASSERT_NE(router, nullptr);
  EXPECT_EQ(matched(*router, "ops", "whatever", "/healthz"), "health");
  EXPECT_EQ(matched(*router, "public", "whatever", "/healthz"), "<none>");
  EXPECT_EQ(matched(*router, "public", "api.EXAMPLE.com:443", "/v1/users?id=3"), "api");
  EXPECT_EQ(router->match("public", "api.example.com", "/v1/")->cluster_index, 0u);
  EXPECT_EQ(matched(*router, "public", "api.example.com", "/v2/"), "route[2]");
  EXPECT_EQ(router->match("ops", "www.example.com", "/")->cluster_name, "web");
  EXPECT_EQ(matched(*router, "public", "example.com", "/"), "<none>");
}

}  // namespace
}  // namespace switchyard::proxy
