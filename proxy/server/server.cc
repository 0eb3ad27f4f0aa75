#include "proxy/server/server.h"

#include <algorithm>
#include <cerrno>
#include <optional>

#include "proxy/resilience/overload_detector.h"
#include "proxy/server/connection.h"
#include "runtime/runtime.h"

namespace switchyard::server {
namespace {
// One buffer size for every connection: 16 KiB is twice nginx's default
// large header buffer (8k) and keeps an active connection's three buffers
// at 48 KiB. It also caps a request head: heads larger than this get 431
// even when limits.max_header_bytes allows more (docs/CONFIG.md says so).
constexpr size_t kBufferSize = 16 * 1024;
constexpr size_t kFreeBuffersPerWorker = 256;
// Upstream responses are read into a larger buffer: a 64 KiB body then takes one
// read and one write instead of four of each (measured: CPU per 64 KiB response
// 55 -> 39 us against nginx's 36-38 in the same runs, docs/PERFORMANCE.md). nginx's
// default proxy_buffers hold 64 KiB per connection too. Only connections with a
// request in flight hold one.
constexpr size_t kUpstreamBufferSize = 64 * 1024;
constexpr size_t kFreeUpstreamBuffersPerWorker = 64;

// Which bound socket a config listener is, across reloads: its address.
// Port 0 is the exception: any number of listeners may ask for "ip:0"
// (docs/CONFIG.md: port 0 never conflicts) and each gets its own socket,
// so the address alone would mix them up; the name tells them apart.
std::string listenerIdentity(const config::ListenerConfig& lc) {
  std::string id = lc.address.toString();
  if (lc.address.port == 0) id += " " + lc.name;
  return id;
}
}  // namespace

Server::Server(std::shared_ptr<const config::Config> initial)
    : buffers_(kBufferSize, kFreeBuffersPerWorker),
      upstream_buffers_(kUpstreamBufferSize, kFreeUpstreamBuffersPerWorker),
      initial_(std::move(initial)) {}

Server::~Server() {
  monitor_stop_.store(true, std::memory_order_release);
  monitor_done_.wait();
  for (auto& l : listeners_) stopListener(*l);
  if (state_ != nullptr) state_->stopClusterTasks();
  // Stopped Tasks of this and earlier snapshots end within a probe timeout or a resolve;
  // leaving them parked when the runtime exits would leak what they hold.
  cluster_tasks_.wait();
}

std::shared_ptr<const ProxyState> Server::lockedState() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return state_;
}

std::shared_ptr<const ProxyState> Server::state() const {
  const int worker = rt::current_worker();
  if (worker < 0 || static_cast<size_t>(worker) >= kStateCacheSlots) return lockedState();
  // The generation first: state_ is at least that new once read under the lock
  // (publish() changes both under it), and a newer one only costs a refresh later.
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  StateCacheSlot& slot = state_cache_[static_cast<size_t>(worker)];
  if (slot.generation != generation) {
    // An alias with its own control block, which holds one reference to the
    // shared one: copies made by this worker's Tasks count on a line only this
    // worker writes (a Task that migrates releases its copy elsewhere: rare).
    std::shared_ptr<const ProxyState> shared = lockedState();
    const ProxyState* raw = shared.get();
    slot.state = std::shared_ptr<const ProxyState>(
        std::make_shared<std::shared_ptr<const ProxyState>>(std::move(shared)), raw);
    slot.generation = generation;
  }
  return slot.state;
}

void Server::publish(std::shared_ptr<ProxyState> state,
                     std::vector<std::shared_ptr<ListenerHandle>> listeners) {
  if (publish_stats_) state->stats = publish_stats_(*state->config);
  for (size_t i = 0; i < state->clusters.size(); i++) state->clusters[i]->attachStats(state->stats, i);
  for (size_t i = 0; i < state->config->listeners.size(); i++) {
    const std::string key = listenerIdentity(state->config->listeners[i]);
    for (const auto& l : listeners) {
      if (l->identity == key) {
        state->listener_slots.emplace_back(l.get(), i);
        l->max_connections.store(state->config->listeners[i].limits.max_connections,
                                 std::memory_order_relaxed);
      }
    }
  }
  state->startClusterTasks(&cluster_tasks_);
  std::shared_ptr<const ProxyState> previous;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    previous = std::move(state_);
    state_ = std::move(state);
    listeners_ = std::move(listeners);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  // The new snapshot's checkers took over (with the inherited state): the old ones go.
  if (previous != nullptr) previous->stopClusterTasks();
}

std::error_code Server::startListener(const config::ListenerConfig& lc,
                                      std::shared_ptr<ListenerHandle>& out,
                                      std::string& error_text) {
  auto h = std::make_shared<ListenerHandle>();
  h->address_key = lc.address.toString();
  h->identity = listenerIdentity(lc);
  std::error_code ec;
  rt::net::ListenOptions opts;
  const int inherited = socket_source_ ? socket_source_(lc.name, h->address_key) : -1;
  h->socket = inherited >= 0 ? rt::net::TcpListener::adopt(inherited, ec)
                             : rt::net::TcpListener::bind(h->address_key, opts, ec);
  if (ec) {
    error_text = "listener \"" + lc.name + "\" on " + h->address_key + ": " + ec.message();
    return ec;
  }
  h->bound = h->socket.localAddress();
  h->max_connections.store(lc.limits.max_connections, std::memory_order_relaxed);
  out = std::move(h);
  return {};
}

// Only once the listener is in a published snapshot: an adopted socket may
// already hold connections, and each needs the state to start.
void Server::startAccepting(const std::shared_ptr<ListenerHandle>& h) {
  h->accept_done.add(1);
  rt::go([this, h] {
    acceptLoop(this, h);
    h->accept_done.done();
  });
}

void Server::stopListener(ListenerHandle& l) {
  if (l.stopping.exchange(true, std::memory_order_acq_rel)) return;
  l.socket.interrupt();
  l.accept_done.wait();  // zero (returns at once) if accepting never started
  l.socket.close();
}

void Server::acceptLoop(Server* server, std::shared_ptr<ListenerHandle> l) {
  while (!l->stopping.load(std::memory_order_acquire)) {
    // At the connection limit, leave new clients in the kernel's backlog
    // (as HAProxy's maxconn does) rather than accepting and dropping them.
    for (int i = 0; i < 200000 && !l->stopping.load(std::memory_order_acquire) &&
                    static_cast<uint64_t>(l->active.load(std::memory_order_relaxed)) >=
                        l->max_connections.load(std::memory_order_relaxed);
         i++) {
      rt::sleep_for(std::chrono::milliseconds(5));
    }
    std::error_code ec;
    rt::net::TcpConn conn = l->socket.accept(ec);
    if (ec) {
      if (ec == std::errc::operation_canceled || l->stopping.load(std::memory_order_acquire)) {
        break;
      }
      // EMFILE/ENFILE/ENOBUFS: back off instead of spinning on the error.
      rt::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    ClientConnection::start(server, l, std::move(conn));
  }
}

std::error_code Server::start(std::string& error_text) {
  std::vector<std::shared_ptr<ListenerHandle>> started;
  for (const auto& lc : initial_->listeners) {
    std::shared_ptr<ListenerHandle> h;
    if (std::error_code ec = startListener(lc, h, error_text)) {
      for (auto& s : started) stopListener(*s);
      return ec;
    }
    started.push_back(std::move(h));
  }
  std::vector<std::string> tls_errors;
  std::shared_ptr<ProxyState> state = ProxyState::build(initial_, nullptr, &tls_errors);
  if (!tls_errors.empty()) {
    // A certificate that does not load at start is fatal, as in nginx: better no
    // process than one serving the wrong certificate or none.
    for (auto& s : started) stopListener(*s);
    error_text.clear();
    for (const std::string& line : tls_errors) error_text += (error_text.empty() ? "" : "\n") + line;
    return std::make_error_code(std::errc::invalid_argument);
  }
  // Accept only once a snapshot that knows these listeners is published: a client
  // that connects the instant the port opens must find routes, not a null state.
  publish(std::move(state), started);
  for (auto& h : started) startAccepting(h);
  monitor_done_.add(1);
  rt::go([this] {
    overloadLoop();
    monitor_done_.done();
  });
  return {};
}

void Server::overloadLoop() {
  // Without [overload] the loop only looks at the config every kIdleCheck (a reload may
  // turn it on). Sleeps are sliced so that ~Server never waits longer than a slice.
  constexpr auto kSlice = std::chrono::milliseconds(50);
  std::optional<proxy::resilience::OverloadDetector> detector;
  for (uint64_t round = 0; !monitor_stop_.load(std::memory_order_acquire); ++round) {
    std::shared_ptr<const ProxyState> s = state();
    const std::optional<config::OverloadConfig>& oc = s->config->overload;
    if (!oc.has_value()) {
      detector.reset();
      overloaded_.value.store(false, std::memory_order_relaxed);
      overload_p99_ns_.store(-1, std::memory_order_relaxed);
      if (s->stats != nullptr) s->stats->setOverload(false, -1);
      s.reset();  // hold no snapshot while asleep
      rt::sleep_for(kSlice * 5);
      continue;
    }
    if (!detector.has_value()) {
      detector.emplace(*oc);
    } else {
      detector->reconfigure(*oc);
    }
    const rt::SchedSnapshot snap = rt::snapshot();
    const bool over = detector->update(snap.sched_latency_bounds_ns, snap.sched_latency_counts);
    overloaded_.value.store(over, std::memory_order_relaxed);
    overload_p99_ns_.store(detector->lastP99Ns(), std::memory_order_relaxed);
    if (s->stats != nullptr) s->stats->setOverload(over, detector->lastP99Ns());
    const auto wake = std::chrono::steady_clock::now() + oc->window;
    s.reset();
    for (int i = 0; i < 100000 && !monitor_stop_.load(std::memory_order_acquire); ++i) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= wake) break;
      rt::sleep_for(std::min<std::chrono::nanoseconds>(wake - now, kSlice));
    }
  }
}

std::vector<std::string> Server::apply(std::shared_ptr<const config::Config> next) {
  std::vector<std::string> log;
  std::shared_ptr<const ProxyState> previous = state();
  std::vector<std::shared_ptr<ListenerHandle>> current;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    current = listeners_;
  }
  std::vector<std::shared_ptr<ListenerHandle>> kept, to_stop, opened;
  for (auto& l : current) {
    bool still = false;
    for (const auto& lc : next->listeners) still = still || listenerIdentity(lc) == l->identity;
    (still ? kept : to_stop).push_back(l);
  }
  for (const auto& lc : next->listeners) {
    const std::string key = listenerIdentity(lc);
    bool have = false;
    for (auto& l : kept) have = have || l->identity == key;
    if (have) continue;
    std::shared_ptr<ListenerHandle> h;
    std::string err;
    if (startListener(lc, h, err)) {
      log.push_back("reload: cannot open " + err + "; the listener stays closed");
      continue;
    }
    log.push_back("reload: opened listener \"" + lc.name + "\" on " + h->bound.toString());
    opened.push_back(h);
    kept.push_back(std::move(h));
  }
  std::vector<std::string> tls_errors;
  std::shared_ptr<ProxyState> state = ProxyState::build(std::move(next), previous.get(), &tls_errors);
  for (std::string& line : tls_errors) log.push_back("reload: " + std::move(line));
  publish(std::move(state), kept);
  // As at start: a new listener accepts once the snapshot that routes it is out
  // (earlier, its first clients would be closed as "not in this snapshot").
  for (auto& h : opened) startAccepting(h);
  for (auto& l : to_stop) {
    stopListener(*l);
    log.push_back("reload: closed listener on " + l->address_key);
  }
  return log;
}

void Server::drain(std::chrono::nanoseconds timeout) {
  draining_.store(true, std::memory_order_release);
  std::vector<std::shared_ptr<ListenerHandle>> current;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    current = listeners_;
  }
  for (auto& l : current) stopListener(*l);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Idle connections close now; active ones finish their request with
  // "Connection: close". Re-scan: a connection can go idle meanwhile.
  for (int round = 0; round < 100000; round++) {
    std::vector<ClientConnection*> closed;
    const int64_t now_ns = std::chrono::steady_clock::now().time_since_epoch().count();
    connections_.forEach([&closed, now_ns](RegistryLink* link) {
      auto* c = static_cast<ClientConnection*>(link);
      if (c->closeIfIdle(now_ns)) closed.push_back(c);
    });
    for (ClientConnection* c : closed) c->finishClose();
    if (connections_.size() == 0) return;
    if (std::chrono::steady_clock::now() >= deadline) return;
    rt::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<std::pair<std::string, rt::net::Address>> Server::boundListeners() const {
  std::vector<std::pair<std::string, rt::net::Address>> out;
  std::lock_guard<std::mutex> lock(state_mu_);
  for (const auto& l : listeners_) {
    std::string name;
    size_t slot = state_->listenerSlot(l.get());
    if (slot != SIZE_MAX) name = state_->config->listeners[slot].name;
    out.emplace_back(name, l->bound);
  }
  return out;
}

std::vector<std::pair<std::string, int>> Server::listenerFds() const {
  std::vector<std::pair<std::string, int>> out;
  std::lock_guard<std::mutex> lock(state_mu_);
  for (const auto& l : listeners_) {
    const size_t slot = state_->listenerSlot(l.get());
    if (slot == SIZE_MAX || l->stopping.load(std::memory_order_acquire)) continue;
    out.emplace_back(state_->config->listeners[slot].name, l->socket.fd());
  }
  return out;
}

bool Server::ready(std::string& why) const {
  if (draining()) {
    why = "draining";
    return false;
  }
  std::shared_ptr<const ProxyState> s;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (listeners_.empty() || state_ == nullptr) {
      why = "no listener bound";
      return false;
    }
    s = state_;
  }
  if (overloaded()) {
    const int64_t p99 = overload_p99_ns_.load(std::memory_order_relaxed);
    why = "overloaded: scheduling latency p99 " + std::to_string(p99 / 1000) + "us";
    return false;
  }
  for (const auto& cluster : s->clusters) {
    if (cluster->balancer().endpoints().healthyCount() == 0) {
      why = "cluster \"" + cluster->config().name + "\" has no healthy endpoint";
      return false;
    }
  }
  return true;
}

int64_t Server::activeConnections() const { return connections_.size(); }

void Server::addConnection(ClientConnection* c) { connections_.add(c, rt::current_worker()); }

void Server::removeConnection(ClientConnection* c) { connections_.remove(c); }

}  // namespace switchyard::server
