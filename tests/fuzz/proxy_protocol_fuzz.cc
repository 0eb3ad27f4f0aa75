// libFuzzer target for the PROXY protocol parser: arbitrary bytes give a verdict without
// crashing or reading out of bounds, and the verdict is consistent with what an
// incremental reader sees: every proper prefix of a complete header asks for more bytes,
// the header alone gives the same result, and extra bytes after it change nothing.
//
//   bazel build --config=fuzz //tests/fuzz:proxy_protocol_fuzz
//   bazel-bin/tests/fuzz/proxy_protocol_fuzz -max_total_time=60 tests/fuzz/corpus/proxy_protocol
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "proxy/http/proxy_protocol/parser.h"

namespace pp = switchyard::proxy::proxy_protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return -1;
  const std::span<const uint8_t> bytes(data, size);
  const pp::Result full = pp::parse(bytes);
  if (full.status == pp::Status::kError && full.error == nullptr) __builtin_trap();
  if (full.status != pp::Status::kDone) return 0;
  if (full.consumed == 0 || full.consumed > size) __builtin_trap();
  for (size_t k = 0; k < full.consumed; ++k) {
    if (pp::parse(bytes.first(k)).status != pp::Status::kNeedMore) __builtin_trap();
  }
  const pp::Result exact = pp::parse(bytes.first(full.consumed));
  if (exact.status != pp::Status::kDone || exact.consumed != full.consumed ||
      std::memcmp(&exact.header.source, &full.header.source, sizeof full.header.source) != 0) {
    __builtin_trap();
  }
  char ip[64];
  pp::formatIp(full.header.source, ip, sizeof ip);
  return 0;
}
