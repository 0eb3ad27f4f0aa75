// Server: the proxy's data plane for one process.
//
// Owns the listeners (bound by address; a reload opens and closes them by
// diff, so unchanged addresses keep their sockets and refuse nobody), the
// current ProxyState (routes, clusters, pools) and the registry of client
// connections used for draining. Runs inside the runtime: start(), apply()
// and drain() are called from Tasks.
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
#include "proxy/log/access_log.h"
#include "proxy/metrics/proxy_stats.h"
#include "proxy/server/buffer_pool.h"
#include "proxy/server/connection_registry.h"
#include "proxy/server/proxy_state.h"
#include "runtime/net/net.h"
#include "runtime/sync/sync.h"

namespace switchyard::server {

class ClientConnection;

// A bound listener: its socket and accept Task. Connections keep it alive.
// Its settings come from each ProxyState snapshot (listener_slots), never
// from here, so a reload can change them without touching this object.
struct ListenerHandle {
  std::string address_key;  // HostPort::toString(): what was bound
  // The identity across reloads: the address, and for port 0 also the name
  // (two listeners may both ask for "127.0.0.1:0"; see listenerIdentity()).
  std::string identity;
  rt::net::TcpListener socket;
  rt::net::Address bound;        // the real address (port 0 resolved)
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> active{0};  // open client connections
  std::atomic<uint64_t> max_connections{0};
  rt::WaitGroup accept_done;
};

class Server {
 public:
  explicit Server(std::shared_ptr<const config::Config> initial);
  ~Server();

  // Who observes requests, set before start(): `publish_stats` returns the
  // counters for a config snapshot (called at start and on every reload);
  // `access_log` gets one line per request. Both optional.
  using StatsPublisher =
      std::function<std::shared_ptr<proxy::metrics::ProxyStats>(const config::Config&)>;
  void setObservers(StatsPublisher publish_stats, log::AccessLog* access_log) {
    publish_stats_ = std::move(publish_stats);
    access_log_ = access_log;
  }
  log::AccessLog* accessLog() const { return access_log_; }

  // Where a listener's socket comes from before bind() is tried: an
  // inherited socket (systemd socket activation, a binary upgrade) for the
  // listener's name and configured address, as an fd that becomes ours, or
  // -1 to bind. Set before start(); also consulted by reloads.
  using SocketSource = std::function<int(const std::string& name, const std::string& address)>;
  void setSocketSource(SocketSource source) { socket_source_ = std::move(source); }

  // Binds every listener and starts accepting. On error, nothing is left
  // bound and the error names the listener.
  std::error_code start(std::string& error_text);

  // Swaps in a new snapshot: new connections and new requests on kept-alive
  // connections see it; in-flight requests finish on the old one. Listeners
  // are opened and closed by address diff. Returns log lines.
  std::vector<std::string> apply(std::shared_ptr<const config::Config> next);

  // SIGTERM: stop accepting, close idle connections, let active ones finish
  // their request (with Connection: close) until `timeout`, then return.
  void drain(std::chrono::nanoseconds timeout);
  bool draining() const { return draining_.load(std::memory_order_acquire); }

  // The state a connection activation uses (a reference per activation).
  // Lock-free on a worker: see state_cache_.
  std::shared_ptr<const ProxyState> state() const;
  // Bumped by every publish: a connection compares it between requests to
  // pick up a reload without taking the lock each time.
  uint64_t stateGeneration() const { return generation_.load(std::memory_order_acquire); }
  BufferPool& buffers() { return buffers_; }                    // client bytes, heads
  BufferPool& upstreamBuffers() { return upstream_buffers_; }  // upstream responses

  // [overload]: true while new requests are shed (503) because the runtime's scheduling
  // latency stayed above the threshold. One relaxed load per request.
  bool overloaded() const { return overloaded_.value.load(std::memory_order_relaxed); }

  std::vector<std::pair<std::string, rt::net::Address>> boundListeners() const;
  // (listener name, listening fd) of every open listener, for a binary
  // upgrade to pass on. The fds stay owned by the server.
  std::vector<std::pair<std::string, int>> listenerFds() const;
  // /readyz: listeners bound, not draining, and every cluster has at least
  // one endpoint its balancer considers healthy. Returns why not in `why`.
  bool ready(std::string& why) const;
  int64_t activeConnections() const;

  // ClientConnection registry.
  void addConnection(ClientConnection* c);
  void removeConnection(ClientConnection* c);

 private:
  std::error_code startListener(const config::ListenerConfig& lc,
                                std::shared_ptr<ListenerHandle>& out, std::string& error_text);
  void startAccepting(const std::shared_ptr<ListenerHandle>& h);
  void stopListener(ListenerHandle& l);
  static void acceptLoop(Server* server, std::shared_ptr<ListenerHandle> l);
  void publish(std::shared_ptr<ProxyState> state,
               std::vector<std::shared_ptr<ListenerHandle>> listeners);
  // The overload monitor Task: one rt::snapshot() per [overload] window.
  void overloadLoop();

  BufferPool buffers_;
  BufferPool upstream_buffers_;
  StatsPublisher publish_stats_;
  SocketSource socket_source_;
  log::AccessLog* access_log_ = nullptr;
  std::shared_ptr<const config::Config> initial_;
  mutable std::mutex state_mu_;
  std::shared_ptr<const ProxyState> state_;
  std::shared_ptr<const ProxyState> lockedState() const;
  // Per worker: the snapshot its Tasks last took and the generation it was
  // taken at, so a request takes neither state_mu_ nor a cache line another
  // worker writes. Only Tasks running on worker i touch slot i, and they do
  // not park while they do (a worker runs one Task at a time), so no lock.
  // A slot keeps the previous snapshot after a reload until its worker's next
  // activation (state_ is shared, so that is memory, not behaviour).
  struct alignas(64) StateCacheSlot {
    uint64_t generation = UINT64_MAX;
    std::shared_ptr<const ProxyState> state;
  };
  static constexpr size_t kStateCacheSlots = 256;  // workers beyond use state_mu_
  mutable std::unique_ptr<StateCacheSlot[]> state_cache_{new StateCacheSlot[kStateCacheSlots]};
  std::atomic<uint64_t> generation_{0};
  std::vector<std::shared_ptr<ListenerHandle>> listeners_;  // guarded by state_mu_
  std::atomic<bool> draining_{false};

  // Read by every request, written once per window: alone on its cache line.
  struct alignas(64) Flag {
    std::atomic<bool> value{false};
  };
  Flag overloaded_;
  std::atomic<int64_t> overload_p99_ns_{-1};
  std::atomic<bool> monitor_stop_{false};
  rt::WaitGroup monitor_done_;
  // Every health-check, readmission and DNS Task of every snapshot (~Server waits).
  rt::WaitGroup cluster_tasks_;

  ConnectionRegistry connections_;
};

}  // namespace switchyard::server
