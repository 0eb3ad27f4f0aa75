// The whole exposition -- proxy, runtime (inside rt::run), config and build info -- passes
// `promtool check metrics` (Prometheus' own parser and linter). Skipped when promtool is
// not installed (Debian package `prometheus`).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "config/loader.h"
#include "config/reload.h"
#include "proxy/metrics/config_collector.h"
#include "proxy/metrics/metrics_registry.h"
#include "proxy/metrics/runtime_collector.h"
#include "runtime/runtime.h"
#include "tests/unit/proxy/metrics/test_configs.h"

namespace switchyard::proxy::metrics {
namespace {

std::string findPromtool() {
  for (const char* candidate : {"/usr/bin/promtool", "/usr/local/bin/promtool"}) {
    if (::access(candidate, X_OK) == 0) return candidate;
  }
  return "";
}

// Runs `command`, returns its exit status and (stdout+stderr) in `output`.
int run(const std::string& command, std::string& output) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string fullExposition() {
  std::string text;
  rt::Options options;
  options.workers = 2;
  rt::run(options, [&] {
    config::LoadResult loaded = config::loadConfigString(
        "[[listener]]\nname = \"a\"\naddress = \"127.0.0.1:8000\"\n", "a.toml");
    EXPECT_TRUE(loaded.ok()) << loaded.errorReport();
    config::ConfigStore store(loaded.config());

    MetricsRegistry registry("0.1.0-test");
    auto runtime = std::make_shared<RuntimeCollector>();
    runtime->noteAffinity({0, 1}, "spread");
    registry.add(runtime);
    registry.add(std::make_shared<ConfigCollector>(store));

    config::Config config = switchyard::testing::twoListenerConfig();
    config.routes[0].name = "odd \"route\"\\name\nwith newline";
    auto stats = registry.proxyStats().publish(config, rt::workers());
    const int worker = rt::current_worker();
    for (int i = 0; i < 100; ++i) {
      stats->requestDone(worker, 0, 0, 0, 200 + (i % 4) * 100, 1000u * i, 500 * i);
    }
    stats->requestDone(worker, 1, ProxyStats::kNoRoute, ProxyStats::kNoCluster, 0, 10, -1);
    stats->connectionOpened(worker, 0);
    stats->bytes(worker, 0, 10, 20);
    stats->upstreamConnections(worker, 0, 1, 0);
    stats->tlsHandshake(worker, 0, TlsHandshakeResult::kSuccess);
    stats->setEndpointHealthy(0, 0, false);
    text = registry.renderMetrics();
  });
  return text;
}

TEST(PromtoolTest, ExpositionPassesPromtoolCheckMetrics) {
  const std::string promtool = findPromtool();
  if (promtool.empty()) GTEST_SKIP() << "promtool not installed (apt-get install prometheus)";
  const std::string text = fullExposition();
  ASSERT_FALSE(text.empty());
  // `bazel test ... --test_env=PRINT_METRICS=1 --test_output=all` shows a sample /metrics.
  if (std::getenv("PRINT_METRICS") != nullptr) std::fwrite(text.data(), 1, text.size(), stdout);

  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::filesystem::path path =
      std::filesystem::path(tmp != nullptr ? tmp : "/tmp") /
      ("metrics_" + std::to_string(::getpid()) + ".prom");
  std::ofstream(path) << text;

  std::string output;
  const int status = run(promtool + " check metrics < " + path.string(), output);
  EXPECT_EQ(status, 0) << "promtool check metrics said:\n" << output << "\n--- exposition:\n"
                       << text;
  EXPECT_EQ(output, "") << output;
}

}  // namespace
}  // namespace switchyard::proxy::metrics
