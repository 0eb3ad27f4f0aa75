// ConfigCollector: reload counters, the loaded hash and the last success time follow the
// ConfigStore.
#include "proxy/metrics/config_collector.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "config/loader.h"
#include "config/reload.h"
#include "proxy/metrics/metrics_registry.h"
#include "tests/unit/proxy/metrics/exposition_reader.h"

namespace switchyard::proxy::metrics {
namespace {

using switchyard::testing::ExpositionReader;

constexpr std::string_view kConfigA =
    "[[listener]]\nname = \"a\"\naddress = \"127.0.0.1:8000\"\n";
constexpr std::string_view kConfigB =
    "[[listener]]\nname = \"b\"\naddress = \"127.0.0.1:8001\"\n";
constexpr std::string_view kInvalid = "[[listener]]\nname = \"b\"\naddress = \"8001\"\n";

std::string writeFile(const std::string& name, std::string_view text) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::filesystem::path dir = std::filesystem::path(
      tmp != nullptr ? tmp : std::filesystem::temp_directory_path().string());
  std::filesystem::path path = dir / (std::to_string(::getpid()) + "_" + name);
  std::ofstream(path) << text;
  return path.string();
}

TEST(ConfigCollectorTest, FollowsTheStore) {
  config::LoadResult initial = config::loadConfigString(kConfigA, "a.toml");
  ASSERT_TRUE(initial.ok()) << initial.errorReport();
  config::ConfigStore store(initial.config());
  MetricsRegistry registry("test");
  const auto start = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  registry.add(std::make_shared<ConfigCollector>(store, start));

  ExpositionReader before(registry.renderMetrics());
  EXPECT_EQ(before.raw("switchyard_config_reloads_total{result=\"success\"}"), "0");
  EXPECT_EQ(before.raw("switchyard_config_reloads_total{result=\"failure\"}"), "0");
  EXPECT_EQ(before.raw("switchyard_config_info{hash=\"" + initial.config()->hash + "\"}"), "1");
  EXPECT_EQ(before.value("switchyard_config_last_reload_success_timestamp_seconds"),
            1'700'000'000.0);

  ASSERT_FALSE(store.reload(writeFile("invalid.toml", kInvalid)).applied);
  ExpositionReader failed(registry.renderMetrics());
  EXPECT_EQ(failed.raw("switchyard_config_reloads_total{result=\"failure\"}"), "1");
  EXPECT_EQ(failed.value("switchyard_config_last_reload_success_timestamp_seconds"),
            1'700'000'000.0);

  const double now = std::chrono::duration<double>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  config::ReloadOutcome outcome = store.reload(writeFile("b.toml", kConfigB));
  ASSERT_TRUE(outcome.applied);
  ExpositionReader reloaded(registry.renderMetrics());
  EXPECT_EQ(reloaded.raw("switchyard_config_reloads_total{result=\"success\"}"), "1");
  EXPECT_EQ(reloaded.raw("switchyard_config_info{hash=\"" + outcome.current_hash + "\"}"), "1");
  EXPECT_FALSE(
      reloaded.has("switchyard_config_info{hash=\"" + initial.config()->hash + "\"}"));
  EXPECT_GE(reloaded.value("switchyard_config_last_reload_success_timestamp_seconds"),
            now - 1);
  EXPECT_EQ(reloaded.type("switchyard_config_last_reload_success_timestamp_seconds"), "gauge");
}

}  // namespace
}  // namespace switchyard::proxy::metrics
