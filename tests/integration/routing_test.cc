// Routing through the whole proxy: host exact and wildcard, path prefix and
// exact, first match wins, no match is 404, direct responses.
#include <gtest/gtest.h>

#include "tests/integration/origin.h"
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
name = "api"
host = "api.example.com"
path_prefix = "/api/"
cluster = "a"

[[route]]
name = "wild-exact"
host = "*.example.com"
path_exact = "/exact"
direct_response = { status = 200, body = "wildcard exact\n" }

[[route]]
name = "wild"
host = "*.example.com"
cluster = "b"

[[route]]
name = "only"
path_exact = "/only"
direct_response = { status = 202, body = "exact only\n" }

[[route]]
name = "first"
path_prefix = "/p"
direct_response = { status = 200, body = "first prefix\n" }

[[route]]
name = "second"
path_prefix = "/pp"
direct_response = { status = 200, body = "never: /p matched first\n" }

[[route]]
name = "teapot"
path_exact = "/teapot"
direct_response = { status = 418, body = "short and stout\n" }

[[cluster]]
name = "a"
endpoints = ["{A}"]

[[cluster]]
name = "b"
endpoints = ["{B}"]
)toml";

class RoutingTest : public ::testing::Test {
 protected:
  Origin a_{httpHandler([](const Message& r, OriginConn&) { return makeResponse(200, "A " + r.target); })};
  Origin b_{httpHandler([](const Message& r, OriginConn&) { return makeResponse(200, "B " + r.target); })};
  ProxyHarness proxy_{fill(std::string(kConfig), {{"A", a_.address()}, {"B", b_.address()}})};

  Message get(std::string_view target, std::string_view host) {
    Client c(proxy_.port());
    return c.get(target, host);
  }
};

TEST_F(RoutingTest, ExactHostWithPrefixGoesToItsCluster) {
  ASSERT_TRUE(proxy_.ok());
  Message m = get("/api/users?id=1", "api.example.com");
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.body, "A /api/users?id=1");
  // The port and letter case of Host do not matter; a trailing dot neither.
  EXPECT_EQ(get("/api/x", "API.Example.COM:8080").body, "A /api/x");
  EXPECT_EQ(get("/api/x", "api.example.com.").body, "A /api/x");
}

TEST_F(RoutingTest, WildcardHostMatchesSubdomainsOnly) {
  ASSERT_TRUE(proxy_.ok());
  // api.example.com outside /api/ falls through to the wildcard route.
  EXPECT_EQ(get("/other", "api.example.com").body, "B /other");
  EXPECT_EQ(get("/x", "a.b.example.com").body, "B /x");
  // The bare name is not a subdomain: nothing matches "/x" for it.
  EXPECT_EQ(get("/x", "example.com").status, 404);
}

TEST_F(RoutingTest, PathExactAndPrefix) {
  ASSERT_TRUE(proxy_.ok());
  Message m = get("/only", "elsewhere.test");
  EXPECT_EQ(m.status, 202);
  EXPECT_EQ(m.body, "exact only\n");
  EXPECT_EQ(get("/only?q=1", "elsewhere.test").status, 202);  // the query is not matched
  EXPECT_EQ(get("/only/", "elsewhere.test").status, 404);     // exact means exact
  EXPECT_EQ(get("/exact", "w.example.com").body, "wildcard exact\n");
  EXPECT_EQ(get("/exact/more", "w.example.com").body, "B /exact/more");
}

TEST_F(RoutingTest, FirstMatchWins) {
  ASSERT_TRUE(proxy_.ok());
  EXPECT_EQ(get("/pp", "elsewhere.test").body, "first prefix\n");
  EXPECT_EQ(get("/pplus/x", "elsewhere.test").body, "first prefix\n");
}

TEST_F(RoutingTest, NoMatchIs404AndKeepsTheConnection) {
  ASSERT_TRUE(proxy_.ok());
  Client c(proxy_.port());
  Message m = c.get("/nothing", "elsewhere.test");
  EXPECT_EQ(m.status, 404);
  EXPECT_FALSE(m.body.empty());
  // A 404 answered by the proxy itself keeps the connection usable.
  EXPECT_EQ(c.get("/only", "elsewhere.test").status, 202);
  EXPECT_EQ(a_.accepts() + b_.accepts(), 0);
}

TEST_F(RoutingTest, AbsoluteFormTargetIsRoutedAndForwardedInOriginForm) {
  ASSERT_TRUE(proxy_.ok());
  Client c(proxy_.port());
  ASSERT_TRUE(c.send("GET http://api.example.com/api/abs?x=1 HTTP/1.1\r\n"
                     "Host: api.example.com\r\n\r\n"));
  Message m = c.response();
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.body, "A /api/abs?x=1");
  // An authority that disagrees with Host is refused.
  Client bad(proxy_.port());
  ASSERT_TRUE(bad.send("GET http://api.example.com/api/abs HTTP/1.1\r\n"
                       "Host: other.example\r\n\r\n"));
  EXPECT_EQ(bad.response().status, 400);
}

TEST_F(RoutingTest, DirectResponseStatusBodyAndHead) {
  ASSERT_TRUE(proxy_.ok());
  Client c(proxy_.port());
  Message m = c.get("/teapot", "elsewhere.test");
  EXPECT_EQ(m.status, 418);
  EXPECT_EQ(m.body, "short and stout\n");
  EXPECT_EQ(m.header("Content-Length"), "16");
  ASSERT_TRUE(c.send("HEAD /teapot HTTP/1.1\r\nHost: elsewhere.test\r\n\r\n"));
  Message h = c.response(/*head_request=*/true);
  EXPECT_EQ(h.status, 418);
  EXPECT_EQ(h.header("Content-Length"), "16");
  EXPECT_TRUE(h.body.empty());
  // The HEAD answer carried no body: the next response is framed right.
  EXPECT_EQ(c.get("/only", "elsewhere.test").status, 202);
}

}  // namespace
}  // namespace switchyard::itest
