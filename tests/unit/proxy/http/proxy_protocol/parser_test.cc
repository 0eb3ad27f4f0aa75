// PROXY protocol v1/v2: valid headers of every shape, incremental input, and malformed
// headers rejected with a reason.
#include "proxy/http/proxy_protocol/parser.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard::proxy::proxy_protocol {
namespace {

std::span<const uint8_t> bytesOf(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string ip(const Address& a) {
  char out[64];
  return std::string(out, formatIp(a, out, sizeof out));
}

const std::string kSig("\r\n\r\n\0\r\nQUIT\n", 12);

// A v2 header: version/command byte, family byte, then `payload` (length from it).
std::string v2(uint8_t ver_cmd, uint8_t fam, const std::string& payload) {
  std::string h = kSig;
  h += static_cast<char>(ver_cmd);
  h += static_cast<char>(fam);
  h += static_cast<char>(payload.size() >> 8);
  h += static_cast<char>(payload.size() & 0xFF);
  return h + payload;
}

std::string v4Block() {
  // 192.0.2.1:56324 -> 198.51.100.2:443
  return std::string("\xc0\x00\x02\x01\xc6\x33\x64\x02\xdc\x04\x01\xbb", 12);
}

TEST(ProxyProtocolV1, Tcp4) {
  const std::string in = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET / HTTP/1.1\r\n";
  const Result r = parse(bytesOf(in));
  ASSERT_EQ(r.status, Status::kDone) << r.error;
  EXPECT_EQ(r.header.version, 1);
  EXPECT_EQ(r.consumed, in.find("GET"));
  EXPECT_EQ(r.header.source.family, AF_INET);
  EXPECT_EQ(ip(r.header.source), "192.0.2.1");
  EXPECT_EQ(r.header.source.port, 56324);
  EXPECT_EQ(ip(r.header.destination), "198.51.100.2");
  EXPECT_EQ(r.header.destination.port, 443);
}

TEST(ProxyProtocolV1, Tcp6AndUnknown) {
  const Result r6 = parse(bytesOf("PROXY TCP6 2001:db8::1 ::1 0 65535\r\n"));
  ASSERT_EQ(r6.status, Status::kDone) << r6.error;
  EXPECT_EQ(r6.header.source.family, AF_INET6);
  EXPECT_EQ(ip(r6.header.source), "2001:db8::1");
  EXPECT_EQ(r6.header.destination.port, 65535);

  const Result unknown = parse(bytesOf("PROXY UNKNOWN whatever follows\r\nGET"));
  ASSERT_EQ(unknown.status, Status::kDone) << unknown.error;
  EXPECT_EQ(unknown.header.source.family, 0);  // no address: keep the peer's
  EXPECT_EQ(unknown.consumed, 32u);
  EXPECT_EQ(parse(bytesOf("PROXY UNKNOWN\r\n")).status, Status::kDone);
}

TEST(ProxyProtocolV1, EveryPrefixNeedsMore) {
  const std::string in = "PROXY TCP4 10.1.2.3 10.0.0.1 1000 80\r\n";
  for (size_t k = 0; k < in.size(); ++k) {
    EXPECT_EQ(parse(bytesOf(in.substr(0, k))).status, Status::kNeedMore) << k;
  }
  EXPECT_EQ(parse(bytesOf(in)).status, Status::kDone);
}

TEST(ProxyProtocolV1, MalformedHeadersAreRejected) {
  const std::vector<std::string> bad = {
      "GET / HTTP/1.1\r\n\r\n",                         // no header at all
      "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n",            // double space
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",            // trailing space
      "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",             // unknown protocol
      "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",               // missing port
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",           // extra field
      "PROXY TCP4 ::1 ::1 1 2\r\n",                     // IPv6 address under TCP4
      "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n",             // IPv4 under TCP6
      "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n",           // not an address
      "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",         // port out of range
      "PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n",           // leading zero
      "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",            // sign
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",               // bare LF
      "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",             // case
      std::string("PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n", 32),  // NUL
      "PROXY TCP4 " + std::string(100, '1') + "\r\n",   // longer than 107 bytes
  };
  for (const std::string& in : bad) {
    const Result r = parse(bytesOf(in));
    EXPECT_EQ(r.status, Status::kError) << in;
    if (r.status == Status::kError) {
      EXPECT_NE(r.error, nullptr);
    }
  }
  // 107 bytes without a CRLF: refused rather than buffered on and on.
  EXPECT_EQ(parse(bytesOf("PROXY TCP4 " + std::string(200, ' '))).status, Status::kError);
}

TEST(ProxyProtocolV2, Tcp4WithTlvs) {
  const std::string tlv("\x04\x00\x02xy", 5);  // a NOOP TLV, skipped
  const std::string in = v2(0x21, 0x11, v4Block() + tlv) + "GET";
  const Result r = parse(bytesOf(in));
  ASSERT_EQ(r.status, Status::kDone) << r.error;
  EXPECT_EQ(r.header.version, 2);
  EXPECT_EQ(r.consumed, in.size() - 3);
  EXPECT_EQ(ip(r.header.source), "192.0.2.1");
  EXPECT_EQ(r.header.source.port, 56324);
  EXPECT_EQ(r.header.destination.port, 443);
}

TEST(ProxyProtocolV2, Tcp6) {
  std::string block(36, '\0');
  block[15] = 1;   // ::1
  block[16] = 0x20;
  block[17] = 0x01;  // 2001::
  block[32] = 0x12;
  block[33] = 0x34;
  const Result r = parse(bytesOf(v2(0x21, 0x21, block)));
  ASSERT_EQ(r.status, Status::kDone) << r.error;
  EXPECT_EQ(r.header.source.family, AF_INET6);
  EXPECT_EQ(ip(r.header.source), "::1");
  EXPECT_EQ(ip(r.header.destination), "2001::");
  EXPECT_EQ(r.header.source.port, 0x1234);
}

TEST(ProxyProtocolV2, LocalAndNonIpFamiliesCarryNoAddress) {
  const Result local = parse(bytesOf(v2(0x20, 0x00, "")));
  ASSERT_EQ(local.status, Status::kDone) << local.error;
  EXPECT_EQ(local.header.source.family, 0);
  // LOCAL with an address block: valid, the block is ignored.
  EXPECT_EQ(parse(bytesOf(v2(0x20, 0x11, v4Block()))).header.source.family, 0);
  const Result unix_socket = parse(bytesOf(v2(0x21, 0x31, std::string(216, 'p'))));
  ASSERT_EQ(unix_socket.status, Status::kDone) << unix_socket.error;
  EXPECT_EQ(unix_socket.header.source.family, 0);
}

TEST(ProxyProtocolV2, EveryPrefixNeedsMore) {
  const std::string in = v2(0x21, 0x11, v4Block());
  for (size_t k = 0; k < in.size(); ++k) {
    EXPECT_EQ(parse(bytesOf(in.substr(0, k))).status, Status::kNeedMore) << k;
  }
}

TEST(ProxyProtocolV2, MalformedHeadersAreRejected) {
  const std::vector<std::string> bad = {
      std::string("\r\n\r\n\0\r\nQUIX\n", 12),              // signature
      v2(0x11, 0x11, v4Block()),                            // version 1 in a v2 header
      v2(0x22, 0x11, v4Block()),                            // command 2
      v2(0x21, 0x11, v4Block().substr(0, 11)),              // short IPv4 block
      v2(0x21, 0x21, std::string(20, '\0')),                // short IPv6 block
      v2(0x21, 0x41, v4Block()),                            // family 4
      v2(0x21, 0x13, v4Block()),                            // transport 3
      v2(0x21, 0x01, v4Block()),                            // UNSPEC with a transport
      v2(0x21, 0x11, v4Block() + std::string(1100, 'x')),   // longer than we accept
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    const Result r = parse(bytesOf(bad[i]));
    EXPECT_EQ(r.status, Status::kError) << i;
  }
}

}  // namespace
}  // namespace switchyard::proxy::proxy_protocol
