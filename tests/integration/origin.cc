#include "tests/integration/origin.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace switchyard::itest {

bool OriginConn::readRequest(Message& out) {
  if (!itest::readRequest(stream, out)) return false;
  origin.requests_.fetch_add(1);
  Message copy = out;
  if (copy.body.size() > 64 * 1024) copy.body.resize(64 * 1024);
  std::lock_guard<std::mutex> lock(origin.mu_);
  origin.received_.push_back(std::move(copy));
  return true;
}

Origin::Origin(Handler handler, const char* ip, int backlog, uint16_t port)
    : handler_(std::move(handler)), ip_(ip) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  ::inet_pton(AF_INET, ip, &sa.sin_addr);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::listen(listen_fd_, backlog) != 0) {
    std::perror("origin: bind/listen");
    std::abort();
  }
  socklen_t len = sizeof sa;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&sa), &len);
  port_ = ntohs(sa.sin_port);
  accept_thread_ = std::thread([this] { acceptLoop(); });
}

Origin::~Origin() { stop(); }

std::string Origin::address() const { return ip_ + ":" + std::to_string(port_); }

std::vector<Message> Origin::received() const {
  std::lock_guard<std::mutex> lock(mu_);
  return received_;
}

bool Origin::eventually(const std::function<bool()>& pred, Ms timeout) {
  const auto end = Clock::now() + patience(timeout);
  while (!pred()) {
    if (Clock::now() >= end) return pred();
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

void Origin::acceptLoop() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // shut down by stop()
    }
    if (stopping_.load()) {
      ::close(fd);
      return;
    }
    const int index = accepts_.fetch_add(1) + 1;
    std::lock_guard<std::mutex> lock(mu_);
    const size_t slot = conn_fds_.size();
    conn_fds_.push_back(fd);
    conn_threads_.emplace_back([this, fd, index, slot] {
      OriginConn conn{*this, Stream(fd, &bytes_), index};
      conn.stream.setTimeout(patience(20s));
      handler_(conn);
      std::lock_guard<std::mutex> l(mu_);
      ::close(fd);
      conn_fds_[slot] = -1;
    });
  }
}

void Origin::stop() {
  if (stopping_.exchange(true)) return;
  ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept() on Linux
  accept_thread_.join();
  ::close(listen_fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : conn_fds_) {
      if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
    }
    threads.swap(conn_threads_);
  }
  for (auto& t : threads) t.join();
}

std::string hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

Origin::Handler httpHandler(Responder respond) {
  return [respond = std::move(respond)](OriginConn& conn) {
    for (;;) {
      Message req;
      if (!conn.readRequest(req)) return;
      std::string resp = respond(req, conn);
      if (!conn.send(resp)) return;
      const std::string connection = req.header("Connection");
      const bool close = containsIgnoreCase(connection, "close") ||
                         (req.version == "HTTP/1.0" && !containsIgnoreCase(connection, "keep-alive")) ||
                         containsIgnoreCase(resp.substr(0, resp.find("\r\n\r\n")), "Connection: close");
      if (close) return;
    }
  };
}

std::string echoResponse(const Message& request, OriginConn& conn) {
  return makeResponse(200, "origin " + request.method + " " + request.target,
                      {{"X-Origin-Conn", std::to_string(conn.index)},
                       {"X-Request-Body-Hash", hex(fnv1a(request.body))},
                       {"X-Request-Body-Length", std::to_string(request.body.size())}});
}

Origin::Handler echoHandler() { return httpHandler(echoResponse); }

}  // namespace switchyard::itest
