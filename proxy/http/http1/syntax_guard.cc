#include "proxy/http/http1/syntax_guard.h"

#include <algorithm>

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

GuardResult HeadSyntaxGuard::feed(const char* data, size_t len) {
  if (state_ == State::kFailed) return {GuardStatus::kFailed, 0, failure_, failure_reason_};
  if (state_ == State::kDone) return {GuardStatus::kDone, 0, SyntaxFailure::kNone, ""};

  for (size_t i = 0; i < len; ++i) {
    if (bytes_ >= limits_.max_bytes) {
      return fail(i, SyntaxFailure::kSectionTooLarge, "header section larger than the limit");
    }
    ++bytes_;
    const char c = data[i];
    switch (state_) {
      case State::kLeadingLine:
        if (c == '\r') {
          state_ = State::kLeadingLF;
        } else if (chars::isToken(c)) {
          start_line_offset_ = bytes_ - 1;
          method_length_ = 1;
          state_ = State::kMethod;
        } else {
          return fail(i, SyntaxFailure::kMalformed, "invalid character in method");
        }
        break;

      case State::kLeadingLF:
        if (c != '\n') return fail(i, SyntaxFailure::kMalformed, "CR not followed by LF");
        state_ = State::kLeadingLine;
        break;

      case State::kMethod:
        if (chars::isToken(c)) {
          ++method_length_;
        } else if (c == ' ') {
          state_ = State::kTarget;
        } else {
          return fail(i, SyntaxFailure::kMalformed, "invalid character in method");
        }
        break;

      case State::kTarget:
        if (c == ' ') {
          if (target_length_ == 0) {
            return fail(i, SyntaxFailure::kMalformed, "empty request-target or extra whitespace");
          }
          state_ = State::kRequestVersion;
        } else if (c == '#') {
          return fail(i, SyntaxFailure::kMalformed, "fragment in request-target");
        } else if (!chars::is(c, chars::kVisible)) {
          return fail(i, SyntaxFailure::kMalformed, "invalid character in request-target");
        } else if (++target_length_ > limits_.max_target_bytes) {
          return fail(i, SyntaxFailure::kTargetTooLong, "request-target longer than the limit");
        }
        break;

      case State::kRequestVersion:
        if (version_pos_ == 8) {
          if (c != '\r') return fail(i, SyntaxFailure::kMalformed, "expected CRLF after HTTP-version");
          if (version_major_ != 1 || version_minor_ > 1) {
            return fail(i, SyntaxFailure::kUnsupportedVersion, "HTTP version not supported");
          }
          state_ = State::kStartLineLF;
        } else if (!acceptVersionByte(c)) {
          return fail(i, SyntaxFailure::kMalformed, "malformed HTTP-version");
        }
        break;

      case State::kResponseVersion:
        if (version_pos_ == 8) {
          if (c != ' ') return fail(i, SyntaxFailure::kMalformed, "expected SP after HTTP-version");
          if (version_major_ != 1) {
            return fail(i, SyntaxFailure::kUnsupportedVersion, "HTTP version not supported");
          }
          state_ = State::kStatusCode;
        } else if (!acceptVersionByte(c)) {
          return fail(i, SyntaxFailure::kMalformed, "malformed HTTP-version");
        }
        break;

      case State::kStatusCode:
        if (!chars::isDigit(c)) return fail(i, SyntaxFailure::kMalformed, "status code must be three digits");
        status_code_ = static_cast<uint16_t>(status_code_ * 10 + (c - '0'));
        if (++status_digits_ == 3) {
          if (status_code_ < 100 || status_code_ > 599) {
            return fail(i, SyntaxFailure::kMalformed, "status code outside 100..599");
          }
          state_ = State::kAfterStatusCode;
        }
        break;

      case State::kAfterStatusCode:
        if (c == ' ') {
          state_ = State::kReason;
        } else if (c == '\r') {
          state_ = State::kStartLineLF;
        } else {
          return fail(i, SyntaxFailure::kMalformed, "status code must be three digits");
        }
        break;

      case State::kReason:
        if (c == '\r') {
          state_ = State::kStartLineLF;
        } else if (!chars::isFieldContent(c)) {
          return fail(i, SyntaxFailure::kMalformed, "invalid character in reason phrase");
        }
        break;

      case State::kStartLineLF:
        if (c != '\n') return fail(i, SyntaxFailure::kMalformed, "CR not followed by LF");
        state_ = State::kFieldLineStart;
        break;

      case State::kFieldLineStart:
        if (c == '\r') {
          state_ = State::kFinalLF;
        } else if (chars::isToken(c)) {
          if (fields_ >= limits_.max_fields) {
            return fail(i, SyntaxFailure::kTooManyFields, "more header fields than the limit");
          }
          ++fields_;
          state_ = State::kFieldName;
        } else if (c == ' ' || c == '\t') {
          return fail(i, SyntaxFailure::kMalformed, "obs-fold or whitespace before a field line");
        } else {
          return fail(i, SyntaxFailure::kMalformed, "invalid character in field name");
        }
        break;

      case State::kFieldName:
        if (c == ':') {
          state_ = State::kFieldValue;
        } else if (c == ' ' || c == '\t') {
          return fail(i, SyntaxFailure::kMalformed, "whitespace between field name and colon");
        } else if (!chars::isToken(c)) {
          return fail(i, SyntaxFailure::kMalformed, "invalid character in field name");
        }
        break;

      case State::kFieldValue:
        if (c == '\r') {
          state_ = State::kFieldLF;
        } else if (c == '\n') {
          return fail(i, SyntaxFailure::kMalformed, "LF without CR in field line");
        } else if (!chars::isFieldContent(c)) {
          return fail(i, SyntaxFailure::kMalformed, "invalid character in field value");
        }
        break;

      case State::kFieldLF:
        if (c != '\n') return fail(i, SyntaxFailure::kMalformed, "CR not followed by LF");
        state_ = State::kFieldLineStart;
        break;

      case State::kFinalLF:
        if (c != '\n') return fail(i, SyntaxFailure::kMalformed, "CR not followed by LF");
        state_ = State::kDone;
        return {GuardStatus::kDone, i + 1, SyntaxFailure::kNone, ""};

      case State::kDone:
      case State::kFailed:
        // Unreachable: both return before the loop.
        return fail(i, SyntaxFailure::kMalformed, "internal: guard fed after its end");
    }
  }
  return {GuardStatus::kNeedMore, len, SyntaxFailure::kNone, ""};
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
