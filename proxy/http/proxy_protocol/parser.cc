#include "proxy/http/proxy_protocol/parser.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>

namespace switchyard::proxy::proxy_protocol {
namespace {

constexpr uint8_t kV2Signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                      0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::string_view kV1Prefix = "PROXY ";

Result error(const char* why) {
  Result r;
  r.status = Status::kError;
  r.error = why;
  return r;
}

// Whether `bytes` could still become `prefix` (it is a prefix of it, or starts with it).
bool compatible(std::span<const uint8_t> bytes, const uint8_t* prefix, size_t prefix_len) {
  const size_t n = bytes.size() < prefix_len ? bytes.size() : prefix_len;
  return std::memcmp(bytes.data(), prefix, n) == 0;
}

// "0".."65535", no sign, no leading zero (except "0" itself).
bool parsePort(std::string_view text, uint16_t& out) {
  if (text.empty() || text.size() > 5) return false;
  if (text.size() > 1 && text[0] == '0') return false;
  uint32_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) return false;
  out = static_cast<uint16_t>(v);
  return true;
}

bool parseIp(std::string_view text, int family, Address& out) {
  char buf[INET6_ADDRSTRLEN];
  if (text.empty() || text.size() >= sizeof buf) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  if (inet_pton(family, buf, out.ip) != 1) return false;
  out.family = family;
  return true;
}

Result parseV1(std::span<const uint8_t> bytes) {
  const auto* text = reinterpret_cast<const char*>(bytes.data());
  // Find the CRLF within the first kMaxV1Length bytes.
  const size_t limit = bytes.size() < kMaxV1Length ? bytes.size() : kMaxV1Length;
  size_t end = 0;
  bool found = false;
  for (size_t i = 0; i < limit; ++i) {
    if (text[i] == '\n' || text[i] == '\0') return error("v1: stray LF or NUL in the header");
    if (text[i] == '\r' && i + 1 < limit && text[i + 1] == '\n') {
      end = i;
      found = true;
      break;
    }
  }
  if (!found) {
    if (bytes.size() >= kMaxV1Length) return error("v1: no CRLF within 107 bytes");
    return Result{};  // need more
  }
  std::string_view line(text, end);
  line.remove_prefix(kV1Prefix.size());
  // Split on single spaces: protocol [src dst sport dport].
  std::string_view fields[6];
  size_t count = 0;
  while (!line.empty()) {
    if (count == 6) return error("v1: too many fields");
    const size_t space = line.find(' ');
    fields[count] = line.substr(0, space);
    if (fields[count].empty()) return error("v1: empty field (double space)");
    ++count;
    if (space == std::string_view::npos) break;
    line.remove_prefix(space + 1);
    if (line.empty()) return error("v1: trailing space");
  }
  Result r;
  r.header.version = 1;
  r.consumed = end + 2;
  if (count >= 1 && fields[0] == "UNKNOWN") {
    // The sender does not know (or will not tell) the addresses: the rest of the line is
    // to be ignored, by the spec.
    r.status = Status::kDone;
    return r;
  }
  if (count != 5) return error("v1: expected protocol, two addresses and two ports");
  int family = 0;
  if (fields[0] == "TCP4") {
    family = AF_INET;
  } else if (fields[0] == "TCP6") {
    family = AF_INET6;
  } else {
    return error("v1: protocol must be TCP4, TCP6 or UNKNOWN");
  }
  if (!parseIp(fields[1], family, r.header.source) ||
      !parseIp(fields[2], family, r.header.destination)) {
    return error("v1: address does not match the protocol");
  }
  if (!parsePort(fields[3], r.header.source.port) ||
      !parsePort(fields[4], r.header.destination.port)) {
    return error("v1: bad port");
  }
  r.status = Status::kDone;
  return r;
}

Result parseV2(std::span<const uint8_t> bytes) {
  constexpr size_t kFixed = 16;
  if (bytes.size() < kFixed) return Result{};
  const uint8_t ver_cmd = bytes[12];
  const uint8_t fam = bytes[13];
  const size_t len = (static_cast<size_t>(bytes[14]) << 8) | bytes[15];
  if ((ver_cmd >> 4) != 2) return error("v2: version must be 2");
  const uint8_t command = ver_cmd & 0x0F;
  if (command > 1) return error("v2: command must be LOCAL or PROXY");
  if (len > kMaxV2Payload) return error("v2: header longer than we accept");
  const uint8_t family = fam >> 4;
  const uint8_t transport = fam & 0x0F;
  if (family > 3 || transport > 2) return error("v2: unknown address family or transport");
  size_t address_len = 0;
  if (family == 1) address_len = 12;        // IPv4: 2 addresses, 2 ports
  else if (family == 2) address_len = 36;   // IPv6
  else if (family == 3) address_len = 216;  // UNIX: 2 x 108-byte paths
  if (command == 1 && (family == 0) != (transport == 0)) {
    return error("v2: UNSPEC family with a transport, or the reverse");
  }
  if (len < address_len) return error("v2: length shorter than the address block");
  if (bytes.size() < kFixed + len) return Result{};
  Result r;
  r.status = Status::kDone;
  r.consumed = kFixed + len;
  r.header.version = 2;
  // LOCAL: the balancer speaks for itself (a health check); addresses are ignored.
  if (command == 0 || (family != 1 && family != 2)) return r;
  const uint8_t* a = bytes.data() + kFixed;
  Address& src = r.header.source;
  Address& dst = r.header.destination;
  if (family == 1) {
    src.family = dst.family = AF_INET;
    std::memcpy(src.ip, a, 4);
    std::memcpy(dst.ip, a + 4, 4);
    src.port = static_cast<uint16_t>((a[8] << 8) | a[9]);
    dst.port = static_cast<uint16_t>((a[10] << 8) | a[11]);
  } else {
    src.family = dst.family = AF_INET6;
    std::memcpy(src.ip, a, 16);
    std::memcpy(dst.ip, a + 16, 16);
    src.port = static_cast<uint16_t>((a[32] << 8) | a[33]);
    dst.port = static_cast<uint16_t>((a[34] << 8) | a[35]);
  }
  return r;
}

}  // namespace

Result parse(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return Result{};
  if (bytes[0] == kV2Signature[0]) {
    if (!compatible(bytes, kV2Signature, sizeof kV2Signature)) {
      return error("not a PROXY protocol header");
    }
    if (bytes.size() < sizeof kV2Signature) return Result{};
    return parseV2(bytes);
  }
  if (!compatible(bytes, reinterpret_cast<const uint8_t*>(kV1Prefix.data()), kV1Prefix.size())) {
    return error("not a PROXY protocol header");
  }
  if (bytes.size() < kV1Prefix.size()) return Result{};
  return parseV1(bytes);
}

size_t formatIp(const Address& address, char* out, size_t out_size) {
  if (address.family != AF_INET && address.family != AF_INET6) return 0;
  if (inet_ntop(address.family, address.ip, out, static_cast<socklen_t>(out_size)) == nullptr) {
    return 0;
  }
  return std::strlen(out);
}

}  // namespace switchyard::proxy::proxy_protocol
