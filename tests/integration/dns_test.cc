// Endpoints given by host name follow DNS changes without a reload: the name is resolved
// again every dns_refresh, by a resolver the test controls (the real one goes through
// getaddrinfo, whose answers a test cannot change). 127.0.0.1 and 127.0.0.2 are both
// loopback on Linux, so two origins on the same port stand for two A records.
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "proxy/dns/endpoint_addresses.h"
#include "runtime/net/net.h"
#include "tests/integration/origin.h"
#include "tests/integration/proxy_harness.h"

namespace switchyard::itest {
namespace {

// A zone of one name: "backend.test" -> the IPs set by the test.
class FakeDns {
 public:
  FakeDns() {
    proxy::dns::EndpointAddresses::setDefaultResolverForTesting(
        [this](const std::string& host_port, std::vector<rt::net::Address>& out) {
          const std::string port = host_port.substr(host_port.rfind(':') + 1);
          if (host_port.rfind("backend.test:", 0) != 0) {
            return make_error_code(rt::net::errc::host_not_found);
          }
          std::vector<std::string> ips;
          {
            std::lock_guard lock(mu_);
            ips = ips_;
            queries_++;
          }
          for (const std::string& ip : ips) {
            if (auto ec = rt::net::resolve(ip + ":" + port, out)) return ec;
          }
          return std::error_code{};
        });
  }
  ~FakeDns() { proxy::dns::EndpointAddresses::setDefaultResolverForTesting({}); }
  void set(std::vector<std::string> ips) {
    std::lock_guard lock(mu_);
    ips_ = std::move(ips);
  }
  int queries() {
    std::lock_guard lock(mu_);
    return queries_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> ips_;
  int queries_ = 0;
};

TEST(DnsTest, ChangedRecordsAreFollowedWithoutReload) {
  FakeDns dns;
  Origin a(echoHandler(), "127.0.0.1");
  Origin b(echoHandler(), "127.0.0.2", 128, a.port());
  dns.set({"127.0.0.1"});
  ProxyHarness proxy(fill(R"toml(
[log]
access = "off"

[[listener]]
name = "main"
address = "127.0.0.1:0"

[[route]]
cluster = "named"

[[cluster]]
name = "named"
endpoints = ["backend.test:{PORT}"]
dns_refresh = "100ms"

[cluster.pool]
max_idle_per_worker = 0
)toml",
                          {{"PORT", std::to_string(a.port())}}));
  ASSERT_TRUE(proxy.ok());
  for (int i = 0; i < 5; i++) {
    Client c(proxy.port());
    EXPECT_EQ(c.get("/before").status, 200);
  }
  EXPECT_EQ(a.requests(), 5);
  EXPECT_EQ(b.requests(), 0);

  // The record changes: after a refresh, new connections go to the new address.
  dns.set({"127.0.0.2"});
  const int queries = dns.queries();
  ASSERT_TRUE(Origin::eventually([&] { return dns.queries() >= queries + 2; }, 5s));
  for (int i = 0; i < 5; i++) {
    Client c(proxy.port());
    EXPECT_EQ(c.get("/after").status, 200);
  }
  EXPECT_EQ(a.requests(), 5);
  EXPECT_EQ(b.requests(), 5);

  // A headless service: both records; connections spread over them.
  dns.set({"127.0.0.1", "127.0.0.2"});
  const int queries2 = dns.queries();
  ASSERT_TRUE(Origin::eventually([&] { return dns.queries() >= queries2 + 2; }, 5s));
  for (int i = 0; i < 10; i++) {
    Client c(proxy.port());
    EXPECT_EQ(c.get("/both").status, 200);
  }
  EXPECT_EQ(a.requests() - 5, 5);
  EXPECT_EQ(b.requests() - 5, 5);

  // A failing resolution keeps the last good list.
  dns.set({});
  const int queries3 = dns.queries();
  ASSERT_TRUE(Origin::eventually([&] { return dns.queries() >= queries3 + 2; }, 5s));
  Client c(proxy.port());
  EXPECT_EQ(c.get("/stale").status, 200);
}

}  // namespace
}  // namespace switchyard::itest
