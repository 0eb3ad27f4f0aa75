// The PROXY header writer: exact v1 text, and every header it writes parses back to the
// same addresses (v1 and v2, IPv4 and IPv6); unknown or mixed families fall back to
// UNKNOWN / LOCAL; a short buffer writes nothing.
#include "proxy/http/proxy_protocol/writer.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace switchyard::proxy::proxy_protocol {
namespace {

Address addr(int family, const char* ip, uint16_t port) {
  Address a;
  a.family = family;
  inet_pton(family, ip, a.ip);
  a.port = port;
  return a;
}

Result roundTrip(size_t (*write)(const Address&, const Address&, char*, size_t),
                 const Address& src, const Address& dst) {
  char buf[kMaxWrittenHeader];
  const size_t n = write(src, dst, buf, sizeof buf);
  EXPECT_GT(n, 0u);
  const Result r = parse({reinterpret_cast<const uint8_t*>(buf), n});
  EXPECT_EQ(r.status, Status::kDone) << r.error;
  EXPECT_EQ(r.consumed, n);
  return r;
}

TEST(ProxyProtocolWriter, V1Text) {
  char buf[kMaxWrittenHeader];
  const size_t n = writeV1(addr(AF_INET, "192.0.2.1", 56324), addr(AF_INET, "10.0.0.1", 443),
                           buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n), "PROXY TCP4 192.0.2.1 10.0.0.1 56324 443\r\n");
}

TEST(ProxyProtocolWriter, EveryShapeParsesBack) {
  for (auto write : {&writeV1, &writeV2}) {
    const Address src4 = addr(AF_INET, "192.0.2.1", 1), dst4 = addr(AF_INET, "10.0.0.1", 80);
    const Result r4 = roundTrip(write, src4, dst4);
    EXPECT_EQ(std::memcmp(r4.header.source.ip, src4.ip, 4), 0);
    EXPECT_EQ(r4.header.source.port, 1);
    EXPECT_EQ(r4.header.destination.port, 80);
    const Address src6 = addr(AF_INET6, "2001:db8::7", 65535), dst6 = addr(AF_INET6, "::1", 8443);
    const Result r6 = roundTrip(write, src6, dst6);
    EXPECT_EQ(r6.header.source.family, AF_INET6);
    EXPECT_EQ(std::memcmp(r6.header.source.ip, src6.ip, 16), 0);
    EXPECT_EQ(r6.header.destination.port, 8443);
    // Unknown or mixed: no address, by the spec's fallback.
    EXPECT_EQ(roundTrip(write, Address{}, dst4).header.source.family, 0);
    EXPECT_EQ(roundTrip(write, src4, dst6).header.source.family, 0);
  }
}

TEST(ProxyProtocolWriter, ShortBufferWritesNothing) {
  char buf[20];
  EXPECT_EQ(writeV1(addr(AF_INET, "192.0.2.1", 1), addr(AF_INET, "10.0.0.1", 2), buf, 20), 0u);
  EXPECT_EQ(writeV2(addr(AF_INET6, "::1", 1), addr(AF_INET6, "::1", 2), buf, 20), 0u);
}

}  // namespace
}  // namespace switchyard::proxy::proxy_protocol
