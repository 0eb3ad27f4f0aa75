// ProxyHarness: a switchyard::server::Server running in-process, on its own
// runtime (rt::run on a background thread), built from a TOML string.
//
// The test thread stays an ordinary thread: it talks to the proxy through
// sockets (http_wire.h) and reaches into the runtime only through
// inTask(), which runs a function in a fresh Task and waits for it (the
// Server's apply() and drain() must be called from Tasks).
//
// Teardown: the destructor drains the server (idle connections close at
// once, active ones get a few seconds), checks that no client connection
// is left, destroys the Server inside the runtime (sockets must not outlive
// rt::run) and joins the runtime thread. A watchdog aborts the test binary
// with a message if a test outlives its time limit, so a hang ends with a
// name rather than Bazel's kill.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "config/config.h"
#include "proxy/server/server.h"
#include "tests/integration/http_wire.h"

namespace switchyard::itest {

// Loads TOML (on the calling thread, which has a deep stack); a failure is
// reported as a test failure with the loader's error report and returns null.
std::shared_ptr<const config::Config> loadConfig(std::string_view toml);

// Replaces each "{KEY}" in `text` by its value.
std::string fill(std::string text, const std::vector<std::pair<std::string, std::string>>& vars);

// Aborts the process if not destroyed within `limit` (stretched under the
// sanitizers), naming the running test.
class Watchdog {
 public:
  explicit Watchdog(Ms limit);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

class ProxyHarness {
 public:
  struct Options {
    int workers = 2;
    Ms time_limit = 60s;  // the watchdog's limit for the whole test
    // Give each snapshot its ProxyStats (as the binary does), so that a test can read
    // the counters through server().state()->stats.
    bool with_stats = false;
  };

  explicit ProxyHarness(std::string_view toml) : ProxyHarness(toml, Options{}) {}
  ProxyHarness(std::string_view toml, const Options& options);
  ~ProxyHarness();
  ProxyHarness(const ProxyHarness&) = delete;
  ProxyHarness& operator=(const ProxyHarness&) = delete;

  // False when the config did not load or the server did not start (the
  // reason was reported as a test failure).
  bool ok() const { return ok_; }

  // The port of the listener named `name` (the first listener when empty);
  // 0 when there is none.
  uint16_t port(std::string_view name = "") const;

  server::Server& server() { return *server_; }

  // Runs fn() in a new Task and waits for it to return.
  void inTask(std::function<void()> fn);
  // Starts fn() in a new Task; the returned handle's wait() waits for it.
  class Pending {
   public:
    void wait();
    bool waitFor(Ms timeout);
   private:
    friend class ProxyHarness;
    struct State {
      std::mutex mu;
      std::condition_variable cv;
      bool done = false;
    };
    std::shared_ptr<State> state_ = std::make_shared<State>();
  };
  Pending startTask(std::function<void()> fn);

  // Server::apply on a new config (loaded on this thread); returns its log.
  std::vector<std::string> reload(std::string_view toml);

 private:
  void runtimeMain();

  Options options_;
  Watchdog watchdog_;
  std::shared_ptr<const config::Config> config_;
  bool ok_ = false;
  server::Server* server_ = nullptr;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;  // guarded by mu_
  std::atomic<bool> stop_{false};
};

}  // namespace switchyard::itest
