#include "tests/unit/proxy/http/parse_driver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>

namespace switchyard::http::testing {
namespace {

using http1::ParseEvent;
using http1::ParseResult;

std::string framingText(const MessageHead& head) {
  switch (head.framing) {
    case BodyFraming::kNone:
      return "none";
    case BodyFraming::kContentLength:
      return "cl:" + std::to_string(*head.content_length);
    case BodyFraming::kChunked:
      return "chunked";
    case BodyFraming::kUntilClose:
      return "until-close";
  }
  return "?";
}

std::string fieldsText(const MessageHead& head) {
  std::string text;
  for (const HeaderField& field : head.fields()) {
    if (!text.empty()) text += "; ";
    text += std::string(field.name) + ": " + escapeBytes(field.value);
  }
  return text;
}

const char* formText(TargetForm form) {
  switch (form) {
    case TargetForm::kOrigin:
      return "origin";
    case TargetForm::kAbsolute:
      return "absolute";
    case TargetForm::kAuthority:
      return "authority";
    case TargetForm::kAsterisk:
      return "asterisk";
  }
  return "?";
}

bool inside(std::string_view view, const char* begin, const char* end) {
  if (view.data() == nullptr) return view.empty();
  const auto at = reinterpret_cast<uintptr_t>(view.data());
  return at >= reinterpret_cast<uintptr_t>(begin) && at + view.size() <= reinterpret_cast<uintptr_t>(end);
}

void expectViewsInside(const MessageHead& head, const char* begin, const char* end) {
  for (const HeaderField& field : head.fields()) {
    EXPECT_TRUE(inside(field.name, begin, end)) << field.name;
    EXPECT_TRUE(inside(field.value, begin, end)) << field.name;
  }
  for (std::string_view token : head.connection.view()) EXPECT_TRUE(inside(token, begin, end));
}

// One parser run; Parser is RequestParser or ResponseParser, `onHead` describes the head
// and `onComplete` is told about every completed message (for response contexts).
template <typename Parser, typename Describe, typename OnComplete>
std::vector<std::string> run(Parser& parser, std::string_view input, size_t step, Describe describe,
                             OnComplete on_complete) {
  const std::string buffer(input);  // one contiguous buffer: the head contract holds
  const size_t total = buffer.size();
  if (step == 0) step = std::max<size_t>(total, 1);
  size_t begin = 0;
  size_t available = std::min(step, total);
  std::vector<std::string> transcript;
  std::string body;

  // Every iteration either consumes bytes, reveals bytes, or reports an event that moves
  // the parser on (at most two zero-byte events per message); this bound is generous.
  const size_t max_iterations = 4 * total + 64;
  for (size_t iteration = 0; iteration < max_iterations; ++iteration) {
    const size_t offered = available - begin;
    const ParseResult result = parser.execute(buffer.data() + begin, offered);
    EXPECT_LE(result.consumed, offered);
    EXPECT_LE(result.body_wire_bytes, result.consumed);
    body.append(buffer.data() + begin, result.body_wire_bytes);
    begin += result.consumed;
    switch (result.event) {
      case ParseEvent::kNeedMore:
      case ParseEvent::kBodyData:
        EXPECT_EQ(result.consumed, offered) << "kNeedMore/kBodyData must consume everything";
        if (available == total) {
          const ParseResult end = parser.finish();
          body.append(buffer.data() + begin, end.body_wire_bytes);
          if (end.event == ParseEvent::kError) {
            transcript.push_back("eof error " + std::to_string(end.error.status) + " " + end.error.reason);
          } else if (end.event == ParseEvent::kMessageComplete) {
            transcript.push_back("eof complete body=" + escapeBytes(body));
          } else {
            transcript.push_back("eof");
          }
          return transcript;
        }
        available = std::min(available + step, total);
        break;
      case ParseEvent::kHeadComplete: {
        const char* head_begin = buffer.data() + begin - parser.headSize();
        EXPECT_GE(head_begin, buffer.data());
        expectViewsInside(parser.head(), head_begin, buffer.data() + begin);
        transcript.push_back("head " + describe(parser.head()));
        body.clear();
        break;
      }
      case ParseEvent::kMessageComplete:
        transcript.push_back("complete body=" + escapeBytes(body));
        body.clear();
        on_complete(parser);
        break;
      case ParseEvent::kUpgrade:
        transcript.push_back("upgrade body=" + escapeBytes(body) +
                             " rest=" + escapeBytes(std::string_view(buffer).substr(begin)));
        return transcript;
      case ParseEvent::kError:
        EXPECT_TRUE(parser.failed());
        transcript.push_back("error " + std::to_string(result.error.status) + " " + result.error.reason);
        {
          // Sticky: the parser never leaves the error state.
          const ParseResult again = parser.execute(buffer.data() + begin, available - begin);
          EXPECT_EQ(again.event, ParseEvent::kError);
          EXPECT_EQ(again.consumed, 0u);
          EXPECT_EQ(again.error.status, result.error.status);
        }
        return transcript;
    }
  }
  ADD_FAILURE() << "parser made no progress";
  transcript.push_back("stuck");
  return transcript;
}

}  // namespace

std::string escapeBytes(std::string_view bytes) {
  std::string text;
  for (char c : bytes) {
    switch (c) {
      case '\r':
        text += "\\r";
        break;
      case '\n':
        text += "\\n";
        break;
      case '\t':
        text += "\\t";
        break;
      case '\\':
        text += "\\\\";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) {
          char hex[5];
          std::snprintf(hex, sizeof(hex), "\\x%02X", static_cast<unsigned char>(c));
          text += hex;
        } else {
          text += c;
        }
    }
  }
  return text;
}

std::string describeRequestHead(const RequestHead& head) {
  std::string text = std::string(head.method_text) + " " + escapeBytes(head.target) + " HTTP/" +
                     std::to_string(head.version_major) + "." + std::to_string(head.version_minor);
  EXPECT_EQ(methodName(head.method), head.method_text);
  text += std::string(" | ") + formText(head.target_form) + " path=" + escapeBytes(head.path);
  text += " query=" + (head.has_query ? escapeBytes(head.query) : std::string("-"));
  text += " host=" + escapeBytes(head.host);
  text += " | " + framingText(head) + " ka=" + std::to_string(head.keep_alive) +
          " up=" + std::to_string(head.upgrade) + " 100=" + std::to_string(head.expect_continue);
  text += " | " + fieldsText(head);
  return text;
}

std::string describeResponseHead(const ResponseHead& head) {
  std::string text = std::to_string(head.status) + " " + escapeBytes(head.reason) + " HTTP/" +
                     std::to_string(head.version_major) + "." + std::to_string(head.version_minor);
  text += " | " + framingText(head) + " ka=" + std::to_string(head.keep_alive) +
          " up=" + std::to_string(head.upgrade) + " forbidden=" + std::to_string(head.body_forbidden);
  text += " | " + fieldsText(head);
  return text;
}

std::vector<std::string> runRequestParser(std::string_view input, size_t step,
                                          const http1::ParserLimits& limits) {
  http1::RequestParser parser(limits);
  return run(parser, input, step, describeRequestHead, [](http1::RequestParser&) {});
}

std::vector<std::string> runResponseParser(std::string_view input, size_t step,
                                           const std::vector<RequestContext>& requests,
                                           const http1::ParserLimits& limits) {
  http1::ResponseParser parser(limits);
  size_t next_request = 0;
  auto expectNext = [&](http1::ResponseParser& p) {
    if (next_request < requests.size()) {
      p.expectResponseTo(requests[next_request].method, requests[next_request].upgrade_requested);
      ++next_request;
    }
  };
  expectNext(parser);
  return run(parser, input, step, describeResponseHead, [&](http1::ResponseParser& p) {
    if (!p.head().isInterim()) expectNext(p);
  });
}

int errorStatus(const std::vector<std::string>& transcript) {
  for (const std::string& line : transcript) {
    std::string_view rest(line);
    if (rest.starts_with("eof ")) rest.remove_prefix(4);
    if (rest.starts_with("error ")) return std::atoi(std::string(rest.substr(6, 3)).c_str());
  }
  return 0;
}

bool hasLineStartingWith(const std::vector<std::string>& transcript, std::string_view prefix) {
  return std::any_of(transcript.begin(), transcript.end(),
                     [prefix](const std::string& line) { return std::string_view(line).starts_with(prefix); });
}

std::string joinLines(const std::vector<std::string>& transcript) {
  std::string text;
  for (const std::string& line : transcript) text += "  " + line + "\n";
  return text;
}

}  // namespace switchyard::http::testing
