// Syntax guards: byte-level RFC 9112 checks that run in front of llhttp.
//
// Owns: the exact grammar of a message head (start line and field lines), of a chunked
// body's framing (chunk-size lines, the CRLF after each chunk's data, the trailer
// section), and the size limits on them. Nothing here knows llhttp, status codes or
// header semantics; parser.cc turns a SyntaxFailure into a status for its direction.
//
// Why a second opinion in front of llhttp: the proxy forwards bodies byte for byte, so
// any byte sequence that llhttp frames differently from the upstream's parser is a
// request-smuggling vector. llhttp 8.1 is built here without LLHTTP_STRICT_MODE (Debian's
// package, bazel/third_party/llhttp.BUILD), and in that mode it skips the two bytes after
// chunk data without checking they are CRLF ("1\r\naXX0\r\n\r\n" is one chunk to llhttp)
// and accepts whitespace before a field's colon and a CR without LF at the end of the
// head. Even strict mode accepts obs-fold, an empty field name, two spaces after the
// method, a bare LF ending the request-line or the last chunk, and a two-digit status.
// The guards refuse all of these, so llhttp only ever parses input that is valid under
// the strict grammar, and is used for what it is good at: semantics (method, version,
// Content-Length, Transfer-Encoding, Connection flags) and a second framing opinion that
// must agree with the guard's (parser.cc treats any disagreement as an error).
//
// Streaming: feed() takes any split of the input (down to one byte per call) and gives
// identical results for every split; state between calls is a few integers. A guard
// stops exactly at the end of its section, so the caller knows where the head or the
// chunked body ends without llhttp. Cost: one table lookup per head byte (runs of
// ordinary bytes in the target, names and values are scanned in tight loops, not
// through the state machine), and per chunk only its size line — chunk data is
// skipped by count, not scanned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace switchyard::http::http1 {

// Character classes of RFC 9110 5.6 / 9112, one table lookup each.
namespace chars {

enum : uint8_t {
  kToken = 1 << 0,         // tchar: ALPHA / DIGIT / "!#$%&'*+-.^_`|~"
  kVisible = 1 << 1,       // VCHAR: 0x21..0x7E
  kObsText = 1 << 2,       // 0x80..0xFF
  kWhitespace = 1 << 3,    // SP / HTAB
  kHexDigit = 1 << 4,
  kHostChar = 1 << 5,      // reg-name / IPv4 / port: unreserved, sub-delims, '%'
  kTargetChar = 1 << 6,    // request-target: VCHAR except '#'
};

struct Table {
  uint8_t classes[256];
};

constexpr Table makeTable() {
  Table table{};
  for (int c = 0x21; c <= 0x7E; ++c) table.classes[c] |= kVisible | kTargetChar;
  table.classes[static_cast<unsigned char>('#')] &= static_cast<uint8_t>(~kTargetChar);
  for (int c = 0x80; c <= 0xFF; ++c) table.classes[c] |= kObsText;
  table.classes[static_cast<unsigned char>(' ')] |= kWhitespace;
  table.classes[static_cast<unsigned char>('\t')] |= kWhitespace;
  for (int c = '0'; c <= '9'; ++c) table.classes[c] |= kToken | kHexDigit | kHostChar;
  for (int c = 'a'; c <= 'z'; ++c) table.classes[c] |= kToken | kHostChar;
  for (int c = 'A'; c <= 'Z'; ++c) table.classes[c] |= kToken | kHostChar;
  for (int c = 'a'; c <= 'f'; ++c) table.classes[c] |= kHexDigit;
  for (int c = 'A'; c <= 'F'; ++c) table.classes[c] |= kHexDigit;
  for (char c : {'!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~'}) {
    table.classes[static_cast<unsigned char>(c)] |= kToken;
  }
  // RFC 3986: unreserved "-._~", sub-delims "!$&'()*+,;=", and '%' of pct-encoded.
  for (char c : {'-', '.', '_', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', '%'}) {
    table.classes[static_cast<unsigned char>(c)] |= kHostChar;
  }
  return table;
}

inline constexpr Table kTable = makeTable();

constexpr bool is(char c, uint8_t classes) {
  return (kTable.classes[static_cast<unsigned char>(c)] & classes) != 0;
}
constexpr bool isToken(char c) { return is(c, kToken); }
// field-vchar / SP / HTAB: what a field value may contain (RFC 9110 5.5).
constexpr bool isFieldContent(char c) { return is(c, kVisible | kObsText | kWhitespace); }
constexpr bool isHexDigit(char c) { return is(c, kHexDigit); }
constexpr bool isDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace chars

// Why a guard refused its input.
enum class SyntaxFailure : uint8_t {
  kNone,
  kMalformed,           // a byte the grammar does not allow at this point
  kSectionTooLarge,     // the head (or trailer section) is longer than its byte limit
  kTooManyFields,       // more field lines than allowed
  kTargetTooLong,       // request-target longer than its limit
  kUnsupportedVersion,  // a well-formed HTTP-version this proxy does not speak
  kChunkLineTooLong,    // a chunk-size line (with extensions) longer than kMaxChunkLineBytes
  kBodyTooLarge,        // chunk data beyond the body limit
};

enum class GuardStatus : uint8_t {
  kNeedMore,  // all input accepted, the section continues
  kDone,      // the section ended inside this input
  kFailed,    // refused; the guard stays failed until reset()
};

struct GuardResult {
  GuardStatus status = GuardStatus::kNeedMore;
  // kNeedMore: the whole input. kDone: the bytes up to and including the section's last
  // byte. kFailed: the bytes before the offending one.
  size_t consumed = 0;
  SyntaxFailure failure = SyntaxFailure::kNone;
  const char* reason = "";  // static text naming the rule that was broken
};

struct SectionLimits {
  uint32_t max_bytes = 64 * 1024;
  uint16_t max_fields = 100;
  uint32_t max_target_bytes = 8 * 1024;  // request heads only
};

// Checks one head — request or status line plus field lines plus the empty line — or one
// trailer section, and finds where it ends.
//
// Request line: *( CRLF ) method SP request-target SP "HTTP/1." ("0" / "1") CRLF, where
// request-target is 1*VCHAR without '#' (a fragment is never sent on the wire). The
// leading empty lines are the ones RFC 9112 2.2 asks servers to ignore; they count
// towards max_bytes.
// Status line: "HTTP/1." DIGIT SP 3DIGIT [ SP reason ] CRLF with a status in 100..599;
// a missing SP before an empty reason is tolerated (RFC 9112 4).
// Field line: 1*tchar ":" *field-content CRLF — no whitespace before the colon, no
// obs-fold, no CTL (NUL, CR, LF, DEL...) in the value, every line ends in CRLF.
class HeadSyntaxGuard {
 public:
  enum class Kind : uint8_t { kRequestHead, kResponseHead, kTrailers };

  HeadSyntaxGuard() { reset(Kind::kRequestHead, SectionLimits{}); }
  void reset(Kind kind, const SectionLimits& limits);

  GuardResult feed(const char* data, size_t len);

  // Bytes accepted so far in this section.
  uint32_t bytes() const { return bytes_; }
  // Bytes of leading empty lines before the request-line.
  uint32_t startLineOffset() const { return start_line_offset_; }
  // Length of the method token (request heads).
  uint32_t methodLength() const { return method_length_; }
  uint8_t versionMajor() const { return version_major_; }
  uint8_t versionMinor() const { return version_minor_; }
  uint16_t statusCode() const { return status_code_; }

 private:
  enum class State : uint8_t {
    kLeadingLine,   // request: CR of an empty line, or the method's first byte
    kLeadingLF,
    kMethod,
    kTarget,
    kRequestVersion,
    kResponseVersion,
    kStatusCode,
    kAfterStatusCode,
    kReason,
    kStartLineLF,
    kFieldLineStart,
    kFieldName,
    kFieldValue,
    kFieldLF,
    kFinalLF,
    kDone,
    kFailed,
  };

  GuardResult fail(size_t consumed, SyntaxFailure failure, const char* reason);
  // fail() for the byte at data[i] of a feed() that began with `base` bytes.
  GuardResult failAt(uint32_t base, size_t i, SyntaxFailure failure, const char* reason) {
    bytes_ = base + static_cast<uint32_t>(i) + 1;
    return fail(i, failure, reason);
  }
  // One byte of "HTTP/d.d"; returns false when `c` cannot be at `version_pos_`.
  bool acceptVersionByte(char c);

  Kind kind_ = Kind::kRequestHead;
  State state_ = State::kLeadingLine;
  SectionLimits limits_;
  uint32_t bytes_ = 0;
  uint32_t start_line_offset_ = 0;
  uint32_t method_length_ = 0;
  uint32_t target_length_ = 0;
  uint16_t fields_ = 0;
  uint16_t status_code_ = 0;
  uint8_t version_pos_ = 0;  // bytes of "HTTP/d.d" seen
  uint8_t status_digits_ = 0;
  uint8_t version_major_ = 0;
  uint8_t version_minor_ = 0;
  SyntaxFailure failure_ = SyntaxFailure::kNone;
  const char* failure_reason_ = "";
};

// Checks the framing of a chunked body (RFC 9112 7.1) and finds where it ends:
//   chunk = 1*HEXDIG *( ";" token [ "=" ( token / quoted-string ) ] ) CRLF data CRLF
//   last-chunk = 1*"0" [ chunk-ext ] CRLF, then a trailer section (HeadSyntaxGuard rules)
// No whitespace is accepted around ';' or '=' (the BWS of the grammar): senders must not
// produce it, and llhttp refuses it too, so accepting it would only create a disagreement.
class ChunkedBodyGuard {
 public:
  // A chunk-size line longer than this is refused: it can only be padding (leading zeros)
  // or chunk extensions, which nothing of ours reads, and a cap keeps a client from
  // streaming an endless line through the proxy.
  static constexpr uint32_t kMaxChunkLineBytes = 4096;

  void reset(uint64_t max_data_bytes, const SectionLimits& trailer_limits);
  GuardResult feed(const char* data, size_t len);

  // Sum of the chunk sizes accepted so far: the decoded body length.
  uint64_t dataBytes() const { return data_bytes_; }

 private:
  enum class State : uint8_t {
    kSizeStart,
    kSize,
    kExtNameStart,
    kExtName,
    kExtValueStart,
    kExtToken,
    kExtQuoted,
    kExtQuotedPair,
    kExtAfterQuoted,
    kSizeLF,
    kData,
    kDataCR,
    kDataLF,
    kTrailers,
    kDone,
    kFailed,
  };

  GuardResult fail(size_t consumed, SyntaxFailure failure, const char* reason);

  State state_ = State::kSizeStart;
  uint64_t max_data_bytes_ = UINT64_MAX;
  uint64_t data_bytes_ = 0;
  uint64_t chunk_size_ = 0;
  uint64_t chunk_remaining_ = 0;
  uint32_t line_bytes_ = 0;
  SectionLimits trailer_limits_;
  HeadSyntaxGuard trailers_;
  SyntaxFailure failure_ = SyntaxFailure::kNone;
  const char* failure_reason_ = "";
};

}  // namespace switchyard::http::http1
