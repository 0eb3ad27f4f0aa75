// Origin: an upstream server for the integration tests, on plain threads
// with blocking sockets (one thread per connection), independent of the
// runtime under test.
//
// It counts what reaches it — accepted connections, bytes, complete
// requests — so a test can assert that a refused request never reached it,
// and keeps a copy of each request head it parsed so a test can look at
// the fields the proxy forwarded. A handler owns each connection; the
// helpers below build the usual ones.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/http_wire.h"

namespace switchyard::itest {

class Origin;

// One accepted upstream connection, as its handler sees it.
struct OriginConn {
  Origin& origin;
  Stream stream;
  int index;  // accept order, from 1

  // Reads one request (counting it and keeping a copy); false at EOF.
  bool readRequest(Message& out);
  bool send(std::string_view bytes) { return stream.sendAll(bytes); }
};

class Origin {
 public:
  using Handler = std::function<void(OriginConn&)>;

  // Binds ip:port (0: any free port), listens with `backlog`, starts accepting. A fixed
  // port lets a test bring an endpoint back where a stopped Origin was.
  explicit Origin(Handler handler, const char* ip = "127.0.0.1", int backlog = 128,
                  uint16_t port = 0);
  ~Origin();
  Origin(const Origin&) = delete;
  Origin& operator=(const Origin&) = delete;

  // Stops accepting, unblocks and joins every connection thread.
  void stop();

  uint16_t port() const { return port_; }
  std::string address() const;  // "127.0.0.1:port"

  int accepts() const { return accepts_.load(); }
  uint64_t bytesReceived() const { return bytes_.load(); }
  int requests() const { return requests_.load(); }
  // Copies of the request heads (and bodies up to 64 KiB) read so far.
  std::vector<Message> received() const;

  // Waits (bounded) until pred() holds; returns its last value.
  static bool eventually(const std::function<bool()>& pred, Ms timeout);

 private:
  friend struct OriginConn;
  void acceptLoop();

  Handler handler_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::string ip_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepts_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<int> requests_{0};
  mutable std::mutex mu_;
  std::vector<Message> received_;  // guarded by mu_
  std::vector<int> conn_fds_;      // guarded by mu_; -1 once closed
  std::vector<std::thread> conn_threads_;  // guarded by mu_
  std::thread accept_thread_;
};

// Serves HTTP/1.1 requests in a loop: respond(request, conn) returns the
// raw response bytes to send. The connection closes after a request with
// "Connection: close", an HTTP/1.0 request without keep-alive, or when the
// returned response contains "Connection: close".
using Responder = std::function<std::string(const Message& request, OriginConn& conn)>;
Origin::Handler httpHandler(Responder respond);

// The default: 200 with body "origin <METHOD> <target>" and the fields
// X-Origin-Conn (the connection's index) and X-Request-Body-Hash (FNV-1a of
// the request body, hex) and X-Request-Body-Length.
std::string echoResponse(const Message& request, OriginConn& conn);
Origin::Handler echoHandler();

std::string hex(uint64_t v);

}  // namespace switchyard::itest
