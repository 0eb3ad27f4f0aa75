#include "proxy/http/http1/syntax_guard.h"

#include <algorithm>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace switchyard::http::http1 {

// ---------------------------------------------------------------------------------------
// HeadSyntaxGuard

void HeadSyntaxGuard::reset(Kind kind, const SectionLimits& limits) {
  kind_ = kind;
  limits_ = limits;
  switch (kind) {
    case Kind::kRequestHead:
      state_ = State::kLeadingLine;
      break;
    case Kind::kResponseHead:
      state_ = State::kResponseVersion;
      break;
    case Kind::kTrailers:
      state_ = State::kFieldLineStart;
      break;
  }
  bytes_ = 0;
  start_line_offset_ = 0;
  method_length_ = 0;
  target_length_ = 0;
  fields_ = 0;
  status_code_ = 0;
  version_pos_ = 0;
  status_digits_ = 0;
  version_major_ = 0;
  version_minor_ = 0;
  failure_ = SyntaxFailure::kNone;
  failure_reason_ = "";
}

GuardResult HeadSyntaxGuard::fail(size_t consumed, SyntaxFailure failure, const char* reason) {
  state_ = State::kFailed;
  failure_ = failure;
  failure_reason_ = reason;
  return {GuardStatus::kFailed, consumed, failure, reason};
}

bool HeadSyntaxGuard::acceptVersionByte(char c) {
  static constexpr char kPrefix[] = "HTTP/";
  switch (version_pos_) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
      if (c != kPrefix[version_pos_]) return false;
      break;
    case 5:
      if (!chars::isDigit(c)) return false;
      version_major_ = static_cast<uint8_t>(c - '0');
      break;
    case 6:
      if (c != '.') return false;
      break;
    case 7:
      if (!chars::isDigit(c)) return false;
      version_minor_ = static_cast<uint8_t>(c - '0');
      break;
    default:
      return false;
  }
  ++version_pos_;
  return true;
}

namespace {

// The end of the run of bytes of class `cls` in data[i, end).
inline size_t scanRun(const char* data, size_t i, size_t end, uint8_t cls) {
  while (i < end && chars::is(data[i], cls)) ++i;
  return i;
}

// scanRun for field values and reason phrases (field-content: VCHAR, SP, HTAB,
// obs-text), 16 bytes at a time over the common case of printable ASCII
// (0x20..0x7E); a block with any other byte hands over to scanRun at it.
inline size_t scanFieldContent(const char* data, size_t i, size_t end) {
  constexpr uint8_t kFieldContent = chars::kVisible | chars::kObsText | chars::kWhitespace;
#if defined(__SSE2__)
  const __m128i below_space = _mm_set1_epi8(0x20);
  const __m128i del = _mm_set1_epi8(0x7F);
  while (end - i >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i));
    // Signed compare: bytes >= 0x80 count as "below space" too, and take the slow path.
    const __m128i odd = _mm_or_si128(_mm_cmplt_epi8(v, below_space), _mm_cmpeq_epi8(v, del));
    const int mask = _mm_movemask_epi8(odd);
    if (mask != 0) {
      i += static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
      break;
    }
    i += 16;
  }
#endif
  return scanRun(data, i, end, kFieldContent);
}

}  // namespace

GuardResult HeadSyntaxGuard::feed(const char* data, size_t len) {
  if (state_ == State::kFailed) return {GuardStatus::kFailed, 0, failure_, failure_reason_};
  if (state_ == State::kDone) return {GuardStatus::kDone, 0, SyntaxFailure::kNone, ""};

  using F = SyntaxFailure;
  const uint32_t base = bytes_;
  // A byte at or past `end` would exceed the section's byte limit.
  const size_t end = std::min<size_t>(len, limits_.max_bytes - bytes_);
  size_t i = 0;
  // Each pass takes the byte at data[i] (after a run of ordinary bytes, which
  // may reach `end` and `continue`) and then steps past it.
  while (i < end) {
    switch (state_) {
      case State::kLeadingLine: {
        const char c = data[i];
        if (c == '\r') {
          state_ = State::kLeadingLF;
        } else if (chars::isToken(c)) {
          start_line_offset_ = base + static_cast<uint32_t>(i);
          method_length_ = 1;
          state_ = State::kMethod;
        } else {
          return failAt(base, i, F::kMalformed, "invalid character in method");
        }
        break;
      }

      case State::kLeadingLF:
        if (data[i] != '\n') return failAt(base, i, F::kMalformed, "CR not followed by LF");
        state_ = State::kLeadingLine;
        break;

      case State::kMethod: {
        const size_t run_end = scanRun(data, i, end, chars::kToken);
        method_length_ += static_cast<uint32_t>(run_end - i);
        i = run_end;
        if (i == end) continue;
        if (data[i] != ' ') return failAt(base, i, F::kMalformed, "invalid character in method");
        state_ = State::kTarget;
        break;
      }

      case State::kTarget: {
        const size_t run_end = scanRun(data, i, end, chars::kTargetChar);
        const size_t run = run_end - i;
        if (target_length_ + run > limits_.max_target_bytes) {
          // The byte that made the target one longer than the limit.
          return failAt(base, i + (limits_.max_target_bytes - target_length_), F::kTargetTooLong,
                        "request-target longer than the limit");
        }
        target_length_ += static_cast<uint32_t>(run);
        i = run_end;
        if (i == end) continue;
        const char c = data[i];
        if (c == ' ') {
          if (target_length_ == 0) {
            return failAt(base, i, F::kMalformed, "empty request-target or extra whitespace");
          }
          state_ = State::kRequestVersion;
        } else if (c == '#') {
          return failAt(base, i, F::kMalformed, "fragment in request-target");
        } else {
          return failAt(base, i, F::kMalformed, "invalid character in request-target");
        }
        break;
      }

      case State::kRequestVersion: {
        const char c = data[i];
        if (version_pos_ == 8) {
          if (c != '\r') return failAt(base, i, F::kMalformed, "expected CRLF after HTTP-version");
          if (version_major_ != 1 || version_minor_ > 1) {
            return failAt(base, i, F::kUnsupportedVersion, "HTTP version not supported");
          }
          state_ = State::kStartLineLF;
        } else if (!acceptVersionByte(c)) {
          return failAt(base, i, F::kMalformed, "malformed HTTP-version");
        }
        break;
      }

      case State::kResponseVersion: {
        const char c = data[i];
        if (version_pos_ == 8) {
          if (c != ' ') return failAt(base, i, F::kMalformed, "expected SP after HTTP-version");
          if (version_major_ != 1) {
            return failAt(base, i, F::kUnsupportedVersion, "HTTP version not supported");
          }
          state_ = State::kStatusCode;
        } else if (!acceptVersionByte(c)) {
          return failAt(base, i, F::kMalformed, "malformed HTTP-version");
        }
        break;
      }

      case State::kStatusCode: {
        const char c = data[i];
        if (!chars::isDigit(c)) return failAt(base, i, F::kMalformed, "status code must be three digits");
        status_code_ = static_cast<uint16_t>(status_code_ * 10 + (c - '0'));
        if (++status_digits_ == 3) {
          if (status_code_ < 100 || status_code_ > 599) {
            return failAt(base, i, F::kMalformed, "status code outside 100..599");
          }
          state_ = State::kAfterStatusCode;
        }
        break;
      }

      case State::kAfterStatusCode: {
        const char c = data[i];
        if (c == ' ') {
          state_ = State::kReason;
        } else if (c == '\r') {
          state_ = State::kStartLineLF;
        } else {
          return failAt(base, i, F::kMalformed, "status code must be three digits");
        }
        break;
      }

      case State::kReason:
        i = scanFieldContent(data, i, end);
        if (i == end) continue;
        if (data[i] != '\r') return failAt(base, i, F::kMalformed, "invalid character in reason phrase");
        state_ = State::kStartLineLF;
        break;

      case State::kStartLineLF:
        if (data[i] != '\n') return failAt(base, i, F::kMalformed, "CR not followed by LF");
        state_ = State::kFieldLineStart;
        break;

      case State::kFieldLineStart: {
        const char c = data[i];
        if (c == '\r') {
          state_ = State::kFinalLF;
        } else if (chars::isToken(c)) {
          if (fields_ >= limits_.max_fields) {
            return failAt(base, i, F::kTooManyFields, "more header fields than the limit");
          }
          ++fields_;
          state_ = State::kFieldName;
        } else if (c == ' ' || c == '\t') {
          return failAt(base, i, F::kMalformed, "obs-fold or whitespace before a field line");
        } else {
          return failAt(base, i, F::kMalformed, "invalid character in field name");
        }
        break;
      }

      case State::kFieldName: {
        i = scanRun(data, i, end, chars::kToken);
        if (i == end) continue;
        const char c = data[i];
        if (c == ':') {
          state_ = State::kFieldValue;
        } else if (c == ' ' || c == '\t') {
          return failAt(base, i, F::kMalformed, "whitespace between field name and colon");
        } else {
          return failAt(base, i, F::kMalformed, "invalid character in field name");
        }
        break;
      }

      case State::kFieldValue: {
        i = scanFieldContent(data, i, end);
        if (i == end) continue;
        const char c = data[i];
        if (c == '\r') {
          state_ = State::kFieldLF;
        } else if (c == '\n') {
          return failAt(base, i, F::kMalformed, "LF without CR in field line");
        } else {
          return failAt(base, i, F::kMalformed, "invalid character in field value");
        }
        break;
      }

      case State::kFieldLF:
        if (data[i] != '\n') return failAt(base, i, F::kMalformed, "CR not followed by LF");
        state_ = State::kFieldLineStart;
        break;

      case State::kFinalLF:
        if (data[i] != '\n') return failAt(base, i, F::kMalformed, "CR not followed by LF");
        state_ = State::kDone;
        bytes_ = base + static_cast<uint32_t>(i) + 1;
        return {GuardStatus::kDone, i + 1, F::kNone, ""};

      case State::kDone:
      case State::kFailed:
        // Unreachable: both return before the loop.
        return failAt(base, i, F::kMalformed, "internal: guard fed after its end");
    }
    ++i;
  }
  bytes_ = base + static_cast<uint32_t>(i);
  if (i < len) return fail(i, F::kSectionTooLarge, "header section larger than the limit");
  return {GuardStatus::kNeedMore, len, F::kNone, ""};
}

// ---------------------------------------------------------------------------------------
// ChunkedBodyGuard

void ChunkedBodyGuard::reset(uint64_t max_data_bytes, const SectionLimits& trailer_limits) {
  state_ = State::kSizeStart;
  max_data_bytes_ = max_data_bytes;
  data_bytes_ = 0;
  chunk_size_ = 0;
  chunk_remaining_ = 0;
  line_bytes_ = 0;
  trailer_limits_ = trailer_limits;
  failure_ = SyntaxFailure::kNone;
  failure_reason_ = "";
}

GuardResult ChunkedBodyGuard::fail(size_t consumed, SyntaxFailure failure, const char* reason) {
  state_ = State::kFailed;
  failure_ = failure;
  failure_reason_ = reason;
  return {GuardStatus::kFailed, consumed, failure, reason};
}

namespace {

uint8_t hexValue(char c) {
  if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<uint8_t>(c - 'a' + 10);
  return static_cast<uint8_t>(c - 'A' + 10);
}

// qdtext of RFC 9110 5.6.4: HTAB / SP / 0x21 / 0x23-0x5B / 0x5D-0x7E / obs-text.
bool isQuotedText(char c) {
  return c != '"' && c != '\\' && chars::isFieldContent(c);
}

}  // namespace

GuardResult ChunkedBodyGuard::feed(const char* data, size_t len) {
  if (state_ == State::kFailed) return {GuardStatus::kFailed, 0, failure_, failure_reason_};
  if (state_ == State::kDone) return {GuardStatus::kDone, 0, SyntaxFailure::kNone, ""};

  size_t i = 0;
  // Each pass advances i by at least one byte or returns, so the loop runs at most len times.
  while (i < len) {
    if (state_ == State::kData) {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(chunk_remaining_, len - i));
      i += take;
      chunk_remaining_ -= take;
      if (chunk_remaining_ == 0) state_ = State::kDataCR;
      continue;
    }
    if (state_ == State::kTrailers) {
      const GuardResult trailers = trailers_.feed(data + i, len - i);
      if (trailers.status == GuardStatus::kFailed) {
        return fail(i + trailers.consumed, trailers.failure, trailers.reason);
      }
      if (trailers.status == GuardStatus::kDone) {
        state_ = State::kDone;
        return {GuardStatus::kDone, i + trailers.consumed, SyntaxFailure::kNone, ""};
      }
      return {GuardStatus::kNeedMore, len, SyntaxFailure::kNone, ""};
    }

    const char c = data[i];
    if (state_ <= State::kSizeLF && ++line_bytes_ > kMaxChunkLineBytes) {
      return fail(i, SyntaxFailure::kChunkLineTooLong, "chunk-size line longer than the limit");
    }
    switch (state_) {
      case State::kSizeStart:
        if (!chars::isHexDigit(c)) return fail(i, SyntaxFailure::kMalformed, "invalid character in chunk size");
        chunk_size_ = hexValue(c);
        state_ = State::kSize;
        break;

      case State::kSize:
        if (chars::isHexDigit(c)) {
          if (chunk_size_ > (UINT64_MAX >> 4)) return fail(i, SyntaxFailure::kMalformed, "chunk size overflow");
          chunk_size_ = (chunk_size_ << 4) | hexValue(c);
        } else if (c == ';') {
          state_ = State::kExtNameStart;
        } else if (c == '\r') {
          state_ = State::kSizeLF;
        } else {
          return fail(i, SyntaxFailure::kMalformed, "invalid character in chunk size");
        }
        break;

      case State::kExtNameStart:
        if (!chars::isToken(c)) return fail(i, SyntaxFailure::kMalformed, "invalid chunk extension");
        state_ = State::kExtName;
        break;

      case State::kExtName:
        if (c == '=') {
          state_ = State::kExtValueStart;
        } else if (c == ';') {
          state_ = State::kExtNameStart;
        } else if (c == '\r') {
          state_ = State::kSizeLF;
        } else if (!chars::isToken(c)) {
          return fail(i, SyntaxFailure::kMalformed, "invalid chunk extension");
        }
        break;

      case State::kExtValueStart:
        if (c == '"') {
          state_ = State::kExtQuoted;
        } else if (chars::isToken(c)) {
          state_ = State::kExtToken;
        } else {
          return fail(i, SyntaxFailure::kMalformed, "invalid chunk extension value");
        }
        break;

      case State::kExtToken:
        if (c == ';') {
          state_ = State::kExtNameStart;
        } else if (c == '\r') {
          state_ = State::kSizeLF;
        } else if (!chars::isToken(c)) {
          return fail(i, SyntaxFailure::kMalformed, "invalid chunk extension value");
        }
        break;

      case State::kExtQuoted:
        if (c == '"') {
          state_ = State::kExtAfterQuoted;
        } else if (c == '\\') {
          state_ = State::kExtQuotedPair;
        } else if (!isQuotedText(c)) {
          return fail(i, SyntaxFailure::kMalformed, "invalid character in quoted chunk extension");
        }
        break;

      case State::kExtQuotedPair:
        if (!chars::isFieldContent(c)) {
          return fail(i, SyntaxFailure::kMalformed, "invalid character in quoted chunk extension");
        }
        state_ = State::kExtQuoted;
        break;

      case State::kExtAfterQuoted:
        if (c == ';') {
          state_ = State::kExtNameStart;
        } else if (c == '\r') {
          state_ = State::kSizeLF;
        } else {
          return fail(i, SyntaxFailure::kMalformed, "invalid chunk extension");
        }
        break;

      case State::kSizeLF:
        if (c != '\n') return fail(i, SyntaxFailure::kMalformed, "CR not followed by LF");
        line_bytes_ = 0;
        if (chunk_size_ == 0) {
          trailers_.reset(HeadSyntaxGuard::Kind::kTrailers, trailer_limits_);
          state_ = State::kTrailers;
        } else {
          if (chunk_size_ > max_data_bytes_ - data_bytes_) {
            return fail(i, SyntaxFailure::kBodyTooLarge, "body larger than the limit");
          }
          data_bytes_ += chunk_size_;
          chunk_remaining_ = chunk_size_;
          state_ = State::kData;
        }
        break;

      case State::kDataCR:
        if (c != '\r') return fail(i, SyntaxFailure::kMalformed, "chunk data not followed by CRLF");
        state_ = State::kDataLF;
        break;

      case State::kDataLF:
        if (c != '\n') return fail(i, SyntaxFailure::kMalformed, "chunk data not followed by CRLF");
        chunk_size_ = 0;
        state_ = State::kSizeStart;
        break;

      case State::kData:
      case State::kTrailers:
      case State::kDone:
      case State::kFailed:
        // Unreachable: handled above or before the loop.
        return fail(i, SyntaxFailure::kMalformed, "internal: chunked guard in a terminal state");
    }
    ++i;
  }
  return {GuardStatus::kNeedMore, len, SyntaxFailure::kNone, ""};
}

}  // namespace switchyard::http::http1
