// The hot-path claim of parser.h and writer.h: once a parser is constructed, parsing
// requests and responses and writing heads allocates nothing. This binary replaces the
// global operator new with a counting one (armed only around the measured code, on this
// thread), so it is a test of its own.
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "proxy/http/http1/parser.h"
#include "proxy/http/http1/writer.h"

namespace {

thread_local bool counting = false;
thread_local size_t allocations = 0;

void* countedAllocate(size_t size) {
  if (counting) ++allocations;
  void* memory = std::malloc(size == 0 ? 1 : size);
  if (memory == nullptr) throw std::bad_alloc();
  return memory;
}

void* countedAllocateOrNull(size_t size) noexcept {
  if (counting) ++allocations;
  return std::malloc(size == 0 ? 1 : size);
}

class CountAllocations {
 public:
  CountAllocations() {
    allocations = 0;
    counting = true;
  }
  ~CountAllocations() { counting = false; }
  size_t count() const { return allocations; }
};

}  // namespace

void* operator new(size_t size) { return countedAllocate(size); }
void* operator new[](size_t size) { return countedAllocate(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept { return countedAllocateOrNull(size); }
void* operator new[](size_t size, const std::nothrow_t&) noexcept { return countedAllocateOrNull(size); }
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete[](void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, size_t) noexcept { std::free(memory); }
void operator delete[](void* memory, size_t) noexcept { std::free(memory); }

namespace switchyard::http::http1 {
namespace {

// The counter itself works: an allocation inside the scope is seen.
TEST(ParserAllocationTest, CounterSeesAllocations) {
  CountAllocations scope;
  std::vector<int> allocates(16);
  EXPECT_EQ(scope.count(), 1u);
}

// 1000 pipelined requests of four shapes, in one buffer.
std::string pipelinedRequests(size_t count) {
  const char* shapes[] = {
      "GET /index.html?lang=en HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: bench/1.0\r\n"
      "Accept: */*\r\nConnection: keep-alive\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n",
      "POST /api/items HTTP/1.1\r\nHost: api.example.com\r\nContent-Type: application/json\r\n"
      "Content-Length: 13\r\n\r\n{\"id\": 12345}",
      "PUT /upload HTTP/1.1\r\nHost: up.example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 42\r\n\r\n",
      "\r\nOPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n",
  };
  std::string input;
  for (size_t i = 0; i < count; ++i) input += shapes[i % 4];
  return input;
}

TEST(ParserAllocationTest, Parsing1000PipelinedRequestsAllocatesNothing) {
  const std::string input = pipelinedRequests(1000);
  std::vector<char> out(4096);
  RequestWriteOptions options;
  options.client_address = "198.51.100.4";
  (void)writeSimpleResponse(out, 400, "", "warm-up", false);  // first use of the Date cache

  RequestParser parser;
  size_t heads = 0;
  size_t messages = 0;
  size_t body_bytes = 0;
  size_t written_bytes = 0;
  {
    CountAllocations scope;
    size_t begin = 0;
    // Feed in 512-byte reads, as a connection would, keeping the partial head before `data`.
    size_t available = 0;
    for (size_t iteration = 0; iteration < 20 * input.size(); ++iteration) {
      const ParseResult result = parser.execute(input.data() + begin, available - begin);
      body_bytes += result.body_wire_bytes;
      begin += result.consumed;
      if (result.event == ParseEvent::kError) break;
      if (result.event == ParseEvent::kHeadComplete) {
        ++heads;
        written_bytes += writeRequestHead(out, parser.head(), options).value_or(0);
      } else if (result.event == ParseEvent::kMessageComplete) {
        ++messages;
        written_bytes += writeSimpleResponse(out, 200, "", "ok", true).value_or(0);
      } else if (available == input.size()) {
        break;
      } else {
        available = std::min(available + 512, input.size());
      }
    }
    EXPECT_EQ(scope.count(), 0u);
  }
  EXPECT_EQ(heads, 1000u);
  EXPECT_EQ(messages, 1000u);
  EXPECT_EQ(body_bytes, 250u * 13 + 250u * 48);  // the POST bodies and the PUT chunked framing
  EXPECT_GT(written_bytes, 0u);
  EXPECT_FALSE(parser.failed());
}

TEST(ParserAllocationTest, ParsingResponsesAllocatesNothing) {
  std::string input;
  for (int i = 0; i < 500; ++i) {
    input += "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: a=1\r\n\r\nok";
    input += "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
  }
  std::vector<char> out(4096);
  ResponseParser parser;
  parser.expectResponseTo(Method::kGet, false);
  size_t finals = 0;
  {
    CountAllocations scope;
    size_t begin = 0;
    for (size_t iteration = 0; iteration < 10 * input.size() && begin < input.size(); ++iteration) {
      const ParseResult result = parser.execute(input.data() + begin, input.size() - begin);
      begin += result.consumed;
      if (result.event == ParseEvent::kError) break;
      if (result.event == ParseEvent::kHeadComplete) {
        (void)writeResponseHead(out, parser.head(), ResponseWriteOptions{});
      } else if (result.event == ParseEvent::kMessageComplete && !parser.head().isInterim()) {
        ++finals;
        parser.expectResponseTo(Method::kGet, false);
      }
    }
    EXPECT_EQ(scope.count(), 0u);
  }
  EXPECT_EQ(finals, 1000u);
  EXPECT_FALSE(parser.failed());
}

}  // namespace
}  // namespace switchyard::http::http1
