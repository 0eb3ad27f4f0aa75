// The admin listener: each endpoint's answer, /readyz turning 503 once the
// proxy drains, and /config hiding private key paths.
#include <gtest/gtest.h>

#include "config/loader.h"
#include "config/reload.h"
#include "proxy/admin/admin_server.h"
#include "tests/integration/http_wire.h"
#include "tests/integration/proxy_harness.h"

namespace switchyard::itest {
namespace {

constexpr std::string_view kConfig = R"toml(
[log]
access = "off"

[[listener]]
name = "main"
address = "127.0.0.1:0"

[[route]]
direct_response = { status = 200, body = "hi" }
)toml";

TEST(AdminTest, EndpointsAndReadinessWhileDraining) {
  ProxyHarness proxy(kConfig);
  ASSERT_TRUE(proxy.ok());
  config::LoadResult loaded = config::loadConfigString(kConfig, "admin_test.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.errorReport();
  config::ConfigStore store(loaded.config());
  std::unique_ptr<admin::AdminServer> admin_server;
  uint16_t port = 0;
  proxy.inTask([&] {
    admin_server = std::make_unique<admin::AdminServer>(proxy.server(), store,
                                                        [] { return std::string("m 1\n"); });
    std::string err;
    ASSERT_FALSE(admin_server->start("127.0.0.1:0", err)) << err;
    port = admin_server->address().port();
  });
  ASSERT_NE(port, 0);

  EXPECT_EQ(Client(port).get("/healthz").body, "ok\n");
  EXPECT_EQ(Client(port).get("/readyz").status, 200);
  EXPECT_EQ(Client(port).get("/metrics").body, "m 1\n");
  EXPECT_NE(Client(port).get("/debug/sched").body.find("SCHED "), std::string::npos);
  EXPECT_NE(Client(port).get("/config").body.find("direct_response"), std::string::npos);
  EXPECT_EQ(Client(port).get("/nope").status, 404);

  proxy.inTask([&] { proxy.server().drain(std::chrono::seconds(0)); });
  Message ready = Client(port).get("/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.body, "not ready: draining\n");
  EXPECT_EQ(Client(port).get("/healthz").status, 200) << "alive while draining";

  proxy.inTask([&] { admin_server.reset(); });
}

constexpr std::string_view kClusterConfig = R"toml(
[log]
access = "off"

[[listener]]
name = "main"
address = "127.0.0.1:0"

[[route]]
cluster = "backend"

[[cluster]]
name = "backend"
endpoints = ["127.0.0.1:9", "127.0.0.1:10"]
)toml";

// /readyz needs a healthy endpoint in every cluster (health comes from the
// balancers' flags, which health checks set).
TEST(AdminTest, ReadyzNeedsAHealthyEndpointPerCluster) {
  ProxyHarness proxy(kClusterConfig);
  ASSERT_TRUE(proxy.ok());
  config::LoadResult loaded = config::loadConfigString(kClusterConfig, "admin_test.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.errorReport();
  config::ConfigStore store(loaded.config());
  std::unique_ptr<admin::AdminServer> admin_server;
  uint16_t port = 0;
  proxy.inTask([&] {
    admin_server = std::make_unique<admin::AdminServer>(proxy.server(), store);
    std::string err;
    ASSERT_FALSE(admin_server->start("127.0.0.1:0", err)) << err;
    port = admin_server->address().port();
  });
  ASSERT_NE(port, 0);
  auto& endpoints = proxy.server().state()->clusters[0]->balancer().endpoints();
  EXPECT_EQ(Client(port).get("/readyz").status, 200);
  endpoints.setHealthy(0, false);
  EXPECT_EQ(Client(port).get("/readyz").status, 200) << "one endpoint is still healthy";
  endpoints.setHealthy(1, false);
  Message m = Client(port).get("/readyz");
  EXPECT_EQ(m.status, 503);
  EXPECT_EQ(m.body, "not ready: cluster \"backend\" has no healthy endpoint\n");
  endpoints.setHealthy(1, true);
  EXPECT_EQ(Client(port).get("/readyz").status, 200);
  proxy.inTask([&] { admin_server.reset(); });
}

TEST(AdminTest, ConfigRedactsKeyPaths) {
  const std::string text =
      "[[listener]]\n"
      "tls.certificates = [{ cert = \"/etc/a.pem\", key = \"/etc/secret/a.key\" }]\n"
      "key = \"/etc/secret/b.key\"\n"
      "monkey = \"not a key path\"\n";
  const std::string red = admin::AdminServer::redactConfig(text);
  EXPECT_EQ(red.find("/etc/secret"), std::string::npos) << red;
  EXPECT_NE(red.find("/etc/a.pem"), std::string::npos) << "certificates are public";
  EXPECT_NE(red.find("not a key path"), std::string::npos) << "only whole-word `key` values";
}

}  // namespace
}  // namespace switchyard::itest
