#include "tests/integration/load.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace switchyard::itest {
namespace {

constexpr size_t kKeptFailures = 8;

// Connects to 127.0.0.1:port; -1 with errno set on failure.
int dial(uint16_t port, Ms timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  Stream(fd).setTimeout(timeout);  // SO_RCVTIMEO/SO_SNDTIMEO; SNDTIMEO bounds connect()
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

std::chrono::microseconds percentile(const std::vector<LoadSample>& samples, double p,
                                     Clock::time_point from, Clock::time_point to) {
  std::vector<std::chrono::microseconds> in;
  for (const LoadSample& s : samples) {
    if (s.done >= from && s.done < to) in.push_back(s.latency);
  }
  if (in.empty()) return std::chrono::microseconds{0};
  std::sort(in.begin(), in.end());
  const size_t rank = static_cast<size_t>(p / 100.0 * static_cast<double>(in.size() - 1) + 0.5);
  return in[std::min(rank, in.size() - 1)];
}

LoadGenerator::LoadGenerator(LoadOptions options) : options_(std::move(options)) {
  for (int i = 0; i < options_.keepalive_clients; i++) {
    threads_.emplace_back([this] { keepAliveClient(); });
  }
  for (int i = 0; i < options_.new_connection_clients; i++) {
    threads_.emplace_back([this] { newConnectionClient(); });
  }
}

LoadGenerator::~LoadGenerator() { stop(); }

LoadStats LoadGenerator::stop() {
  stopping_.store(true);
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void LoadGenerator::record(const LoadSample& sample) {
  answered_.fetch_add(1);
  std::lock_guard<std::mutex> lock(mu_);
  stats_.sent++;
  stats_.ok++;
  stats_.samples.push_back(sample);
}

void LoadGenerator::fail(std::string why) {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.sent++;
  if (why.rfind("refused", 0) == 0) {
    stats_.refused++;
  } else {
    stats_.failed++;
  }
  if (stats_.failures.size() < kKeptFailures) stats_.failures.push_back(std::move(why));
}

void LoadGenerator::keepAliveClient() {
  const std::string request = makeGet(options_.target, "example.com");
  int fd = -1;
  bool reused = false;
  std::atomic<uint64_t> bytes_in{0};
  Stream stream;
  while (!stopping_.load()) {
    const auto start = Clock::now();
    bool retried = false;
    for (;;) {
      if (fd < 0) {
        fd = dial(options_.port, options_.io_timeout);
        if (fd < 0) {
          fail(errno == ECONNREFUSED ? "refused (keep-alive connect)"
                                     : std::string("connect: ") + std::strerror(errno));
          break;
        }
        stream = Stream(fd, &bytes_in);
        reused = false;
      }
      const uint64_t before = bytes_in.load();
      Message m;
      const bool sent = stream.sendAll(request);
      const bool answered = sent && readResponse(stream, m) && m.status == 200;
      if (answered) {
        record({Clock::now(), std::chrono::duration_cast<std::chrono::microseconds>(
                                  Clock::now() - start)});
        if (retried) {
          std::lock_guard<std::mutex> lock(mu_);
          stats_.retried++;
        }
        reused = true;
        if (containsIgnoreCase(m.header("Connection"), "close")) {
          ::close(fd);
          fd = -1;
        }
        break;
      }
      const bool nothing_came = bytes_in.load() == before && !stream.timedOut();
      ::close(fd);
      fd = -1;
      if (reused && nothing_came && !retried) {
        retried = true;  // closed by the server while idle: retry once, as clients do
        continue;
      }
      fail("keep-alive request: " +
           (m.status != 0 ? "status " + std::to_string(m.status)
                          : std::string(stream.timedOut() ? "timeout" : "closed or reset")) +
           (retried ? " (after a retry)" : ""));
      break;
    }
    if (options_.think_time.count() > 0) std::this_thread::sleep_for(options_.think_time);
  }
  if (fd >= 0) ::close(fd);
}

void LoadGenerator::newConnectionClient() {
  const std::string request = makeGet(options_.target, "example.com", "Connection: close\r\n");
  while (!stopping_.load()) {
    const auto start = Clock::now();
    const int fd = dial(options_.port, options_.io_timeout);
    if (fd < 0) {
      fail(errno == ECONNREFUSED ? "refused (new connection)"
                                 : std::string("connect: ") + std::strerror(errno));
    } else {
      Stream stream(fd);
      Message m;
      if (stream.sendAll(request) && readResponse(stream, m) && m.status == 200) {
        record({Clock::now(),
                std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start)});
      } else {
        fail("new-connection request: " +
             (m.status != 0 ? "status " + std::to_string(m.status)
                            : std::string(stream.timedOut() ? "timeout" : "closed or reset")));
      }
      ::close(fd);
    }
    if (options_.think_time.count() > 0) std::this_thread::sleep_for(options_.think_time);
  }
}

}  // namespace switchyard::itest
