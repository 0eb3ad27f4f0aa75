#include "proxy/server/connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <span>
#include <string_view>

#include "proxy/http/http1/parser.h"
#include "proxy/http/http1/writer.h"
#include "proxy/http/proxy_protocol/parser.h"
#include "proxy/http/proxy_protocol/writer.h"
#include "proxy/resilience/retry_policy.h"
#include "proxy/router/router.h"
#include "proxy/server/server.h"
#include "runtime/sync/sync.h"

namespace switchyard::server {
namespace {

using http::BodyFraming;
using http::Method;
using http::http1::ParseEvent;
using http::http1::ParseResult;
using http::http1::RequestParser;
using http::http1::ResponseParser;
using rt::net::Clock;
using rt::net::Deadline;
using rt::net::kNoDeadline;
using rt::net::TcpConn;
using transport::Stream;
using Ns = std::chrono::nanoseconds;

// Deadlines and timestamps come from the Task's round clock (rt::coarse_now):
// a request took about a dozen clock reads, now about one per scheduling round.
Deadline after(Ns d) { return d.count() <= 0 ? kNoDeadline : rt::coarse_now() + d; }
Deadline earlier(Deadline a, Deadline b) { return a < b ? a : b; }
int64_t nowNs() { return rt::coarse_now().time_since_epoch().count(); }

bool isEof(const std::error_code& ec) { return ec == rt::net::errc::eof; }
bool isTimeout(const std::error_code& ec) { return ec == std::errc::timed_out; }

// Idempotent methods may be retried on a fresh upstream connection when a
// pooled one turns out dead before any response byte (RFC 9110 9.2.2).
bool idempotent(Method m) {
  switch (m) {
    case Method::kGet:
    case Method::kHead:
    case Method::kOptions:
    case Method::kPut:
    case Method::kDelete:
    case Method::kTrace:
      return true;
    default:
      return false;
  }
}

// A socket address as the PROXY protocol writer takes it (family 0 if neither IPv4 nor 6).
proxy::proxy_protocol::Address toProxyProtocolAddress(const rt::net::Address& a) {
  proxy::proxy_protocol::Address out;
  if (a.family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a.storage);
    out.family = AF_INET;
    std::memcpy(out.ip, &in->sin_addr, 4);
    out.port = ntohs(in->sin_port);
  } else if (a.family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a.storage);
    out.family = AF_INET6;
    std::memcpy(out.ip, &in6->sin6_addr, 16);
    out.port = ntohs(in6->sin6_port);
  }
  return out;
}

// How often the response reader looks whether a concurrently streamed request
// body has finished (only while one is streaming and no response head came yet).
constexpr Ns kBodyPollInterval = std::chrono::milliseconds(50);

// A request body this size or smaller is read and dropped when the proxy
// answers by itself (404, direct responses) so the connection stays usable;
// larger ones close it instead.
constexpr uint64_t kMaxDiscardBytes = 1 << 20;

// The buffers one activation borrows from the worker's pools and returns
// when it ends (an idle connection holds none).
struct Buffers {
  BufferPool& pool;
  BufferPool& upstream_pool;
  char* in = nullptr;   // client bytes (heads and bodies)
  char* up = nullptr;   // upstream bytes (upstream_pool's larger size)
  char* out = nullptr;  // heads we write
  Buffers(BufferPool& p, BufferPool& u) : pool(p), upstream_pool(u) {
    const int w = rt::current_worker();
    in = pool.get(w);
    up = upstream_pool.get(w);
    out = pool.get(w);
  }
  ~Buffers() {
    const int w = rt::current_worker();
    pool.put(w, in);
    upstream_pool.put(w, up);
    pool.put(w, out);
  }
  Buffers(const Buffers&) = delete;
  Buffers& operator=(const Buffers&) = delete;
};

// Bytes read but not consumed are buf[begin, end). Until a head completes,
// its consumed bytes buf[message_start, begin) must stay just before
// `begin` (parser.h's contract), so compaction moves them along.
struct Window {
  char* buf;
  size_t cap;
  size_t message_start = 0;
  size_t begin = 0;
  size_t end = 0;

  bool full() const { return end == cap; }
  void compact() {
    if (message_start == 0) return;
    std::memmove(buf, buf + message_start, end - message_start);
    begin -= message_start;
    end -= message_start;
    message_start = 0;
  }
  // After a head completed, consumed bytes are no longer needed.
  void dropConsumed() {
    message_start = begin;
    if (begin == end) begin = end = message_start = 0;
  }
};

enum class Outcome { kKeepAlive, kClose };

// Copies everything one side sends to the other until EOF, error or
// `idle` without traffic; then half-closes the destination.
void pump(Stream& from, Stream& to, char* buf, size_t cap, Ns idle) {
  for (;;) {
    std::error_code ec;
    from.setReadDeadline(after(idle));
    size_t n = from.read(buf, cap, ec);
    if (ec) break;
    to.setWriteDeadline(after(idle));
    to.write(buf, n, ec);
    if (ec) break;
  }
  to.shutdownWrite();
}

// A new upstream connection: TCP connect, then for a TLS cluster the handshake, both
// within `deadline`. `tls_failed` tells a refused handshake (bad certificate, wrong
// name) from an unreachable endpoint, for the error page.
Stream connectUpstream(const ClusterRuntime& cluster, size_t index, Deadline deadline,
                       std::error_code& ec, bool& tls_failed, std::string_view proxy_header) {
  const config::HostPort& endpoint = cluster.config().endpoints[index];
  const rt::net::Address* numeric = cluster.numericAddress(index);
  // Names go through the cluster's DNS cache (re-resolved every dns_refresh).
  TcpConn tcp = numeric != nullptr ? rt::net::connect(*numeric, deadline, ec)
                                   : cluster.addresses().connect(index, deadline, ec);
  if (ec) return {};
  tcp.setNoDelay(true);
  if (!proxy_header.empty()) {  // send_proxy_protocol: before anything else, TLS included
    tcp.setWriteDeadline(deadline);
    tcp.write(proxy_header.data(), proxy_header.size(), ec);
    if (ec) return {};
  }
  if (!cluster.wantsTls()) return Stream(std::move(tcp));
  tls_failed = true;
  SSL* ssl = cluster.tls() != nullptr ? cluster.tls()->newSession(endpoint) : nullptr;
  if (ssl == nullptr) {
    ec = std::make_error_code(std::errc::protocol_error);
    return {};
  }
  Stream up(std::move(tcp), ssl);
  up.setDeadline(deadline);
  if ((ec = up.handshake())) return {};
  tls_failed = false;
  return up;
}

// One activation's worth of requests on a client connection.
class Exchange {
 public:
  // `generation`: Server::stateGeneration() when `state` was taken.
  // [pending_begin, pending_end) of bufs.in: bytes a previous Exchange of
  // this activation read but did not parse (the start of the next request);
  // `continuing` says there was one (so this one may go idle at once).
  Exchange(Server& server, const ProxyState& state, uint64_t generation,
           const config::ListenerConfig& listener, size_t listener_index, Stream& client,
           std::string_view client_ip, const proxy::proxy_protocol::Address* client_addresses,
           Buffers& bufs, bool continuing, size_t pending_begin,
           size_t pending_end)
      : server_(server),
        continuing_(continuing),
        generation_(generation),
        state_(state),
        listener_(listener),
        listener_index_(listener_index),
        client_(client),
        client_ip_(client_ip),
        client_addresses_(client_addresses),
        bufs_(bufs),
        cap_(server.buffers().bufferSize()),
        up_cap_(server.upstreamBuffers().bufferSize()),
        in_{bufs.in, cap_, pending_begin, pending_begin, pending_end} {}

  enum class Next {
    kClose,   // the connection must close
    kIdle,    // nothing buffered, nothing pending: go idle
    kReload,  // a reload happened: serve the rest on the new snapshot
  };
  // Serves requests until one of the above.
  Next run();
  size_t pendingBegin() const { return in_.begin; }
  size_t pendingEnd() const { return in_.end; }

 private:
  // The request facts still needed once the head's bytes may be gone.
  struct RequestFacts {
    Method method = Method::kGet;
    uint8_t version_minor = 1;
    bool keep_alive = true;
    bool upgrade = false;
    bool expect_continue = false;
    bool has_body = false;
  };

  // What one request did, for the metrics and the access log. The strings
  // are copied out of the head (whose bytes may be gone by the end), and
  // only when an access log is configured.
  struct Record {
    int64_t start_ns = 0;       // steady clock
    int64_t start_unix_ns = 0;  // wall clock, for the log line
    int64_t sched_delay_at_start = 0;
    size_t route = proxy::metrics::ProxyStats::kNoRoute;
    size_t cluster = proxy::metrics::ProxyStats::kNoCluster;
    const proxy::RouteMatch* match = nullptr;
    size_t endpoint = SIZE_MAX;  // Config::clusters[cluster].endpoints index
    int64_t upstream_start_ns = 0;
    int status = 0;
    uint64_t bytes_sent = 0;
    uint64_t bytes_received = 0;
    uint8_t version_minor = 1;
    struct Text {
      char data[256];
      uint16_t len = 0;
      void set(std::string_view s) {
        len = static_cast<uint16_t>(std::min(s.size(), sizeof data));
        std::memcpy(data, s.data(), len);
      }
      std::string_view view() const { return {data, len}; }
    };
    Text method, target, host, user_agent, referer;
  };
  void beginRecord(const http::RequestHead* head);
  void finishRecord();

  Outcome handle(RequestParser& rp);
  Outcome handleRouted(RequestParser& rp);
  Outcome answer(RequestParser& rp, const RequestFacts& req, int status, std::string_view body);
  Outcome proxyTo(RequestParser& rp, const RequestFacts& req, const ClusterRuntime& cluster);
  bool readClient(Deadline d, std::error_code& ec);
  // How forwarding a request body to the upstream ended.
  enum class BodyResult {
    kComplete,        // the whole body is forwarded (or the request upgraded)
    kNeedMore,        // buffered bytes are forwarded; the rest is still to come
    kBadRequest,      // the body's framing is invalid (body_error_ says how)
    kClientGone,      // the client closed or failed mid-body
    kClientTimeout,   // the client stalled mid-body
    kUpstreamFailed,  // writing to the upstream failed (it may have answered early)
    kStopped,         // interrupted because the response ended first
  };
  // Forwards body bytes from in_ to `up`; reads the client for more only when
  // `read_client` (otherwise stops at kNeedMore). Sets *upgraded on kUpgrade.
  // Sets *client_done (if given) as soon as it will read no more client bytes,
  // before writing the last ones upstream.
  BodyResult forwardBody(RequestParser& rp, Stream& up, Deadline request_deadline,
                         bool read_client, bool* upgraded,
                         std::atomic<bool>* client_done = nullptr);
  bool writeClient(const char* data, size_t n);
  // The final response head waits in bufs_.out until the first body bytes (or the
  // end of the response) so both leave in one write: one syscall, and over TLS one
  // record, instead of two. Flushed before anything that may wait.
  void holdHead(size_t n) { held_head_ = n; }
  bool flushHeldHead();
  void respondError(int status, const char* reason, bool head_request);
  bool discardBody(RequestParser& rp);

  Server& server_;
  bool continuing_;
  uint64_t generation_;
  const ProxyState& state_;
  const config::ListenerConfig& listener_;
  size_t listener_index_;
  Stream& client_;
  std::string_view client_ip_;
  const proxy::proxy_protocol::Address* client_addresses_;  // [source, destination]
  Buffers& bufs_;
  size_t cap_;     // bufs_.in and bufs_.out
  size_t up_cap_;  // bufs_.up
  Window in_;
  Record rec_;
  size_t held_head_ = 0;  // bytes of bufs_.out not written yet (see holdHead)
  http::http1::ParseError body_error_{};  // with BodyResult::kBadRequest
};

bool Exchange::readClient(Deadline d, std::error_code& ec) {
  if (in_.full()) in_.compact();
  if (in_.full()) return false;
  client_.setReadDeadline(d);
  size_t n = client_.read(in_.buf + in_.end, cap_ - in_.end, ec);
  if (ec) return false;
  in_.end += n;
  rec_.bytes_received += n;
  return true;
}

bool Exchange::flushHeldHead() {
  const size_t n = std::exchange(held_head_, 0);
  return n == 0 || writeClient(bufs_.out, n);
}

bool Exchange::writeClient(const char* data, size_t n) {
  std::error_code ec;
  client_.setWriteDeadline(after(listener_.timeouts.idle));
  size_t written = 0;
  if (const size_t head = std::exchange(held_head_, 0); head == 0) {
    written = client_.write(data, n, ec);
  } else if (client_.isTls() && head + n <= cap_) {
    std::memcpy(bufs_.out + head, data, n);  // one TLS record for both
    written = client_.write(bufs_.out, head + n, ec);
  } else {
    const iovec iov[2] = {{bufs_.out, head}, {const_cast<char*>(data), n}};
    written = client_.writev(iov, 2, ec);  // plain: one syscall; TLS: a record each
  }
  rec_.bytes_sent += written;
  return !ec;
}

Exchange::BodyResult Exchange::forwardBody(RequestParser& rp, Stream& up,
                                           Deadline request_deadline, bool read_client,
                                           bool* upgraded, std::atomic<bool>* client_done) {
  for (;;) {
    ParseResult r = rp.execute(in_.buf + in_.begin, in_.end - in_.begin);
    if (r.event == ParseEvent::kError) {
      body_error_ = r.error;
      return BodyResult::kBadRequest;  // the upstream sees a truncated body, never an ambiguous one
    }
    if (client_done != nullptr &&
        (r.event == ParseEvent::kMessageComplete || r.event == ParseEvent::kUpgrade)) {
      client_done->store(true, std::memory_order_release);
    }
    if (r.body_wire_bytes > 0) {
      std::error_code ec;
      up.setWriteDeadline(earlier(after(listener_.timeouts.idle), request_deadline));
      up.write(in_.buf + in_.begin, r.body_wire_bytes, ec);
      if (ec) return ec == std::errc::operation_canceled ? BodyResult::kStopped
                                                         : BodyResult::kUpstreamFailed;
    }
    in_.begin += r.consumed;
    if (r.event == ParseEvent::kMessageComplete) return BodyResult::kComplete;
    if (r.event == ParseEvent::kUpgrade) {
      *upgraded = true;
      return BodyResult::kComplete;
    }
    in_.dropConsumed();
    if (!read_client && in_.begin == in_.end) return BodyResult::kNeedMore;
    if (in_.begin < in_.end) continue;
    std::error_code ec;
    if (!readClient(earlier(after(listener_.timeouts.idle), request_deadline), ec)) {
      if (ec == std::errc::operation_canceled) return BodyResult::kStopped;
      return isTimeout(ec) ? BodyResult::kClientTimeout : BodyResult::kClientGone;
    }
  }
}

void Exchange::respondError(int status, const char* reason, bool head_request) {
  rec_.status = status;
  http::http1::SimpleResponse r;
  r.status = status;
  r.body = reason;
  r.keep_alive = false;
  r.head_request = head_request;
  if (auto n = http::http1::writeSimpleResponse({bufs_.out, cap_}, r)) writeClient(bufs_.out, *n);
}

Exchange::Next Exchange::run() {
  http::http1::ParserLimits limits;
  limits.max_head_bytes = static_cast<uint32_t>(
      std::min<uint64_t>(listener_.limits.max_header_bytes, cap_));
  if (listener_.limits.max_body_bytes) limits.max_body_bytes = *listener_.limits.max_body_bytes;
  RequestParser rp(limits);
  bool served_one = continuing_;
  for (;;) {
    // Read until a head is complete.
    Deadline head_deadline = kNoDeadline;
    for (;;) {
      ParseResult r = rp.execute(in_.buf + in_.begin, in_.end - in_.begin);
      if (r.event == ParseEvent::kError) {
        beginRecord(nullptr);
        respondError(r.error.status, r.error.reason, false);
        finishRecord();
        return Next::kClose;
      }
      in_.begin += r.consumed;
      if (r.event == ParseEvent::kHeadComplete) break;
      if (r.event == ParseEvent::kMessageComplete) continue;  // a bodiless message's end
      // kNeedMore: everything was consumed into a partial head (or nothing).
      if (in_.begin == in_.end && in_.message_start == in_.begin) {
        in_.begin = in_.end = in_.message_start = 0;
        if (served_one) {
          // Go idle only once a read says "would block" (the edge-triggered
          // rule): bytes or an EOF that came with an edge already consumed
          // raise no new one, so an armed hook would never see them; and an
          // edge latched while we read would start the hook for nothing
          // (a Task held until header_read). With the queue known empty
          // this costs no syscall.
          std::error_code ec;
          if (readClient(rt::coarse_now(), ec)) continue;  // more bytes: parse them
          // Nothing pending: go idle. EOF or an error: close.
          return isTimeout(ec) ? Next::kIdle : Next::kClose;
        }
      }
      if (head_deadline == kNoDeadline) head_deadline = after(listener_.timeouts.header_read);
      std::error_code ec;
      if (!readClient(head_deadline, ec)) {
        if (!ec || (isTimeout(ec) && in_.end > in_.message_start)) {
          beginRecord(nullptr);
          if (!ec) {
            respondError(431, "request head too large", false);
          } else {
            respondError(408, "request head timed out", false);
          }
          finishRecord();
        }
        return Next::kClose;  // EOF between requests is a clean end
      }
    }
    served_one = true;
    if (handle(rp) == Outcome::kClose) return Next::kClose;
    if (server_.draining()) return Next::kClose;
    in_.dropConsumed();
    // A reload since this Exchange began: the next request (already here,
    // or about to be) must see it (docs/CONFIG.md, Reload).
    if (server_.stateGeneration() != generation_) return Next::kReload;
  }
}

Outcome Exchange::handle(RequestParser& rp) {
  beginRecord(&rp.head());
  const Outcome o = handleRouted(rp);
  finishRecord();
  return o;
}

void Exchange::beginRecord(const http::RequestHead* head) {
  const uint64_t received_before = rec_.bytes_received;
  rec_ = Record{};
  rec_.bytes_received = received_before;  // bytes of this head read earlier
  rec_.start_ns = nowNs();
  rec_.sched_delay_at_start = rt::sched_delay().count();
  log::AccessLog* log = server_.accessLog();
  if (log == nullptr || head == nullptr) return;
  rec_.start_unix_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  rec_.version_minor = head->version_minor;
  rec_.method.set(head->method_text);
  rec_.target.set(head->target);
  rec_.host.set(head->host);
  if (const http::HeaderField* f = head->find("user-agent")) rec_.user_agent.set(f->value);
  if (const http::HeaderField* f = head->find("referer")) rec_.referer.set(f->value);
}

void Exchange::finishRecord() {
  const int64_t end = nowNs();
  const int64_t upstream_ns =
      rec_.endpoint != SIZE_MAX ? end - rec_.upstream_start_ns : int64_t{-1};
  const int worker = rt::current_worker();
  if (state_.stats != nullptr) {
    state_.stats->requestDone(worker, listener_index_, rec_.route, rec_.cluster, rec_.status,
                              end - rec_.start_ns, upstream_ns);
    state_.stats->bytes(worker, listener_index_, rec_.bytes_received, rec_.bytes_sent);
  }
  if (log::AccessLog* log = server_.accessLog()) {
    log::AccessRecord r;
    r.client_ip = client_ip_;
    r.method = rec_.method.len ? rec_.method.view() : std::string_view("-");
    r.target = rec_.target.len ? rec_.target.view() : std::string_view("-");
    r.version_minor = rec_.version_minor;
    r.host = rec_.host.view();
    r.user_agent = rec_.user_agent.view();
    r.referer = rec_.referer.view();
    r.listener = listener_.name;
    if (rec_.match != nullptr) {
      r.route = rec_.match->route_name;
      if (!rec_.match->isDirectResponse()) r.cluster = rec_.match->cluster_name;
    }
    char upstream[300];
    if (rec_.endpoint != SIZE_MAX && rec_.cluster < state_.config->clusters.size()) {
      const config::HostPort& hp = state_.config->clusters[rec_.cluster].endpoints[rec_.endpoint];
      const bool v6 = hp.kind == config::HostKind::kIpv6;
      int n = std::snprintf(upstream, sizeof upstream, v6 ? "[%s]:%u" : "%s:%u", hp.host.c_str(),
                            static_cast<unsigned>(hp.port));
      if (n > 0) r.upstream = std::string_view(upstream, std::min<size_t>(n, sizeof upstream - 1));
    }
    r.status = rec_.status;
    r.bytes_sent = rec_.bytes_sent;
    r.total_ns = end - rec_.start_ns;
    r.upstream_ns = upstream_ns;
    r.sched_delay_ns = rt::sched_delay().count() - rec_.sched_delay_at_start;
    r.unix_time_ns = rec_.start_unix_ns;
    log->record(worker, r);
  }
  rec_.bytes_received = 0;
}

Outcome Exchange::handleRouted(RequestParser& rp) {
  const http::RequestHead& head = rp.head();
  RequestFacts req;
  req.method = head.method;
  req.version_minor = head.version_minor;
  req.keep_alive = head.keep_alive && !server_.draining();
  req.upgrade = head.upgrade;
  req.expect_continue = head.expect_continue;
  req.has_body = head.framing != BodyFraming::kNone;

  // [overload]: the runtime's scheduling latency says the workers are saturated; a
  // quick 503 now costs less than a request that would time out in the run queues.
  if (server_.overloaded()) [[unlikely]] {
    if (state_.stats != nullptr) state_.stats->overloadShed(rt::current_worker(), listener_index_);
    return answer(rp, req, 503, "overloaded\n");
  }
  const proxy::RouteMatch* route = state_.router->match(listener_index_, head.host, head.path);
  rec_.match = route;
  if (route != nullptr) {
    rec_.route = route->route_index;
    if (!route->isDirectResponse()) rec_.cluster = route->cluster_index;
  }
  if (route == nullptr) return answer(rp, req, 404, "no route for this request\n");
  if (route->isDirectResponse()) return answer(rp, req, route->status, route->body);
  return proxyTo(rp, req, *state_.clusters[route->cluster_index]);
}

bool Exchange::discardBody(RequestParser& rp) {
  uint64_t dropped = 0;
  for (;;) {
    ParseResult r = rp.execute(in_.buf + in_.begin, in_.end - in_.begin);
    if (r.event == ParseEvent::kError) return false;
    in_.begin += r.consumed;
    dropped += r.body_wire_bytes;
    if (r.event == ParseEvent::kMessageComplete) return true;
    if (r.event == ParseEvent::kUpgrade) return false;
    if (dropped > kMaxDiscardBytes) return false;
    in_.dropConsumed();
    std::error_code ec;
    if (!readClient(after(listener_.timeouts.idle), ec)) return false;
  }
}

Outcome Exchange::answer(RequestParser& rp, const RequestFacts& req, int status,
                         std::string_view body) {
  // Consume the request to its end (a bodiless one ends at once) so a
  // pipelined request behind it is parsed next. The head's views die when
  // discardBody reads more: everything needed from it is in `req`.
  // A client that asked for 100-continue and sent no body byte yet waits
  // for us before sending it: answer now (RFC 9110 10.1.1) and close, since
  // the connection is then not at a message boundary.
  const bool awaiting_continue = req.expect_continue && req.has_body && in_.begin == in_.end;
  const bool consumed = !awaiting_continue && discardBody(rp);
  const bool keep = req.keep_alive && !req.upgrade && consumed && !server_.draining();
  rec_.status = status;
  http::http1::SimpleResponse r;
  r.status = status;
  r.body = body;
  r.keep_alive = keep;
  r.head_request = req.method == Method::kHead;
  auto n = http::http1::writeSimpleResponse({bufs_.out, cap_}, r);
  if (!n || !writeClient(bufs_.out, *n)) return Outcome::kClose;
  return keep ? Outcome::kKeepAlive : Outcome::kClose;
}

Outcome Exchange::proxyTo(RequestParser& rp, const RequestFacts& req,
                          const ClusterRuntime& cluster) {
  const config::ClusterConfig& cc = cluster.config();
  proxy::Balancer& balancer = cluster.balancer();

  // Every endpoint unhealthy or ejected: refuse at once rather than send traffic the
  // checks say will fail (the balancers' "panic mode" only covers a racing change).
  if (balancer.endpoints().healthyCount() == 0) {
    cluster.noteEvent(rt::current_worker(), proxy::metrics::ClusterEvent::kNoHealthyEndpoint);
    return answer(rp, req, 503, "no healthy upstream\n");
  }
  // [cluster.limits] max_requests: over it, 503 now; nothing queues.
  if (!cluster.limits().tryStartRequest()) {
    cluster.noteEvent(rt::current_worker(), proxy::metrics::ClusterEvent::kOverflowRequests);
    return answer(rp, req, 503, "upstream request limit reached\n");
  }
  struct RequestGuard {
    const ClusterRuntime& c;
    ~RequestGuard() {
      c.limits().endRequest();
      c.retryBudget().requestEnded(rt::current_worker());
    }
  } request_guard{cluster};
  cluster.retryBudget().requestStarted(rt::current_worker());

  // The consistent-hash key, copied while the head is still in place (a
  // retry picks again after the input buffer may have moved). A longer key
  // is hashed on its first bytes.
  char key_buf[128];
  std::string_view key_src = client_ip_;
  if (const config::HashKey* hk = balancer.hashKey();
      hk != nullptr && hk->source == config::HashKey::Source::kHeader) {
    const http::HeaderField* f = rp.head().find(hk->header);
    key_src = f != nullptr ? f->value : std::string_view{};
  }
  const size_t key_len = std::min(key_src.size(), sizeof key_buf);
  std::memcpy(key_buf, key_src.data(), key_len);
  const std::string_view hash_key(key_buf, key_len);

  // The upstream request head, written once (a retry resends it).
  http::http1::RequestWriteOptions wo;
  wo.client_address = client_ip_;
  wo.forwarded_proto = listener_.tls ? "https" : "http";
  wo.x_forwarded = listener_.forwarded != config::ListenerConfig::Forwarded::kRfc7239;
  wo.forwarded_rfc7239 = listener_.forwarded != config::ListenerConfig::Forwarded::kXForwarded;
  wo.upgrade = req.upgrade;
  // An HTTP/1.0 client cannot read chunked bodies and bodies are forwarded
  // verbatim: ask the upstream in HTTP/1.0, so it never chunks.
  if (req.version_minor == 0) {
    wo.version_minor = 0;
    wo.close = true;
  }
  auto head_len = http::http1::writeRequestHead({bufs_.out, cap_}, rp.head(), wo);
  if (!head_len) {
    respondError(431, "request head too large to forward", req.method == Method::kHead);
    return Outcome::kClose;
  }
  const size_t out_len = *head_len;
  const bool may_retry = idempotent(req.method) && !req.has_body && !req.upgrade;
  proxy::resilience::RetryPolicy retry_policy(cc.retry, cluster.retryBudget(), may_retry);
  proxy::health::ClusterHealth& health = cluster.health();
  // A failed try: retry (true), or answer with the try's error (false). Counted either way.
  auto retryAfter = [&](proxy::resilience::RetryPolicy::Failure failure, int status) {
    using Decision = proxy::resilience::RetryPolicy::Decision;
    const Decision d = retry_policy.onFailure(failure, status);
    if (d == Decision::kRetry) {
      cluster.noteEvent(rt::current_worker(), proxy::metrics::ClusterEvent::kRetry);
    } else if (d == Decision::kBudgetExhausted) {
      cluster.noteEvent(rt::current_worker(),
                        proxy::metrics::ClusterEvent::kRetryBudgetExhausted);
    }
    return d == Decision::kRetry;
  };
  const Deadline request_deadline = after(listener_.timeouts.request);

  bool sent_100 = false;
  // The request's end has been parsed (and its body forwarded). A retry
  // resends the head only: a retried request has no body, and parsing on
  // would wait for the client's next request instead.
  bool request_parsed = false;
  size_t excluded = proxy::kNoEndpoint;
  // Tries: the first, the policy's retries, and one free retry on a fresh connection when
  // a pooled one proved dead before any response byte (a stale pool entry says nothing
  // about the endpoint, so it costs neither a retry nor budget).
  bool free_retry_used = false;
  for (int attempt = 0; attempt < 2 + cc.retry.max_retries; attempt++) {
    const int worker = rt::current_worker();
    const size_t e = balancer.pick({worker, hash_key, excluded});
    rec_.endpoint = e;
    rec_.upstream_start_ns = nowNs();
    // A retry never trusts the pool again. The pool may also close stale
    // connections while taking one: the size change is the idle delta.
    upstream::IdlePool& pool = cluster.pool(worker, e);
    const size_t idle_before = pool.size();
    // A connection that carries a PROXY header belongs to this client: never pooled.
    const bool private_conn =
        cc.send_proxy_protocol != config::ClusterConfig::SendProxyProtocol::kOff;
    Stream up = attempt == 0 && !private_conn ? pool.take(nowNs()) : Stream{};
    const auto idle_delta =
        static_cast<int64_t>(pool.size()) - static_cast<int64_t>(idle_before);
    cluster.noteConnections(worker, idle_delta, 0);
    const bool reused = up.valid();
    std::error_code ec;
    if (!reused) {
      if (!cluster.limits().tryReserveConnect()) {
        cluster.noteEvent(worker, proxy::metrics::ClusterEvent::kOverflowConnections);
        respondError(503, "upstream connection limit reached\n", req.method == Method::kHead);
        return Outcome::kClose;
      }
      // send_proxy_protocol: the header goes first, on the TCP connection (before TLS).
      char pp_header[proxy::proxy_protocol::kMaxWrittenHeader];
      size_t pp_len = 0;
      if (private_conn) {
        const auto& src = client_addresses_[0];
        const auto& dst = client_addresses_[1];
        pp_len = cc.send_proxy_protocol == config::ClusterConfig::SendProxyProtocol::kV1
                     ? proxy::proxy_protocol::writeV1(src, dst, pp_header, sizeof pp_header)
                     : proxy::proxy_protocol::writeV2(src, dst, pp_header, sizeof pp_header);
      }
      bool tls_failed = false;
      up = connectUpstream(cluster, e, earlier(after(cc.timeouts.connect), request_deadline), ec,
                           tls_failed, std::string_view(pp_header, pp_len));
      // The reservation ends here: a live connection is counted below like any other.
      cluster.limits().releaseConnect();
      if (ec) {
        health.report(e, proxy::health::UpstreamResult::kConnectFailure);
        // Nothing reached the upstream and the body is unread: any method may go again,
        // to another endpoint (a one-endpoint cluster would only hit the same failure).
        if (cc.endpoints.size() > 1 &&
            retryAfter(proxy::resilience::RetryPolicy::Failure::kConnect, 0)) {
          excluded = e;
          continue;
        }
        const char* why = tls_failed        ? "upstream TLS handshake failed\n"
                          : isTimeout(ec)   ? "upstream connect timed out\n"
                                            : "upstream unreachable\n";
        respondError(isTimeout(ec) ? 504 : 502, why, req.method == Method::kHead);
        return Outcome::kClose;
      }

    }
    balancer.onRequestStart(e);
    struct EndGuard {
      proxy::Balancer& b;
      size_t e;
      ~EndGuard() { b.onRequestEnd(e); }
    } end_guard{balancer, e};
    // The connection is active until it goes back to a pool; every other
    // way out (errors, retries, tunnels, close) ends it here.
    struct ActiveGuard {
      const ClusterRuntime& c;
      bool counted = true;
      ~ActiveGuard() {
        if (counted) c.noteConnections(rt::current_worker(), 0, -1);
      }
    } active_guard{cluster};
    // connect() may have parked: count from the worker we are on now.
    cluster.noteConnections(rt::current_worker(), 0, +1);

    up.setWriteDeadline(earlier(after(listener_.timeouts.idle), request_deadline));
    up.write(bufs_.out, out_len, ec);
    if (ec) {
      up.close();
      if (reused && may_retry && !free_retry_used) {
        free_retry_used = true;
        continue;
      }
      health.report(e, proxy::health::UpstreamResult::kGatewayFailure);
      if (retryAfter(proxy::resilience::RetryPolicy::Failure::kReset, 0)) {
        excluded = e;
        continue;
      }
      respondError(502, "upstream write failed\n", req.method == Method::kHead);
      return Outcome::kClose;
    }

    // Stream the request body (raw framing) while the client sends it.
    if (!request_parsed && req.expect_continue && req.version_minor >= 1 &&
        in_.begin == in_.end) {
      static constexpr char k100[] = "HTTP/1.1 100 Continue\r\n\r\n";
      if (!writeClient(k100, sizeof k100 - 1)) return Outcome::kClose;
      sent_100 = true;
    }
    // The body: what is buffered goes now. If more is to come, a second Task
    // streams it while this one reads the response, so an upstream that answers
    // before reading the whole body (413, 401, a redirect) is heard at once
    // instead of both sides waiting on full buffers until a timeout.
    bool request_upgraded = false;
    struct BodyTask {
      rt::WaitGroup done;
      std::atomic<bool> finished{false};
      std::atomic<bool> client_done{false};  // it has read the whole body from the client
      BodyResult result = BodyResult::kComplete;
      bool running = false;
    } body;
    if (!request_parsed) {
      const BodyResult first =
          forwardBody(rp, up, request_deadline, /*read_client=*/false, &request_upgraded);
      if (first == BodyResult::kComplete) {
        request_parsed = true;
      } else if (first == BodyResult::kNeedMore) {
        body.running = true;
        body.done.add(1);
        rt::go([this, &rp, &up, &body, &request_upgraded, request_deadline] {
          body.result =
              forwardBody(rp, up, request_deadline, true, &request_upgraded, &body.client_done);
          const bool failed_here = body.result == BodyResult::kBadRequest ||
                                   body.result == BodyResult::kClientGone ||
                                   body.result == BodyResult::kClientTimeout;
          body.finished.store(true, std::memory_order_release);
          // The response reader may be waiting for an upstream that waits for the
          // rest of this body: wake it to answer the client (400/408) instead.
          if (failed_here) up.interrupt();
          body.done.done();
        });
      } else if (first == BodyResult::kBadRequest) {
        up.close();
        respondError(body_error_.status, body_error_.reason, false);
        return Outcome::kClose;
      } else {
        up.close();
        respondError(502, "upstream write failed\n", false);
        return Outcome::kClose;
      }
    }
    // Every way out below ends the body Task first: it uses `up`, the client and
    // this Exchange. Stopping it interrupts both sockets, which is final; callers
    // close the connection afterwards anyway.
    auto stopBody = [&] {
      if (!body.running) return;
      body.running = false;
      if (!body.finished.load(std::memory_order_acquire)) {
        client_.interrupt();
        up.interrupt();
      }
      body.done.wait();
    };
    struct StopBodyGuard {
      decltype(stopBody)& stop;
      ~StopBodyGuard() { stop(); }
    } stop_body_guard{stopBody};

    // Read the response: interim ones relayed, the final one streamed.
    http::http1::ParserLimits ulimits;
    ulimits.max_head_bytes = static_cast<uint32_t>(cap_);
    ResponseParser rsp(ulimits);
    rsp.expectResponseTo(req.method, req.upgrade);
    Window uw{bufs_.up, up_cap_};
    bool head_sent = false;
    bool got_bytes = false;
    bool client_keep = false;
    bool upstream_reusable = false;
    bool tunnel = false;
    bool retry = false;
    // response_header counts from the end of the request: while a body Task still
    // streams the body it has not started (a long upload is not a slow upstream),
    // so the read below polls until the body is done and then starts it.
    Deadline header_deadline =
        body.running ? kNoDeadline : earlier(after(cc.timeouts.response_header), request_deadline);
    bool header_clock_started = !body.running;
    auto nextHeaderDeadline = [&]() -> Deadline {
      if (!header_clock_started && body.finished.load(std::memory_order_acquire)) {
        header_clock_started = true;
        header_deadline = earlier(after(cc.timeouts.response_header), request_deadline);
      }
      if (header_clock_started) return header_deadline;
      return earlier(rt::coarse_now() + kBodyPollInterval, request_deadline);
    };
    auto closeUp = [&] {
      stopBody();
      up.close();
    };
    for (;;) {
      ParseResult r = rsp.execute(uw.buf + uw.begin, uw.end - uw.begin);
      if (r.event == ParseEvent::kError) {
        if (!head_sent) respondError(502, "invalid response from upstream\n", false);
        closeUp();
        return Outcome::kClose;
      }
      if (r.event == ParseEvent::kHeadComplete) {
        uw.begin += r.consumed;
        const http::ResponseHead& rh = rsp.head();
        if (!rh.isInterim()) {
          balancer.observeLatency(e, nowNs() - rec_.upstream_start_ns);
          health.report(e, rh.status >= 500 ? proxy::health::UpstreamResult::kServerError
                                             : proxy::health::UpstreamResult::kSuccess);
          // A retryable status (retry_on): drop this response unseen and go again, if
          // the policy and the budget allow. The connection is mid-response: closed.
          if (!head_sent && retry_policy.wantsStatus(rh.status) &&
              retryAfter(proxy::resilience::RetryPolicy::Failure::kStatus, rh.status)) {
            up.close();
            excluded = e;
            retry = true;
            break;
          }
        }
        if (rh.isInterim()) {
          // 1xx goes to HTTP/1.1 clients only, and one 100 is enough.
          if (req.version_minor >= 1 && !(rh.status == 100 && sent_100)) {
            http::http1::ResponseWriteOptions ro;
            ro.keep_alive = true;
            ro.client_version_minor = req.version_minor;
            auto n = http::http1::writeResponseHead({bufs_.out, cap_}, rh, ro);
            if (!n || !writeClient(bufs_.out, *n)) {
              closeUp();
              return Outcome::kClose;
            }
          }
        } else {
          tunnel = rh.upgrade;
          // A drain that began after the request arrived still ends the
          // connection with this response, and says so.
          client_keep = req.keep_alive && !server_.draining() && !tunnel &&
                        rh.framing != BodyFraming::kUntilClose &&
                        !(req.version_minor == 0 && rh.framing == BodyFraming::kChunked);
          upstream_reusable = rh.keep_alive && !tunnel;
          http::http1::ResponseWriteOptions ro;
          ro.keep_alive = client_keep;
          ro.client_version_minor = req.version_minor;
          auto n = http::http1::writeResponseHead({bufs_.out, cap_}, rh, ro);
          if (!n) {
            respondError(502, "response head too large\n", false);
            closeUp();
            return Outcome::kClose;
          }
          rec_.status = rh.status;
          holdHead(*n);
          head_sent = true;
        }
        uw.dropConsumed();
        continue;
      }
      if (r.body_wire_bytes > 0 && !writeClient(uw.buf + uw.begin, r.body_wire_bytes)) {
        closeUp();
        return Outcome::kClose;
      }
      uw.begin += r.consumed;
      if (r.event == ParseEvent::kMessageComplete) {
        if (!head_sent) {  // an interim response ended; the final one follows
          uw.dropConsumed();
          continue;
        }
        break;
      }
      if (r.event == ParseEvent::kUpgrade) break;
      // kNeedMore / kBodyData: read more from the upstream.
      if (head_sent) {
        uw.dropConsumed();
      } else if (uw.full()) {
        uw.compact();
      }
      if (uw.full()) {
        respondError(502, "response head too large\n", false);
        closeUp();
        return Outcome::kClose;
      }
      // Once the body streams, each read is bounded by the listener's idle
      // timeout, as client body reads and tunnels are: an upstream that
      // stalls mid-body must not hold the connection forever when the
      // request timeout is off (its default).
      if (!flushHeldHead()) {  // the client sees the head while the body is awaited
        closeUp();
        return Outcome::kClose;
      }
      up.setReadDeadline(head_sent ? earlier(after(listener_.timeouts.idle), request_deadline)
                                   : nextHeaderDeadline());
      size_t n = up.read(uw.buf + uw.end, up_cap_ - uw.end, ec);
      if (!ec) {
        uw.end += n;
        got_bytes = true;
        continue;
      }
      if (isEof(ec)) {
        ParseResult f = rsp.finish();
        if (f.event == ParseEvent::kMessageComplete && head_sent) {
          upstream_reusable = false;
          break;
        }
      }
      if (!head_sent && reused && may_retry && !got_bytes && !isTimeout(ec) &&
          !free_retry_used) {
        free_retry_used = true;
        up.close();  // a retried request has no body: no body Task
        retry = true;  // the pooled connection was dead: once more, fresh
        break;
      }
      if (isTimeout(ec) && !head_sent && !header_clock_started) {
        // The body is still arriving: a poll ran out, or the request deadline did
        // (then the client stalled the body, which is a 408, not the upstream's 504).
        if (rt::coarse_now() < request_deadline) continue;
        respondError(408, "request body timed out\n", false);
        closeUp();
        return Outcome::kClose;
      }
      const bool body_failed =
          ec == std::errc::operation_canceled && body.finished.load(std::memory_order_acquire);
      if (!head_sent && !body_failed) {
        health.report(e, proxy::health::UpstreamResult::kGatewayFailure);
        // A reset before any response byte: an idempotent request (no body, so no body
        // Task) may go to another endpoint.
        if (!got_bytes && !isTimeout(ec) &&
            retryAfter(proxy::resilience::RetryPolicy::Failure::kReset, 0)) {
          up.close();
          excluded = e;
          retry = true;
          break;
        }
      }
      if (body_failed) {
        // The body Task failed and woke us: answer for the client's fault.
        if (!head_sent && body.result == BodyResult::kBadRequest) {
          respondError(body_error_.status, body_error_.reason, false);
        } else if (!head_sent && body.result == BodyResult::kClientTimeout) {
          respondError(408, "request body timed out\n", false);
        }
      } else if (!head_sent) {
        respondError(isTimeout(ec) ? 504 : 502,
                     isTimeout(ec) ? "upstream response timed out\n"
                                   : "upstream closed the connection\n",
                     req.method == Method::kHead);
      }
      closeUp();
      return Outcome::kClose;
    }
    if (retry) continue;
    // A bodiless response (204, 304, HEAD, Content-Length: 0) ends with its head.
    if (!flushHeldHead()) {
      closeUp();
      return Outcome::kClose;
    }
    if (body.running) {
      // The response is complete. Normally the body was all sent before it (its
      // Task's last write may still be returning: let it finish); otherwise the
      // upstream answered early, and the rest of the body will never be read, so
      // neither connection can be reused.
      for (int i = 0; i < 64 && !body.finished.load(std::memory_order_acquire); i++) rt::yield();
      // A body Task that has read the whole body has only its last upstream write
      // left; its thread may have been descheduled right there (a busy host). Closing
      // a healthy client connection for that would be wrong: wait for it a little
      // (at most about 10 ms).
      for (int i = 0; i < 200 && !body.finished.load(std::memory_order_acquire) &&
                      body.client_done.load(std::memory_order_acquire);
           i++) {
        rt::sleep_for(std::chrono::microseconds(50));
      }
      const bool complete =
          body.finished.load(std::memory_order_acquire) && body.result == BodyResult::kComplete;
      stopBody();
      if (complete) {
        request_parsed = true;
      } else {
        client_keep = false;
        upstream_reusable = false;
      }
    }

    if (tunnel) {
      // Upgraded (101, or CONNECT 2xx): raw bytes both ways until either
      // side ends. Bytes already read on either side go first.
      // Write errors here surface in the pumps' first operation.
      std::error_code wec;
      if (in_.end > in_.begin) up.write(in_.buf + in_.begin, in_.end - in_.begin, wec);
      if (uw.end > uw.begin) writeClient(uw.buf + uw.begin, uw.end - uw.begin);
      in_.begin = in_.end = in_.message_start = 0;
      rt::WaitGroup done;
      done.add(1);
      const Ns idle = listener_.timeouts.idle;
      rt::go([&] {
        pump(up, client_, bufs_.up, up_cap_, idle);
        done.done();
      });
      pump(client_, up, bufs_.in, cap_, idle);
      done.wait();
      closeUp();
      return Outcome::kClose;
    }
    if (request_upgraded) rp.resumeAfterDeclinedUpgrade();

    if (upstream_reusable && uw.begin == uw.end && !private_conn) {
      // Back to the pool of the worker we are on now (pools are caches). A
      // full pool closes its oldest: the size change is the idle delta.
      const int now_worker = rt::current_worker();
      upstream::IdlePool& back = cluster.pool(now_worker, e);
      const size_t before = back.size();
      back.put(std::move(up), nowNs());
      cluster.noteConnections(
          now_worker, static_cast<int64_t>(back.size()) - static_cast<int64_t>(before), -1);
      active_guard.counted = false;
    } else {
      closeUp();
    }
    return client_keep ? Outcome::kKeepAlive : Outcome::kClose;
  }
  respondError(502, "upstream unavailable\n", req.method == Method::kHead);
  return Outcome::kClose;
}

}  // namespace

// ---------------------------------------------------------------------------

ClientConnection::ClientConnection(Server* server, std::shared_ptr<ListenerHandle> listener,
                                   TcpConn conn)
    : server_(server), listener_(std::move(listener)), conn_(Stream(std::move(conn))),
      accepted_ns_(nowNs()) {
  rt::net::Address peer = conn_.peerAddress();
  const void* addr = nullptr;
  if (peer.family() == AF_INET) {
    addr = &reinterpret_cast<const sockaddr_in*>(&peer.storage)->sin_addr;
  } else if (peer.family() == AF_INET6) {
    addr = &reinterpret_cast<const sockaddr_in6*>(&peer.storage)->sin6_addr;
  }
  if (addr != nullptr && inet_ntop(peer.family(), addr, client_ip_, sizeof client_ip_)) {
    client_ip_len_ = static_cast<uint8_t>(std::strlen(client_ip_));
  }
  client_addresses_[0] = toProxyProtocolAddress(peer);
  client_addresses_[1] = toProxyProtocolAddress(conn_.localAddress());
  listener_->active.fetch_add(1, std::memory_order_relaxed);
  server_->addConnection(this);
  // Counted open and closed on the same snapshot's counters (the collector
  // sums snapshots, so the gauge balances across reloads).
  std::shared_ptr<const ProxyState> state = server_->state();
  const size_t slot = state->listenerSlot(listener_.get());
  if (slot != SIZE_MAX) {
    first_bytes_timeout_ = state->config->listeners[slot].timeouts.header_read;
  }
  if (state->stats != nullptr && slot != SIZE_MAX) {
    opened_stats_ = state->stats;
    opened_listener_ = slot;
    opened_stats_->connectionOpened(rt::current_worker(), slot);
  }
}

ClientConnection::~ClientConnection() {
  if (opened_stats_ != nullptr) {
    opened_stats_->connectionClosed(rt::current_worker(), opened_listener_);
  }
  server_->removeConnection(this);
  listener_->active.fetch_sub(1, std::memory_order_relaxed);
}

void ClientConnection::start(Server* server, std::shared_ptr<ListenerHandle> listener,
                             TcpConn conn) {
  auto* c = new ClientConnection(server, std::move(listener), std::move(conn));
  if (c->first_bytes_timeout_.count() <= 0) {
    rt::go([c] { taskEntry(c); });  // the listener is gone (a reload): serve() closes it
    return;
  }
  // Until its first bytes arrive a fresh connection is an idle one: no Task and no
  // buffer, closed silently by the timer after header_read (as a silent connection
  // always was), and closed by a drain after kFreshDrainGrace instead of holding it
  // for header_read. Bytes that came with the handshake are already an edge: the
  // hook starts at once.
  c->goIdle(c->first_bytes_timeout_);
}

void ClientConnection::release() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

void ClientConnection::closeAndRelease() {
  conn_.close();
  release();
}

void ClientConnection::taskEntry(void* self) { static_cast<ClientConnection*>(self)->serve(); }

void ClientConnection::onReadable(void* self) {
  // A fresh Task: bytes (or EOF) arrived on an idle connection.
  auto* c = static_cast<ClientConnection*>(self);
  // The connection may still be arming (hook first, then state): wait for
  // it; that takes a few hundred instructions on another thread.
  for (int i = 0; i < 100000 && c->state_.load(std::memory_order_acquire) == kArming; i++) {
    rt::yield();
  }
  int expected = kIdle;
  if (!c->state_.compare_exchange_strong(expected, kActive, std::memory_order_acq_rel)) {
    // The idle timer (or a drain) won but could not disarm us: closing is
    // ours, once the winner has stopped touching the socket (kClosing ->
    // kHookCloses; it is in the middle of its disarm call).
    for (int i = 0; i < 100000 && c->state_.load(std::memory_order_acquire) == kClosing; i++) {
      rt::yield();
    }
    // A drain leaves the timer armed: stop it, or its reference would keep
    // this object (in the registry, and counted against max_connections)
    // until the idle timeout.
    if (c->idle_timer_.cancel()) c->release();
    c->closeAndRelease();
    return;
  }
  if (c->idle_timer_.cancel()) c->release();  // the timer's reference
  c->serve();
}

void ClientConnection::onIdleTimeout(void* self) {
  // Runs on a scheduler thread's stack, between Tasks: non-blocking only.
  auto* c = static_cast<ClientConnection*>(self);
  if (c->state_.load(std::memory_order_acquire) == kArming) {
    // Still arming (a very short idle timeout): look again shortly. The
    // timer keeps its reference.
    c->idle_timer_.arm(rt::coarse_now() + std::chrono::milliseconds(1), &onIdleTimeout, c);
    return;
  }
  int expected = kIdle;
  if (c->state_.compare_exchange_strong(expected, kClosing, std::memory_order_acq_rel)) {
    if (c->conn_.disarmOnReadable()) {
      c->conn_.close();
      c->release();  // the owner's reference: no Task will run for it
    } else {
      // The hook's Task has started: it closes, from now on.
      c->state_.store(kHookCloses, std::memory_order_release);
    }
  }
  c->release();  // the timer's reference
}

bool ClientConnection::closeIfIdle(int64_t now_ns) {
  // A fresh connection gets a moment to send its first request (see serve()).
  if (!activated_.load(std::memory_order_acquire) &&
      now_ns - accepted_ns_ < std::chrono::nanoseconds(kFreshDrainGrace).count()) {
    return false;
  }
  int expected = kIdle;
  if (!state_.compare_exchange_strong(expected, kClosing, std::memory_order_acq_rel)) return false;
  if (!conn_.disarmOnReadable()) {
    // Its hook Task has started and closes it, from now on: after this
    // store this object may be gone.
    state_.store(kHookCloses, std::memory_order_release);
    return false;
  }
  // The owner's reference is still held, so this never frees the object.
  if (idle_timer_.cancel()) refs_.fetch_sub(1, std::memory_order_acq_rel);
  conn_.close();
  return true;
}

void ClientConnection::finishClose() { release(); }

void ClientConnection::armIdleTimer(Ns delay) {
  // acq_rel: orders this arming after a previous firing's last access.
  refs_.fetch_add(1, std::memory_order_acq_rel);
  idle_timer_.arm(rt::coarse_now() + delay, &onIdleTimeout, this);
}

void ClientConnection::goIdle(Ns idle_timeout) {
  state_.store(kArming, std::memory_order_release);
  if (idle_timeout.count() > 0) armIdleTimer(idle_timeout);
  conn_.armOnReadable(&onReadable, this);
  // From here another Task may own the connection: touch only state_.
  state_.store(kIdle, std::memory_order_release);
}

bool ClientConnection::readProxyHeader(char* buf, size_t cap, Ns timeout, bool exact,
                                       size_t* begin, size_t* end) {
  namespace pp = proxy::proxy_protocol;
  const Deadline deadline = after(timeout);
  size_t have = 0;
  // Bounded: each round reads at least one byte or returns, and a header is at most
  // 16 + kMaxV2Payload bytes (the parser refuses longer ones).
  while (have < cap) {
    std::error_code ec;
    conn_.setReadDeadline(deadline);
    // `exact` (a TLS listener): the bytes after the header are the TLS handshake's and
    // must stay in the socket, so never read past the header: a v2 header's length is
    // known after 16 bytes; a v1 header is read a byte at a time (at most 107).
    size_t want = cap - have;
    if (exact) {
      want = 1;
      if (have >= 16 && static_cast<uint8_t>(buf[0]) == 0x0D) {
        want = 16 + ((static_cast<size_t>(static_cast<uint8_t>(buf[14])) << 8) |
                     static_cast<uint8_t>(buf[15])) - have;
        if (want == 0 || want > cap - have) want = 1;
      } else if (static_cast<uint8_t>(buf[0]) == 0x0D || have == 0) {
        want = have == 0 ? 1 : 16 - have;
      }
    }
    const size_t n = conn_.read(buf + have, want, ec);
    if (ec) return false;
    have += n;
    const pp::Result r =
        pp::parse({reinterpret_cast<const uint8_t*>(buf), have});
    if (r.status == pp::Status::kError) return false;
    if (r.status == pp::Status::kNeedMore) continue;
    char text[sizeof client_ip_];
    const size_t len = pp::formatIp(r.header.source, text, sizeof text);
    if (len > 0) {  // else LOCAL/UNKNOWN: the peer address stands
      std::memcpy(client_ip_, text, len);
      client_ip_len_ = static_cast<uint8_t>(len);
      client_addresses_[0] = r.header.source;
      client_addresses_[1] = r.header.destination;
    }
    *begin = r.consumed;
    *end = have;
    return true;
  }
  return false;
}

bool ClientConnection::handshake(const ProxyState& state, size_t listener_index,
                                 const config::ListenerConfig& lc) {
  handshake_done_ = true;
  if (!lc.tls) return true;
  const tls::ServerContext* ctx = state.listener_tls[listener_index].get();
  SSL* ssl = ctx != nullptr ? ctx->newSession() : nullptr;
  using proxy::metrics::TlsHandshakeResult;
  TlsHandshakeResult result = TlsHandshakeResult::kFailure;
  if (ssl != nullptr) {
    conn_.startTls(ssl);
    // Bounded like a request head: a client that stalls mid-handshake is a slowloris.
    conn_.setDeadline(after(lc.timeouts.header_read));
    const std::error_code ec = conn_.handshake();
    if (!ec) {
      result = conn_.resumed() ? TlsHandshakeResult::kResumed : TlsHandshakeResult::kSuccess;
    } else if (isTimeout(ec)) {
      result = TlsHandshakeResult::kTimeout;
    } else if (isEof(ec) || ec == std::errc::connection_reset) {
      result = TlsHandshakeResult::kClosed;
    }
  }
  if (state.stats != nullptr) state.stats->tlsHandshake(rt::current_worker(), listener_index, result);
  return result == TlsHandshakeResult::kSuccess || result == TlsHandshakeResult::kResumed;
}

void ClientConnection::serve() {
  rt::track_sched_delay(true);
  // A fresh connection's first request is served even while draining: its client
  // connected before the listener closed and, unlike a kept-alive one, has no
  // reason to retry elsewhere if it is closed unanswered.
  const bool first_activation = !activated_.exchange(true, std::memory_order_acq_rel);
  bool may_idle = false;
  Ns idle{0};
  {
    Buffers bufs(server_->buffers(), server_->upstreamBuffers());
    size_t pending_begin = 0, pending_end = 0;
    for (bool continuing = false;; continuing = true) {
      // The generation first: a reload in between costs one more round.
      const uint64_t generation = server_->stateGeneration();
      std::shared_ptr<const ProxyState> state = server_->state();
      const size_t li = state->listenerSlot(listener_.get());
      const bool stopping =
          server_->draining() || listener_->stopping.load(std::memory_order_acquire);
      const bool first_request = first_activation && !continuing;
      if (li == SIZE_MAX || (stopping && !first_request)) {
        break;  // the listener went away in a reload, or we drain: close
      }
      const config::ListenerConfig& lc = state->config->listeners[li];
      idle = lc.timeouts.idle;
      if (!proxy_header_read_) {
        proxy_header_read_ = true;
        if (lc.proxy_protocol &&
            !readProxyHeader(bufs.in, server_->buffers().bufferSize(), lc.timeouts.header_read,
                             lc.tls.has_value(), &pending_begin, &pending_end)) {
          break;  // no valid PROXY header: close without a word, as HAProxy does
        }
      }
      if (!handshake_done_ && !handshake(*state, li, lc)) break;
      Exchange ex(*server_, *state, generation, lc, li, conn_, clientIp(), client_addresses_,
                  bufs, continuing,
                  pending_begin, pending_end);
      const Exchange::Next next = ex.run();
      if (next != Exchange::Next::kReload) {
        may_idle = next == Exchange::Next::kIdle;
        break;
      }
      pending_begin = ex.pendingBegin();
      pending_end = ex.pendingEnd();
    }  // an idle connection pins no config snapshot
  }
  if (!may_idle || server_->draining()) {
    closeAndRelease();
    return;
  }
  goIdle(idle);
}

}  // namespace switchyard::server
