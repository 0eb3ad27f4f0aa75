// libFuzzer target for http1::RequestParser (and, on every accepted head, the request
// writer). Arbitrary bytes, delivered in two reads split at a fuzzer-chosen point, must
// never crash, hang or break the parser's contract:
//   - consumed <= offered, body_wire_bytes <= consumed; kNeedMore/kBodyData consume all;
//   - every view of a completed head lies inside the head's bytes, and relocateHead()
//     moves them all;
//   - kError carries one of the request statuses, and the parser stays failed;
//   - the writer's output for an accepted head is itself accepted by a fresh parser, with
//     the same method and path (a head the proxy forwards is never malformed).
//
// Input layout: byte 0 = flags (bit 0: small limits, to reach the 413/414/431 paths),
// byte 1 = split point (as a fraction of the rest), then the bytes of the connection.
//
//   bazel build --config=fuzz //tests/fuzz:request_fuzz
//   bazel-bin/tests/fuzz/request_fuzz -max_total_time=60 tests/fuzz/corpus/request
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include "proxy/http/http1/parser.h"
#include "proxy/http/http1/writer.h"

namespace {

using switchyard::http::HeaderField;
using switchyard::http::RequestHead;
using switchyard::http::http1::ParseEvent;
using switchyard::http::http1::ParseResult;
using switchyard::http::http1::ParserLimits;
using switchyard::http::http1::RequestParser;
using switchyard::http::http1::RequestWriteOptions;

void check(bool condition) {
  if (!condition) __builtin_trap();
}

bool inside(std::string_view view, const char* begin, const char* end) {
  if (view.empty()) return true;
  const auto at = reinterpret_cast<uintptr_t>(view.data());
  return at >= reinterpret_cast<uintptr_t>(begin) && at + view.size() <= reinterpret_cast<uintptr_t>(end);
}

void checkHeadInside(const RequestHead& head, const char* begin, const char* end) {
  check(head.header_count <= switchyard::http::kMaxHeaders);
  check(inside(head.method_text, begin, end) && inside(head.target, begin, end));
  check(inside(head.path, begin, end) && inside(head.query, begin, end) && inside(head.host, begin, end));
  for (const HeaderField& field : head.fields()) {
    check(inside(field.name, begin, end) && inside(field.value, begin, end));
  }
  for (std::string_view token : head.connection.view()) check(inside(token, begin, end));
}

// The head, moved to another buffer and back, must follow the bytes.
void checkRelocation(RequestParser& parser, const char* head_begin) {
  const size_t size = parser.headSize();
  std::unique_ptr<char[]> moved(new char[size]);
  std::memcpy(moved.get(), head_begin, size);
  parser.relocateHead(moved.get());
  checkHeadInside(parser.head(), moved.get(), moved.get() + size);
  parser.relocateHead(head_begin);
  checkHeadInside(parser.head(), head_begin, head_begin + size);
}

// What the proxy would send upstream must parse again, to the same request.
void checkWriterRoundTrip(const RequestHead& head) {
  if (head.header_count > switchyard::http::kMaxHeaders - 8) return;  // the writer adds up to 5 fields
  static char out[80 * 1024];
  RequestWriteOptions options;
  options.client_address = "192.0.2.1";
  options.host_fallback = "upstream.internal";
  const std::optional<size_t> written = switchyard::http::http1::writeRequestHead(out, head, options);
  check(written.has_value());
  ParserLimits roomy;
  roomy.max_head_bytes = sizeof(out);
  RequestParser again(roomy);
  const ParseResult result = again.execute(out, *written);
  check(result.event == ParseEvent::kHeadComplete && result.consumed == *written);
  check(again.head().method == head.method);
  if (head.target_form == switchyard::http::TargetForm::kOrigin) check(again.head().path == head.path);
}

bool isRequestErrorStatus(uint16_t status) {
  return status == 400 || status == 413 || status == 414 || status == 431 || status == 501 || status == 505;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t kMaxInputBytes = 96 * 1024;  // above the 64 KiB head limit, to reach 431
  if (size > kMaxInputBytes) return -1;
  if (size < 2) return 0;
  const uint8_t flags = data[0];
  const size_t length = size - 2;
  const size_t split = length * data[1] / 255;

  // An exact-size copy, so that ASan sees any read past the end of the input.
  std::unique_ptr<char[]> buffer(new char[length == 0 ? 1 : length]);
  if (length > 0) std::memcpy(buffer.get(), data + 2, length);
  const char* bytes = buffer.get();

  ParserLimits limits;
  if (flags & 1) {
    limits.max_head_bytes = 256;
    limits.max_header_count = 8;
    limits.max_target_bytes = 64;
    limits.max_body_bytes = 64;
  }
  RequestParser parser(limits);

  size_t begin = 0;
  size_t available = split;
  // Each iteration consumes bytes, reveals the second read, or reports an event that moves
  // the parser on (at most two zero-byte events per message, and a message has at least
  // one byte): 4 * length + 8 iterations are always enough.
  const size_t max_iterations = 4 * length + 8;
  for (size_t iteration = 0; iteration < max_iterations; ++iteration) {
    const size_t offered = available - begin;
    const ParseResult result = parser.execute(bytes + begin, offered);
    check(result.consumed <= offered);
    check(result.body_wire_bytes <= result.consumed);
    begin += result.consumed;
    switch (result.event) {
      case ParseEvent::kNeedMore:
      case ParseEvent::kBodyData: {
        check(result.consumed == offered);
        if (available < length) {
          available = length;
          break;
        }
        const ParseResult end = parser.finish();
        check(end.consumed == 0);
        if (end.event == ParseEvent::kError) check(isRequestErrorStatus(end.error.status));
        return 0;
      }
      case ParseEvent::kHeadComplete: {
        check(parser.headSize() <= begin);
        const char* head_begin = bytes + begin - parser.headSize();
        checkHeadInside(parser.head(), head_begin, bytes + begin);
        checkRelocation(parser, head_begin);
        checkWriterRoundTrip(parser.head());
        break;
      }
      case ParseEvent::kMessageComplete:
        break;
      case ParseEvent::kUpgrade: {
        const ParseResult again = parser.execute(bytes + begin, available - begin);
        check(again.event == ParseEvent::kUpgrade && again.consumed == 0);
        return 0;
      }
      case ParseEvent::kError: {
        check(isRequestErrorStatus(result.error.status));
        check(result.error.reason != nullptr && result.error.reason[0] != '\0');
        check(parser.failed());
        const ParseResult again = parser.execute(bytes + begin, available - begin);
        check(again.event == ParseEvent::kError && again.consumed == 0 &&
              again.error.status == result.error.status);
        check(parser.finish().event == ParseEvent::kError);
        return 0;
      }
    }
  }
  __builtin_trap();  // no progress: a hang
}
