#include "proxy/admin/admin_server.h"

#include <cctype>
#include <sstream>

#include "proxy/http/http1/parser.h"
#include "proxy/http/http1/writer.h"
#include "runtime/runtime.h"

namespace switchyard::admin {
namespace {
constexpr size_t kBufSize = 8 * 1024;
constexpr auto kAdminIoTimeout = std::chrono::seconds(10);
}  // namespace

AdminServer::AdminServer(server::Server& proxy, config::ConfigStore& store,
                         std::function<std::string()> metrics)
    : proxy_(proxy), store_(store), metrics_(std::move(metrics)) {}

AdminServer::~AdminServer() { stop(); }

std::error_code AdminServer::start(const std::string& address, std::string& error_text,
                                   int inherited_fd) {
  std::error_code ec;
  socket_ = inherited_fd >= 0 ? rt::net::TcpListener::adopt(inherited_fd, ec)
                              : rt::net::TcpListener::bind(address, rt::net::ListenOptions{}, ec);
  if (ec) {
    error_text = address + ": " + ec.message();
    return ec;
  }
  bound_ = socket_.localAddress();
  tasks_.add(1);
  rt::go([this] {
    acceptLoop();
    tasks_.done();
  });
  return {};
}

void AdminServer::stop() {
  if (!socket_.valid() || stopping_.exchange(true)) return;
  socket_.interrupt();
  {
    std::lock_guard<std::mutex> lock(conns_mu_);
    for (rt::net::TcpConn* c : conns_) c->interrupt();  // sticky: a later read fails too
  }
  tasks_.wait();
  socket_.close();
}

void AdminServer::acceptLoop() {
  while (!stopping_.load(std::memory_order_acquire)) {
    std::error_code ec;
    rt::net::TcpConn conn = socket_.accept(ec);
    if (ec) {
      if (ec == std::errc::operation_canceled || stopping_.load()) break;
      rt::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    tasks_.add(1);
    rt::go([this, c = std::move(conn)]() mutable {
      serve(std::move(c));
      tasks_.done();
    });
  }
}

std::string AdminServer::redactConfig(const std::string& text) {
  std::istringstream in(text);
  std::string out, line;
  while (std::getline(in, line)) {
    // `key = "..."` (a private key's path), alone or inside an inline table.
    size_t pos = 0;
    while ((pos = line.find("key", pos)) != std::string::npos) {
      const bool word_start = pos == 0 || !(std::isalnum(static_cast<unsigned char>(line[pos - 1])) ||
                                            line[pos - 1] == '_');
      size_t eq = line.find_first_not_of(" \t", pos + 3);
      if (word_start && eq != std::string::npos && line[eq] == '=') {
        size_t q1 = line.find('"', eq);
        size_t q2 = q1 == std::string::npos ? q1 : line.find('"', q1 + 1);
        if (q2 != std::string::npos) {
          line.replace(q1, q2 - q1 + 1, "\"<redacted>\"");
        }
      }
      pos += 3;
    }
    out += line;
    out += '\n';
  }
  return out;
}

void AdminServer::serve(rt::net::TcpConn conn) {
  {
    std::lock_guard<std::mutex> lock(conns_mu_);
    if (stopping_.load(std::memory_order_acquire)) return;
    conns_.push_back(&conn);
  }
  struct Unregister {
    AdminServer* self;
    rt::net::TcpConn* conn;
    ~Unregister() {
      std::lock_guard<std::mutex> lock(self->conns_mu_);
      std::erase(self->conns_, conn);
    }
  } unregister{this, &conn};
  std::string inbuf(kBufSize, '\0');
  std::string out(kBufSize, '\0');
  http::http1::RequestParser rp;
  size_t begin = 0, end = 0;
  for (;;) {
    http::http1::ParseResult r;
    for (;;) {
      r = rp.execute(inbuf.data() + begin, end - begin);
      begin += r.consumed;
      if (r.event == http::http1::ParseEvent::kHeadComplete ||
          r.event == http::http1::ParseEvent::kError) {
        break;
      }
      if (r.event == http::http1::ParseEvent::kMessageComplete) continue;
      if (end == inbuf.size()) return;  // admin requests are small
      std::error_code ec;
      conn.setReadDeadline(rt::net::Clock::now() + kAdminIoTimeout);
      size_t n = conn.read(inbuf.data() + end, inbuf.size() - end, ec);
      if (ec) return;
      end += n;
    }
    int status = 200;
    std::string body;
    std::string_view type = "text/plain; charset=utf-8";
    bool keep = false;
    bool head_request = false;
    if (r.event == http::http1::ParseEvent::kError) {
      status = r.error.status;
      body = std::string(r.error.reason) + "\n";
    } else {
      const http::RequestHead& h = rp.head();
      keep = h.keep_alive && h.framing == http::BodyFraming::kNone;
      head_request = h.method == http::Method::kHead;
      const std::string_view path = h.path;
      if (h.method != http::Method::kGet && h.method != http::Method::kHead) {
        status = 405;
        body = "only GET and HEAD\n";
      } else if (path == "/healthz") {
        body = "ok\n";
      } else if (path == "/readyz") {
        std::string why;
        const bool ready = proxy_.ready(why);
        status = ready ? 200 : 503;
        body = ready ? "ready\n" : "not ready: " + why + "\n";
      } else if (path == "/metrics") {
        body = metrics_ ? metrics_() : std::string();
        type = "text/plain; version=0.0.4; charset=utf-8";
      } else if (path == "/debug/sched") {
        body = rt::formatSchedTrace(rt::snapshot(true), true);
      } else if (path == "/config") {
        body = redactConfig(store_.current()->source_text);
      } else {
        status = 404;
        body = "not found\n";
      }
    }
    http::http1::SimpleResponse resp;
    resp.status = status;
    resp.body = body;
    resp.content_type = type;
    resp.keep_alive = keep;
    resp.head_request = head_request;
    if (out.size() < body.size() + 1024) out.resize(body.size() + 1024);
    auto n = http::http1::writeSimpleResponse({out.data(), out.size()}, resp);
    if (!n) return;
    std::error_code ec;
    conn.setWriteDeadline(rt::net::Clock::now() + kAdminIoTimeout);
    conn.write(out.data(), *n, ec);
    if (ec || !keep) return;
    // Skip the (empty) rest of the message and serve the next request.
    r = rp.execute(inbuf.data() + begin, end - begin);
    begin += r.consumed;
    if (begin == end) begin = end = 0;
  }
}

}  // namespace switchyard::admin
