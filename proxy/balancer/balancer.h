// Balancer: picks one endpoint of a cluster for each request.
//
// Design
// ------
// A request reaches the balancer on some worker (P) after the router chose a cluster. The
// pick runs on every request, on every P at once, so the rule is the one of the runtime:
// per-P state, no locks, and no write to memory another P writes, except where the
// algorithm needs shared knowledge.
//
//   round_robin      a cursor per P (internal/per_worker.h); Ps start at different
//                    offsets so that they do not all hit endpoint 0 together. Even per P,
//                    hence even overall. No shared write.
//   random           a xorshift64* state per P. No shared write.
//   least_request    power of two choices (Mitzenmacher): two distinct random endpoints,
//                    the one with fewer active requests wins. Active counts are the one
//                    shared write per request, by nature (they count requests of every
//                    P); see least_request.h.
//   consistent_hash  a hash ring with virtual nodes, built once per snapshot and
//                    read-only afterwards; see consistent_hash.h for ring vs Maglev.
//   peak_ewma        power of two choices over a decaying, peak-sensitive latency
//                    average times requests in flight (peak_ewma.h); learns from
//                    observeLatency(), one shared write per response.
// Weights (EndpointSet::weight) are read by every kind; with equal weights (the common
// case) none of them does any extra work.
//
// Health and retries (the same for every kind):
//   1. Candidates are the healthy endpoints other than PickContext::exclude.
//   2. If the excluded endpoint is the only healthy one, it is returned: a retry on an
//      endpoint that failed once beats sending to one the health checker marked dead.
//   3. If no endpoint is healthy, health is ignored ("panic mode", as Envoy's panic
//      threshold at 100%): every endpoint other than the excluded one is a candidate.
//      The proxy itself answers 503 without picking when a cluster has no healthy
//      endpoint (connection.cc), so this rule only covers a health change racing a pick
//      and direct users of the balancers. A one-endpoint cluster always gets that endpoint.
// Each kind then applies its own rule to the candidates: round robin takes the next
// candidate after its cursor, random and least_request draw among candidates uniformly,
// consistent hash walks the ring clockwise from the key's point to the first candidate
// (so keys of a dead endpoint spread over the others and every other key stays put).
// When every endpoint is healthy and nothing is excluded (the common case) no endpoint
// flag is read beyond the healthy count; otherwise random/least_request scan the flags
// (O(endpoints)), which only happens while the cluster is degraded.
//
// Preconditions of pick(): the caller runs on P `ctx.worker` for the whole call (a pick
// never parks, so the Task cannot move meanwhile) and ctx.worker is in
// [0, internal::kMaxWorkers). The EndpointSet has at least one endpoint (config requires
// one; makeBalancer() refuses an empty set).
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <utility>

#include "config/config.h"
#include "proxy/balancer/endpoint_set.h"

namespace switchyard::proxy {

struct PickContext {
  // The current P's id, rt::current_worker(), in [0, 256): selects the per-worker
  // cursor or PRNG. Taken right before pick() (a Task may resume on another P after any
  // call that parks). An id out of range (-1 outside tasks) is wrapped into range: safe,
  // but it then shares a slot with a real P.
  int worker = 0;
  // consistent_hash only: the bytes to hash (a header value or the client IP, as the
  // cluster's hash_key says; Balancer::hashKey() tells which). Empty: no key (the header
  // is absent), and the pick is random.
  std::string_view hash_key;
  // A retry: the endpoint that just failed, avoided if another is usable. kNoEndpoint
  // (or any index out of range) excludes nothing.
  size_t exclude = kNoEndpoint;
};

class Balancer {
 public:
  virtual ~Balancer() = default;
  Balancer(const Balancer&) = delete;
  Balancer& operator=(const Balancer&) = delete;

  // An index into endpoints(). Never allocates, never blocks.
  virtual size_t pick(const PickContext& ctx) = 0;

  // Around every request sent to endpoint `endpoint` (after pick(), and at the end of
  // the exchange, success or not; exactly once each). Only least_request counts; the
  // others do nothing, so that they keep no shared write on the hot path.
  virtual void onRequestStart(size_t endpoint) { (void)endpoint; }
  virtual void onRequestEnd(size_t endpoint) { (void)endpoint; }
  // A response head arrived from `endpoint`, `latency_ns` after the request was sent.
  // Only peak_ewma learns from it.
  virtual void observeLatency(size_t endpoint, int64_t latency_ns) {
    (void)endpoint;
    (void)latency_ns;
  }

  virtual config::BalancerKind kind() const = 0;
  // What consistent_hash hashes; nullptr for the other kinds (the proxy then skips
  // extracting a key at all).
  virtual const config::HashKey* hashKey() const { return nullptr; }

  EndpointSet& endpoints() const { return *endpoints_; }
  const std::shared_ptr<EndpointSet>& sharedEndpoints() const { return endpoints_; }

 protected:
  explicit Balancer(std::shared_ptr<EndpointSet> endpoints) : endpoints_(std::move(endpoints)) {}

  // Which endpoints a pick may return, decided once per pick from the rules above.
  struct Candidates {
    // Set when the rules leave no choice (rule 2, or a one-endpoint cluster); the pick
    // returns it as is.
    size_t forced = kNoEndpoint;
    // Otherwise endpoint i is a candidate iff accepts(i).
    bool all = false;              // every endpoint, no flag to read (the common case)
    bool require_healthy = false;  // candidates must be healthy
    size_t exclude = kNoEndpoint;  // never this one
    // How many endpoints pass, from healthyCount() (a snapshot: a racing health change
    // may make it off by one for a moment; the picks tolerate that).
    size_t count = 0;

    bool accepts(const EndpointSet& set, size_t i) const {
      if (all) return true;
      if (i == exclude) return false;
      return !require_healthy || set.healthy(i);
    }
  };
  Candidates candidates(const PickContext& ctx) const;

  // The k-th candidate (0-based) in index order; when a racing health change left fewer
  // than k + 1 candidates, k modulo the endpoint count instead. O(1) when c.all.
  size_t nthCandidate(const Candidates& c, size_t k) const;

  std::shared_ptr<EndpointSet> endpoints_;
};

}  // namespace switchyard::proxy
