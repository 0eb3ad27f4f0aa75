#include "tests/integration/proxy_harness.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "config/loader.h"
#include "proxy/metrics/proxy_stats.h"
#include "runtime/runtime.h"

namespace switchyard::itest {

std::shared_ptr<const config::Config> loadConfig(std::string_view toml) {
  config::LoadOptions lo;
  lo.allowed_cpus = std::vector<int>{0};
  config::LoadResult r = config::loadConfigString(toml, "test.toml", lo);
  if (!r.ok()) {
    ADD_FAILURE() << "config did not load:\n" << r.errorReport() << "---\n" << toml;
    return nullptr;
  }
  return r.config();
}

std::string fill(std::string text, const std::vector<std::pair<std::string, std::string>>& vars) {
  for (const auto& [key, value] : vars) {
    const std::string pattern = "{" + key + "}";
    for (size_t at = text.find(pattern); at != std::string::npos;
         at = text.find(pattern, at + value.size())) {
      text.replace(at, pattern.size(), value);
    }
  }
  return text;
}

Watchdog::Watchdog(Ms limit) {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info != nullptr
                         ? std::string(info->test_suite_name()) + "." + info->name()
                         : std::string("?");
  const Ms effective = kSanitized ? limit * 3 : limit;
  thread_ = std::thread([this, effective, name] {
    std::unique_lock<std::mutex> l(mu_);
    if (cv_.wait_for(l, effective, [this] { return done_; })) return;
    std::fprintf(stderr, "\nwatchdog: %s still running after %lld ms; aborting\n", name.c_str(),
                 static_cast<long long>(effective.count()));
    std::fflush(stderr);
    std::abort();
  });
}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> l(mu_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

ProxyHarness::ProxyHarness(std::string_view toml, const Options& options)
    : options_(options), watchdog_(options.time_limit), config_(loadConfig(toml)) {
  if (config_ == nullptr) return;
  thread_ = std::thread([this] {
    rt::Options ro;
    ro.workers = options_.workers;
    rt::run(ro, [this] { runtimeMain(); });
  });
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [this] { return started_; });
}

void ProxyHarness::runtimeMain() {
  auto* server = new server::Server(config_);
  if (options_.with_stats) {
    server->setObservers(
        [](const config::Config& c) {
          return std::make_shared<proxy::metrics::ProxyStats>(c, rt::workers());
        },
        nullptr);
  }
  std::string error;
  std::error_code ec = server->start(error);
  if (ec) {
    ADD_FAILURE() << "server did not start: " << error;
    delete server;
    std::lock_guard<std::mutex> l(mu_);
    started_ = true;
    cv_.notify_all();
    return;
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    server_ = server;
    ok_ = true;
    started_ = true;
  }
  cv_.notify_all();
  while (!stop_.load(std::memory_order_acquire)) rt::sleep_for(std::chrono::milliseconds(2));

  // Teardown, still inside the runtime.
  server->drain(patience(5s));
  const auto deadline = Clock::now() + patience(5s);
  while (server->activeConnections() > 0 && Clock::now() < deadline) {
    rt::sleep_for(std::chrono::milliseconds(5));
  }
  if (server->activeConnections() > 0) {
    // Deleting the Server under live connections would be a use-after-free:
    // leak it and say so.
    ADD_FAILURE() << server->activeConnections()
                  << " client connection(s) still open after drain at teardown";
    return;
  }
  delete server;
}

ProxyHarness::~ProxyHarness() {
  if (!thread_.joinable()) return;
  stop_.store(true, std::memory_order_release);
  thread_.join();
}

uint16_t ProxyHarness::port(std::string_view name) const {
  if (server_ == nullptr) return 0;
  for (const auto& [n, addr] : server_->boundListeners()) {
    if (name.empty() || n == name) return addr.port();
  }
  return 0;
}

void ProxyHarness::Pending::wait() {
  std::unique_lock<std::mutex> l(state_->mu);
  state_->cv.wait(l, [this] { return state_->done; });
}

bool ProxyHarness::Pending::waitFor(Ms timeout) {
  std::unique_lock<std::mutex> l(state_->mu);
  return state_->cv.wait_for(l, timeout, [this] { return state_->done; });
}

ProxyHarness::Pending ProxyHarness::startTask(std::function<void()> fn) {
  Pending p;
  auto state = p.state_;
  rt::go([state, fn = std::move(fn)] {
    fn();
    std::lock_guard<std::mutex> l(state->mu);
    state->done = true;
    state->cv.notify_all();
  });
  return p;
}

void ProxyHarness::inTask(std::function<void()> fn) { startTask(std::move(fn)).wait(); }

std::vector<std::string> ProxyHarness::reload(std::string_view toml) {
  std::shared_ptr<const config::Config> next = loadConfig(toml);
  std::vector<std::string> log;
  if (next == nullptr) return log;
  inTask([&] { log = server_->apply(next); });
  return log;
}

}  // namespace switchyard::itest
