// EndpointAddresses: where each endpoint of a cluster is, kept fresh for endpoints given
// by host name.
//
// Why: an endpoint such as "api.default.svc.cluster.local:80" (a Kubernetes headless
// service) or any name whose A/AAAA records change must be followed without a reload.
// Resolving on every connect would put getaddrinfo (a blocking call, seconds in the worst
// case) on the request path; resolving once at load would never follow a change. So one
// refresher Task per name endpoint (not per worker) resolves it every
// `dns_refresh` (rt::blocking(getaddrinfo) inside rt::net::resolve) and publishes the
// address list; connects read the latest list.
//
// Connect: IP-literal endpoints connect directly. A name endpoint tries its addresses in
// turn from a rotating start (so connections spread over all the records of a headless
// service rather than all going to the first), until one connects or the deadline passes.
// Before the first successful resolution (or when every resolution so far failed), it
// resolves on the spot. A resolution that fails keeps the last good list: a flaky DNS
// server must not take a healthy cluster down. A record that disappears stops getting new
// connections at once; pooled connections to it are not closed (they fail or idle out).
//
// Threads: the list is an immutable vector behind a shared_ptr, swapped under a small
// std::mutex; a connect copies the pointer (one atomic increment) and never holds the lock
// across I/O. Lifetime: one per cluster per snapshot; a reload builds the next one,
// inherit()s the lists of names it still has, start()s it and stop()s the previous one.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include "config/config.h"
#include "runtime/net/net.h"
#include "runtime/sync/sync.h"

namespace switchyard::proxy::dns {

// "host:port" -> addresses. The default is rt::net::resolve; tests substitute their own.
using Resolver =
    std::function<std::error_code(const std::string& host_port, std::vector<rt::net::Address>&)>;

class EndpointAddresses : public std::enable_shared_from_this<EndpointAddresses> {
 public:
  EndpointAddresses(const std::vector<config::HostPort>& endpoints,
                    std::chrono::nanoseconds refresh, Resolver resolver = {});
  ~EndpointAddresses();
  EndpointAddresses(const EndpointAddresses&) = delete;
  EndpointAddresses& operator=(const EndpointAddresses&) = delete;

  // Before start(): takes the last resolved lists of names `previous` also has.
  void inherit(const EndpointAddresses& previous);
  // From a Task: one refresher Task per name endpoint. Once. `tasks`, if given, counts
  // them (see ClusterHealth::start).
  void start(rt::WaitGroup* tasks = nullptr);
  // From a Task: wakes and ends the refresher Tasks. Idempotent; does not wait.
  void stop();

  // Connects to endpoint i as described above. From a Task.
  rt::net::TcpConn connect(size_t i, rt::net::Deadline deadline, std::error_code& ec);

  // The current list of endpoint i (empty for an IP literal or before any resolution).
  std::vector<rt::net::Address> addresses(size_t i) const;
  // Successful resolutions so far, all endpoints (for tests and logs).
  uint64_t resolutions() const { return resolutions_.load(std::memory_order_relaxed); }

  // The resolver every new EndpointAddresses uses when given none (tests only: set it
  // before the server starts, reset it to {} after).
  static void setDefaultResolverForTesting(Resolver resolver);

 private:
  struct Entry {
    std::string host_port;  // as configured
    bool is_name = false;
    mutable std::mutex mu;
    std::shared_ptr<const std::vector<rt::net::Address>> list;  // guarded by mu
    std::atomic<uint32_t> next{0};  // rotating start for connects
  };

  // Resolves entry i now; publishes the result if it is non-empty. Returns the error.
  std::error_code refresh(size_t i);
  void refreshLoop(size_t i);
  std::shared_ptr<const std::vector<rt::net::Address>> current(size_t i) const;

  std::vector<std::unique_ptr<Entry>> entries_;
  const std::chrono::nanoseconds refresh_;
  Resolver resolver_;
  std::atomic<uint64_t> resolutions_{0};
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
  rt::Mutex stop_mu_;
  rt::CondVar stop_cv_;
};

}  // namespace switchyard::proxy::dns
