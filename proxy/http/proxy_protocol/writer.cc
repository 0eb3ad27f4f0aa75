#include "proxy/http/proxy_protocol/writer.h"

#include <sys/socket.h>

#include <cstdio>
#include <cstring>

namespace switchyard::proxy::proxy_protocol {
namespace {

bool sameKnownFamily(const Address& a, const Address& b) {
  return a.family == b.family && (a.family == AF_INET || a.family == AF_INET6);
}

}  // namespace

size_t writeV1(const Address& source, const Address& destination, char* out, size_t cap) {
  int n;
  if (!sameKnownFamily(source, destination)) {
    n = std::snprintf(out, cap, "PROXY UNKNOWN\r\n");
  } else {
    char src[64], dst[64];
    if (formatIp(source, src, sizeof src) == 0 || formatIp(destination, dst, sizeof dst) == 0) {
      return 0;
    }
    n = std::snprintf(out, cap, "PROXY %s %s %s %u %u\r\n",
                      source.family == AF_INET ? "TCP4" : "TCP6", src, dst,
                      static_cast<unsigned>(source.port), static_cast<unsigned>(destination.port));
  }
  return n > 0 && static_cast<size_t>(n) < cap ? static_cast<size_t>(n) : 0;
}

size_t writeV2(const Address& source, const Address& destination, char* out, size_t cap) {
  static constexpr char kSignature[12] = {'\r', '\n', '\r', '\n', '\0', '\r',
                                          '\n', 'Q',  'U',  'I',  'T',  '\n'};
  const bool known = sameKnownFamily(source, destination);
  const bool v4 = known && source.family == AF_INET;
  const size_t ip_len = v4 ? 4 : 16;
  const size_t payload = known ? 2 * ip_len + 4 : 0;
  if (cap < 16 + payload) return 0;
  std::memcpy(out, kSignature, sizeof kSignature);
  out[12] = known ? 0x21 : 0x20;                            // v2, PROXY or LOCAL
  out[13] = known ? (v4 ? 0x11 : 0x21) : 0x00;              // TCP over IPv4/IPv6, or UNSPEC
  out[14] = static_cast<char>(payload >> 8);
  out[15] = static_cast<char>(payload & 0xFF);
  if (!known) return 16;
  char* p = out + 16;
  std::memcpy(p, source.ip, ip_len);
  std::memcpy(p + ip_len, destination.ip, ip_len);
  p += 2 * ip_len;
  p[0] = static_cast<char>(source.port >> 8);
  p[1] = static_cast<char>(source.port & 0xFF);
  p[2] = static_cast<char>(destination.port >> 8);
  p[3] = static_cast<char>(destination.port & 0xFF);
  return 16 + payload;
}

}  // namespace switchyard::proxy::proxy_protocol
