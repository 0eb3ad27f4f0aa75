// AdminServer: the operator's HTTP endpoints, served on our own runtime
// (no civetweb threads): one accept Task, one Task per admin connection.
//
//   GET /metrics      Prometheus text format (docs/METRICS.md)
//   GET /healthz      200 while the process runs
//   GET /readyz       200 when listeners are bound, not draining, and every
//                     cluster has a healthy endpoint; else 503 and why
//   GET /debug/sched  the scheduler in Go's scheddetail format
//   GET /config       the running config file, key paths redacted
// Other paths 404; methods other than GET/HEAD 405. Loopback by default:
// the endpoints are not authenticated.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>
#include <system_error>

#include "config/reload.h"
#include "proxy/server/server.h"
#include "runtime/net/net.h"
#include "runtime/sync/sync.h"

namespace switchyard::admin {

class AdminServer {
 public:
  // `metrics` renders the /metrics body (set by whoever owns the registry).
  AdminServer(server::Server& proxy, config::ConfigStore& store,
              std::function<std::string()> metrics = {});
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds `address`, or adopts `inherited_fd` (a listening socket passed by
  // systemd or a binary upgrade; ours from here on) when it is >= 0.
  std::error_code start(const std::string& address, std::string& error_text,
                        int inherited_fd = -1);
  void stop();
  rt::net::Address address() const { return bound_; }
  int fd() const { return socket_.fd(); }  // for a binary upgrade to pass on

  // The /config body: the file with every `key = ...` value (private key
  // paths) replaced, so the endpoint never tells where secrets live.
  static std::string redactConfig(const std::string& text);

 private:
  void acceptLoop();
  void serve(rt::net::TcpConn conn);

  server::Server& proxy_;
  config::ConfigStore& store_;
  std::function<std::string()> metrics_;
  rt::net::TcpListener socket_;
  rt::net::Address bound_;
  std::atomic<bool> stopping_{false};
  rt::WaitGroup tasks_;
  // Open admin connections, interrupted by stop(): a scraper's idle
  // keep-alive must not hold the process past its drain.
  std::mutex conns_mu_;
  std::vector<rt::net::TcpConn*> conns_;  // guarded by conns_mu_
};

}  // namespace switchyard::admin
