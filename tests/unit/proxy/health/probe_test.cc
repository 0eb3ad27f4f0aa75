// The probe's status-line parser and expected-status ranges (the network part of a
// probe is covered by tests/integration/resilience_test.cc).
#include "proxy/health/probe.h"

#include <gtest/gtest.h>

namespace switchyard::proxy::health {
namespace {

TEST(ParseStatusLine, AcceptsHttp10And11) {
  EXPECT_EQ(parseStatusLine("HTTP/1.1 200 OK\r\n"), 200);
  EXPECT_EQ(parseStatusLine("HTTP/1.0 503 Service Unavailable\r\n"), 503);
  EXPECT_EQ(parseStatusLine("HTTP/1.1 204\r\n"), 204);  // empty reason
  EXPECT_EQ(parseStatusLine("HTTP/1.1 404 \r\n"), 404);
}

TEST(ParseStatusLine, RejectsWhatIsNotAStatusLine) {
  EXPECT_FALSE(parseStatusLine(""));
  EXPECT_FALSE(parseStatusLine("HTTP/1.1 20"));           // incomplete
  EXPECT_FALSE(parseStatusLine("HTTP/2.0 200 OK\r\n"));   // not HTTP/1.x
  EXPECT_FALSE(parseStatusLine("HTTP/1.2 200 OK\r\n"));
  EXPECT_FALSE(parseStatusLine("HTTP/1.1 2x0 OK\r\n"));
  EXPECT_FALSE(parseStatusLine("HTTP/1.1 099 OK\r\n"));   // below 100
  EXPECT_FALSE(parseStatusLine("HTTP/1.1 2000 OK\r\n"));  // four digits
  EXPECT_FALSE(parseStatusLine("SSH-2.0-OpenSSH_9.2\r\n"));
  EXPECT_FALSE(parseStatusLine("http/1.1 200 OK\r\n"));   // the version is case-sensitive
}

TEST(ExpectedStatus, UsesEveryRange) {
  config::HealthCheckConfig check;
  EXPECT_TRUE(expectedStatus(check, 200));  // default 200..399
  EXPECT_TRUE(expectedStatus(check, 399));
  EXPECT_FALSE(expectedStatus(check, 400));
  EXPECT_FALSE(expectedStatus(check, 199));
  check.expected_statuses = {{204, 204}, {500, 503}};
  EXPECT_TRUE(expectedStatus(check, 204));
  EXPECT_TRUE(expectedStatus(check, 502));
  EXPECT_FALSE(expectedStatus(check, 200));
}

}  // namespace
}  // namespace switchyard::proxy::health
