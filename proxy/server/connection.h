// ClientConnection: one client TCP connection, from accept to close.
//
// Owns the socket and its keep-alive life. A fresh connection starts idle
// (below) until its first bytes arrive. While a request is in flight a
// Task serves it (one Task per connection, straight-line code: read the
// head, route, stream the body up, stream the response down). Between
// requests the connection holds no Task, no stack and no buffer: the
// socket is armed in the netpoller to start a Task when bytes arrive, and a
// callback timer closes it after the listener's idle timeout. What an idle
// connection costs is this object plus the runtime's poll descriptor
// (tests/bench/idle_conn_bench measures it).
//
// Idle state machine, one atomic word:
//   kActive --(response done, keep-alive)--> kArming --(timer and hook
//   armed)--> kIdle
//   kIdle --(bytes arrive: the hook's Task CASes first)--> kActive
//   kIdle --(the idle timer or a drain CASes first)--> kClosing
//   kClosing --(that winner could not disarm the hook)--> kHookCloses
// kArming exists because the hook and the timer are armed one after the
// other and either may fire at once: a hook Task that sees kArming yields
// until kIdle; a timer that sees it re-arms itself 1 ms later. Whoever wins
// the CAS from kIdle owns the connection. The timer (or a drain) closes it
// only if it also disarms the hook; if the hook already fired, the winner
// stores kHookCloses once it no longer touches the socket, and the Task the
// hook started, which found kClosing, waits for that store and closes
// instead (closing earlier would race the winner's disarm on the socket).
// A refcount (owner + armed timer) keeps the object alive until both are
// done with it.
#pragma once

#include <atomic>
#include <cstdint>
#include <chrono>
#include <memory>
#include <string_view>

#include "proxy/http/proxy_protocol/parser.h"
#include "config/config.h"
#include "proxy/metrics/proxy_stats.h"
#include "proxy/server/connection_registry.h"
#include "proxy/transport/stream.h"
#include "runtime/net/net.h"
#include "runtime/runtime.h"

namespace switchyard::server {

class Server;
struct ListenerHandle;
struct ProxyState;

// The RegistryLink is the Server's (its connection registry).
class ClientConnection : public RegistryLink {
 public:
  // Takes over an accepted socket and starts serving it in a new Task.
  static void start(Server* server, std::shared_ptr<ListenerHandle> listener,
                    rt::net::TcpConn conn);

  // Drain: closes the socket now if the connection is idle and returns
  // true; the caller must then call finishClose() once it no longer holds
  // the registry's lock. Otherwise leaves it to finish its current request
  // (its Task sees the server draining and closes afterwards). A fresh
  // connection that has not sent its first request counts as idle only once
  // it is kFreshDrainGrace old (steady-clock ns): its client most likely
  // sent the request already, and it is served.
  static constexpr std::chrono::milliseconds kFreshDrainGrace{1000};
  bool closeIfIdle(int64_t now_ns);
  void finishClose();

 private:
  enum State : int { kActive, kArming, kIdle, kClosing, kHookCloses };

  ClientConnection(Server* server, std::shared_ptr<ListenerHandle> listener,
                   rt::net::TcpConn conn);
  ~ClientConnection();

  static void taskEntry(void* self);  // a Task: serve, then go idle or close
  static void onReadable(void* self);
  static void onIdleTimeout(void* self);

  void serve();
  // The TLS handshake of a TLS listener's connection, once, before its first request
  // (counted in the snapshot's stats). False: close the connection.
  bool handshake(const ProxyState& state, size_t listener_index,
                 const config::ListenerConfig& lc);
  void goIdle(std::chrono::nanoseconds idle_timeout);
  void armIdleTimer(std::chrono::nanoseconds delay);
  void closeAndRelease();
  void release();
  // [[listener]] proxy_protocol: reads the PROXY header at the start of the connection
  // into `buf` and takes the client address from it. On success the bytes after the
  // header are buf[*begin, *end). False: malformed, too slow or closed; close.
  // `exact`: read no byte past the header (a TLS listener: the handshake follows).
  bool readProxyHeader(char* buf, size_t cap, std::chrono::nanoseconds timeout, bool exact,
                       size_t* begin, size_t* end);
  std::string_view clientIp() const { return {client_ip_, client_ip_len_}; }

  Server* server_;
  std::shared_ptr<ListenerHandle> listener_;
  transport::Stream conn_;
  bool handshake_done_ = false;
  char client_ip_[48] = {};
  uint8_t client_ip_len_ = 0;
  bool proxy_header_read_ = false;  // the first activation handled the PROXY header
  // The client's address and the one it connected to, from the socket or the PROXY
  // header: [0] source, [1] destination. For clusters that send a PROXY header upstream.
  proxy::proxy_protocol::Address client_addresses_[2];
  std::atomic<int> state_{kActive};
  std::atomic<bool> activated_{false};  // a Task has served (or is serving) it
  int64_t accepted_ns_;                 // steady clock
  std::atomic<int> refs_{1};
  rt::CallbackTimer idle_timer_;
  // The listener's header_read when the connection was accepted: how long it may stay
  // silent before its first byte (0: serve at once).
  std::chrono::nanoseconds first_bytes_timeout_{0};
  std::shared_ptr<proxy::metrics::ProxyStats> opened_stats_;
  size_t opened_listener_ = 0;
};

}  // namespace switchyard::server
