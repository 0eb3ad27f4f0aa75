// The embedded default config: it must always load, on any machine, and say what it is.
#include "config/default_config.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "config/loader.h"

namespace switchyard::config {
namespace {

TEST(DefaultConfig, LoadsAndAnswersEveryRequestDirectly) {
  const std::shared_ptr<const Config> config = loadDefaultConfig();
  ASSERT_NE(config, nullptr);
  EXPECT_EQ(config->source_name, kDefaultConfigSourceName);
  EXPECT_EQ(config->source_text, kDefaultConfigToml);
  EXPECT_EQ(config->hash, contentHash(kDefaultConfigToml));

  EXPECT_EQ(config->admin.address, (HostPort{"127.0.0.1", 9901, HostKind::kIpv4}));
  ASSERT_EQ(config->listeners.size(), 1u);
  EXPECT_EQ(config->listeners[0].name, "default");
  EXPECT_EQ(config->listeners[0].address, (HostPort{"127.0.0.1", 8080, HostKind::kIpv4}));
  EXPECT_FALSE(config->listeners[0].tls.has_value());

  ASSERT_EQ(config->routes.size(), 1u);
  const RouteConfig& route = config->routes[0];
  EXPECT_EQ(route.path_match, PathMatch::kPrefix);
  EXPECT_EQ(route.path, "/");
  EXPECT_FALSE(route.host.has_value());
  ASSERT_TRUE(std::holds_alternative<DirectResponse>(route.action));
  const DirectResponse& response = std::get<DirectResponse>(route.action);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "switchyard: no config loaded, this is the embedded default\n");
  EXPECT_TRUE(config->clusters.empty());

  // Nothing machine-specific: the runtime picks workers and CPUs.
  EXPECT_FALSE(config->runtime.workers.has_value());
  EXPECT_TRUE(config->runtime.cpu_affinity.empty());
}

TEST(DefaultConfig, LoadsTheSameEveryTime) {
  const std::shared_ptr<const Config> first = loadDefaultConfig();
  const std::shared_ptr<const Config> second = loadDefaultConfig();
  EXPECT_NE(first, second);  // independent snapshots...
  EXPECT_EQ(first->hash, second->hash);  // ...of the same text
}

// Whatever CPUs the machine has, the default does not name any.
TEST(DefaultConfig, ValidatesWithAnyCpuSet) {
  LoadOptions one_cpu;
  one_cpu.allowed_cpus = std::vector<int>{5};
  const LoadResult result = loadConfigString(kDefaultConfigToml, "default", one_cpu);
  EXPECT_TRUE(result.ok()) << result.errorReport();
}

}  // namespace
}  // namespace switchyard::config
