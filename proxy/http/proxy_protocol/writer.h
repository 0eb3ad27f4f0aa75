// Writing a PROXY protocol header (v1 text or v2 binary) at the start of an upstream
// connection, so the upstream learns the real client address (a cluster's
// send_proxy_protocol). The reverse of parser.h, and checked against it in the tests.
//
// Pure: fills a caller's buffer, allocates nothing. An address of family 0 (unknown)
// gives "PROXY UNKNOWN\r\n" (v1) or a LOCAL command (v2), as the spec says a sender that
// does not know the addresses must. Mixed families (an IPv4 client on an IPv6 listener)
// are not representable either: the same fallback.
#pragma once

#include <cstddef>

#include "proxy/http/proxy_protocol/parser.h"

namespace switchyard::proxy::proxy_protocol {

// The longest header either function writes (v2 with IPv6 addresses: 16 + 36).
inline constexpr size_t kMaxWrittenHeader = kMaxV1Length;

// Writes the header into out[0, cap); returns its length, or 0 if cap is too small.
size_t writeV1(const Address& source, const Address& destination, char* out, size_t cap);
size_t writeV2(const Address& source, const Address& destination, char* out, size_t cap);

}  // namespace switchyard::proxy::proxy_protocol
