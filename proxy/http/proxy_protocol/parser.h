// PROXY protocol v1 and v2 (HAProxy's spec, "The PROXY protocol", versions 1 and 2): the
// header a load balancer in front of us (an L4 balancer, HAProxy, an AWS NLB) sends first
// on a connection to say who the real client is.
//
// This module is the pure parser: bytes in, a verdict out. No sockets, no allocation, no
// state between calls -- the caller reads from the connection into its buffer and calls
// parse() on everything it has so far, until kDone or kError. That keeps it trivially
// fuzzable (tests/fuzz/proxy_protocol_fuzz.cc) and testable.
//
// Strictness (the header is trusted input only from the balancer in front, so anything
// unexpected is refused rather than guessed at):
//   v1  "PROXY TCP4 <src> <dst> <sport> <dport>\r\n" (or TCP6), single spaces, addresses
//       that inet_pton accepts for the family, decimal ports 0..65535 without leading
//       zeros, at most 107 bytes; "PROXY UNKNOWN...\r\n" is valid and carries no address.
//   v2  the 12-byte signature, version 2, command LOCAL (no address: a health check from
//       the balancer itself) or PROXY, a length that covers the address block of the
//       family (TCP/UDP over IPv4 or IPv6; UNIX and UNSPEC are valid but carry no IP
//       address), at most kMaxV2Length bytes; TLVs are skipped.
// Bytes that cannot start a PROXY header are an error as soon as they are seen, so a
// plain HTTP request on a listener that requires the header is refused at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace switchyard::proxy::proxy_protocol {

// v1's longest header, CRLF included (the spec's own bound).
inline constexpr size_t kMaxV1Length = 107;
// v2: the 16-byte fixed part plus at most this much address and TLV data. The spec
// allows 65535; we bound what a client may make us buffer.
inline constexpr size_t kMaxV2Payload = 1024;

enum class Status { kNeedMore, kDone, kError };

struct Address {
  // AF_INET or AF_INET6, or 0 when the header carries no IP address (v1 UNKNOWN, v2
  // LOCAL, UNIX or UNSPEC): the connection's own peer address then stands.
  int family = 0;
  uint8_t ip[16] = {};  // network order; 4 bytes used for AF_INET
  uint16_t port = 0;
};

struct Header {
  int version = 0;  // 1 or 2
  Address source;
  Address destination;
};

struct Result {
  Status status = Status::kNeedMore;
  size_t consumed = 0;        // kDone: the header's length; the request follows it
  const char* error = nullptr;  // kError: why, for logs
  Header header;
};

// Parses the start of a connection. Never reads past bytes.size().
Result parse(std::span<const uint8_t> bytes);

// The textual form of an address's IP ("192.0.2.1", "2001:db8::1"), written into `out`
// (at least 46 bytes); returns its length, 0 when family is 0.
size_t formatIp(const Address& address, char* out, size_t out_size);

}  // namespace switchyard::proxy::proxy_protocol
