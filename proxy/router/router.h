// Router: which [[route]] answers a request, decided without allocating.
//
// A Router is compiled once from one Config snapshot and is immutable afterwards, so every
// worker (P) reads it at the same time without locks or atomics; a reload builds a new
// Router next to the new snapshot, and a request keeps the Router it started with.
//
// Matching rules (docs/CONFIG.md, [[route]]):
//
//   1. Routes are tried in file order; the first route whose listener, host and path
//      conditions all hold wins. No match: match() returns nullptr and the proxy answers
//      404.
//   2. Listener: a route with `listener` applies only to requests accepted by that
//      listener; a route without it applies to every listener. At build time each
//      listener gets its own candidate list (the indices of the routes that may apply to
//      it, in file order), so the per-request scan never looks at a foreign route.
//      A listener name the snapshot does not know (a bug in the caller, or a listener of
//      an older snapshot) sees only the routes that have no `listener`.
//   3. Host: the request's Host (HTTP/1.1 Host header or the :authority) is normalised
//      without copying: the port is dropped ("example.com:8080" -> "example.com"),
//      brackets are removed from an IPv6 literal ("[::1]:8080" -> "::1"), and one trailing
//      dot is dropped ("example.com." -> "example.com", the fully qualified spelling).
//      Comparison is ASCII case-insensitive: patterns are lower-cased at build time and
//      each request byte is folded while comparing, so no lower-cased copy is made.
//        - "api.example.com" matches that name only.
//        - "*.example.com" matches any name that ends in ".example.com" and has at least
//          one character before that suffix: "a.example.com" and "a.b.example.com", but
//          not the bare "example.com" (as in Envoy and TLS wildcard certificates; write a
//          second route for the bare name).
//        - No `host`: any host, including an absent or empty one (HTTP/1.0).
//      Host patterns cannot contain ':' (config validation), so an IPv6 literal host only
//      ever matches routes without `host`.
//   4. Path: compared byte for byte and case-sensitively against the request path with
//      the query string ("?...") and any fragment ("#...") cut off; no percent-decoding
//      and no dot-segment removal happen here (the codec decides what the path is).
//        - path_exact "/healthz" matches "/healthz" only (not "/healthz/").
//        - path_prefix is a plain string prefix, as Envoy's `prefix`: "/api" matches
//          "/api", "/api/x" and also "/apix". Write "/api/" to stop at a segment
//          boundary (then "/api" itself needs its own path_exact route).
//      The path is expected in origin form ("/a/b?q"); "*" (OPTIONS *) or an
//      absolute-form target only matches routes whose prefix matches those bytes, which
//      no prefix starting with '/' does.
//
// Cost per request: one linear scan of the listener's candidates, each a few length
// checks and at most two memcmp-like loops; no allocation, no hashing, no locks
// (tests/unit/proxy/router/router_alloc_test.cc counts allocations). Configs have tens
// of routes, where a scan in file order beats any index that would have to preserve
// first-match-wins across exact, wildcard and catch-all hosts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace switchyard::proxy {

// What the router found: one per route, built with the Router and owned by it (match()
// returns a pointer into the Router, valid as long as the Router lives).
struct RouteMatch {
  enum class Action : uint8_t {
    kCluster,         // forward to Config::clusters[cluster_index]
    kDirectResponse,  // answer with status and body, no upstream
  };

  size_t route_index = 0;  // position in Config::routes (file order)
  std::string route_name;  // Config::routes[route_index].name: metrics label, access log
  Action action = Action::kCluster;

  // kCluster only.
  size_t cluster_index = 0;
  std::string cluster_name;

  // kDirectResponse only.
  int status = 0;
  std::string body;

  bool isDirectResponse() const { return action == Action::kDirectResponse; }
};

class Router {
 public:
  // Returned by listenerIndex() for a name the snapshot does not have.
  static constexpr size_t kUnknownListener = SIZE_MAX;

  // Compiles the routing table of `config`. The Config may be destroyed afterwards: the
  // Router keeps copies of what it needs. Returns nullptr only for a snapshot that
  // validation would have refused (a route whose cluster index and name do not name a
  // cluster of the snapshot).
  static std::unique_ptr<const Router> build(const config::Config& config);

  // The first route in file order that matches, or nullptr. `host` is the raw Host
  // value (port, brackets, trailing dot and any case allowed); `path` is the request
  // target in origin form, with or without its query string. Never allocates.
  const RouteMatch* match(std::string_view listener_name, std::string_view host,
                          std::string_view path) const;

  // As above with the listener already resolved by listenerIndex(), which saves the
  // name comparison when a listener resolves its index once, at start-up or reload.
  const RouteMatch* match(size_t listener_index, std::string_view host,
                          std::string_view path) const;

  // Config::listeners index of `name`, or kUnknownListener. A linear scan (there are few
  // listeners); allocation-free.
  size_t listenerIndex(std::string_view name) const;

  size_t routeCount() const { return routes_.size(); }
  const RouteMatch& route(size_t route_index) const { return routes_[route_index].result; }

  // Host normalisation used by match(), exposed for the proxy's logs and tests: drops the
  // port, IPv6 brackets and one trailing dot. Does not change case. Returns a view into
  // `host`.
  static std::string_view normalizeHost(std::string_view host);

 private:
  enum class HostMatch : uint8_t { kAny, kExact, kSuffix };

  struct CompiledRoute {
    HostMatch host_match = HostMatch::kAny;
    // kExact: the lower-cased name; kSuffix: the lower-cased suffix with its dot
    // (".example.com" for "*.example.com").
    std::string host;
    config::PathMatch path_match = config::PathMatch::kPrefix;
    std::string path;
    RouteMatch result;

    bool matches(std::string_view normalized_host, std::string_view path) const;
  };

  // A listener's candidates: candidates_[begin, end).
  struct Range {
    uint32_t begin = 0;
    uint32_t end = 0;
  };

  Router() = default;
  const RouteMatch* scan(Range range, std::string_view host, std::string_view path) const;

  std::vector<CompiledRoute> routes_;        // Config::routes order
  std::vector<std::string> listener_names_;  // Config::listeners order
  // One Range per listener, in Config::listeners order, then one more for unknown
  // listeners (routes without `listener` only).
  std::vector<Range> listener_ranges_;
  std::vector<uint32_t> candidates_;  // route indices, every range in file order
};

}  // namespace switchyard::proxy
