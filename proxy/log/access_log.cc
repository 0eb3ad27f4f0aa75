#include "proxy/log/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "runtime/runtime.h"

namespace switchyard::log {
namespace {

constexpr auto kFlushPeriod = std::chrono::milliseconds(100);

// Appends into [out, out + cap); remembers overflow instead of failing at
// each step, so formatting code stays linear.
class Appender {
 public:
  Appender(char* out, size_t cap) : out_(out), cap_(cap) {}
  void raw(std::string_view s) {
    if (len_ + s.size() > cap_) {
      overflow_ = true;
      return;
    }
    std::memcpy(out_ + len_, s.data(), s.size());
    len_ += s.size();
  }
  void ch(char c) { raw(std::string_view(&c, 1)); }
  void num(int64_t v) {
    char tmp[24];
    int n = std::snprintf(tmp, sizeof tmp, "%lld", static_cast<long long>(v));
    raw(std::string_view(tmp, static_cast<size_t>(n)));
  }
  // Seconds with millisecond digits, from nanoseconds ("0.001234").
  void seconds(int64_t ns) {
    char tmp[32];
    int n = std::snprintf(tmp, sizeof tmp, "%.6f", static_cast<double>(ns) / 1e9);
    raw(std::string_view(tmp, static_cast<size_t>(n)));
  }
  // A quoted field with `"` and `\` escaped and control bytes written with
  // `control_format` (JSON's \u00XX, or \xXX in the combined format).
  void quoted(std::string_view s, const char* control_format, std::string_view if_empty = {}) {
    ch('"');
    if (s.empty()) raw(if_empty);
    for (unsigned char c : s) {
      if (c == '"' || c == '\\') {
        ch('\\');
        ch(static_cast<char>(c));
      } else if (c < 0x20 || c == 0x7f) {
        char tmp[8];
        std::snprintf(tmp, sizeof tmp, control_format, c);
        raw(tmp);
      } else {
        ch(static_cast<char>(c));
      }
    }
    ch('"');
  }
  void jsonString(std::string_view s) { quoted(s, "\\u%04x"); }
  void quotedText(std::string_view s) { quoted(s, "\\x%02x", "-"); }
  size_t length() const { return overflow_ ? 0 : len_; }

 private:
  char* out_;
  size_t cap_;
  size_t len_ = 0;
  bool overflow_ = false;
};

void writeFully(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;  // a log that cannot be written must not take the proxy down
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

size_t AccessLog::format(config::AccessLogFormat format, const AccessRecord& r, char* out,
                         size_t cap) {
  Appender a(out, cap);
  const time_t secs = static_cast<time_t>(r.unix_time_ns / 1'000'000'000);
  struct tm tm_utc;
  gmtime_r(&secs, &tm_utc);
  char when[40];
  if (format == config::AccessLogFormat::kJson) {
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm_utc);
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03dZ",
                  static_cast<int>((r.unix_time_ns / 1'000'000) % 1000));
    a.raw("{\"time\":\"");
    a.raw(when);
    a.raw(frac);
    a.raw("\",\"client\":");
    a.jsonString(r.client_ip);
    a.raw(",\"method\":");
    a.jsonString(r.method);
    a.raw(",\"target\":");
    a.jsonString(r.target);
    a.raw(r.version_minor == 0 ? ",\"proto\":\"HTTP/1.0\"" : ",\"proto\":\"HTTP/1.1\"");
    a.raw(",\"host\":");
    a.jsonString(r.host);
    a.raw(",\"status\":");
    a.num(r.status);
    a.raw(",\"bytes_sent\":");
    a.num(static_cast<int64_t>(r.bytes_sent));
    a.raw(",\"listener\":");
    a.jsonString(r.listener);
    a.raw(",\"route\":");
    a.jsonString(r.route);
    a.raw(",\"cluster\":");
    a.jsonString(r.cluster);
    a.raw(",\"upstream\":");
    a.jsonString(r.upstream);
    a.raw(",\"duration_s\":");
    a.seconds(r.total_ns);
    a.raw(",\"upstream_duration_s\":");
    if (r.upstream_ns < 0) {
      a.raw("null");
    } else {
      a.seconds(r.upstream_ns);
    }
    a.raw(",\"sched_delay_s\":");
    a.seconds(r.sched_delay_ns);
    a.raw(",\"user_agent\":");
    a.jsonString(r.user_agent);
    a.raw("}\n");
  } else {
    // nginx's "combined", then our timings as key=value.
    std::strftime(when, sizeof when, "[%d/%b/%Y:%H:%M:%S +0000]", &tm_utc);
    a.raw(r.client_ip.empty() ? std::string_view("-") : r.client_ip);
    a.raw(" - - ");
    a.raw(when);
    a.raw(" \"");
    a.raw(r.method);
    a.ch(' ');
    a.raw(r.target);
    a.raw(r.version_minor == 0 ? " HTTP/1.0\" " : " HTTP/1.1\" ");
    a.num(r.status);
    a.ch(' ');
    a.num(static_cast<int64_t>(r.bytes_sent));
    a.ch(' ');
    a.quotedText(r.referer);
    a.ch(' ');
    a.quotedText(r.user_agent);
    a.raw(" rt=");
    a.seconds(r.total_ns);
    a.raw(" urt=");
    if (r.upstream_ns < 0) {
      a.ch('-');
    } else {
      a.seconds(r.upstream_ns);
    }
    a.raw(" sd=");
    a.seconds(r.sched_delay_ns);
    a.ch('\n');
  }
  return a.length();
}

AccessLog::AccessLog(config::AccessLogTarget target, std::string path,
                     config::AccessLogFormat format)
    : target_(target), path_(std::move(path)), format_(format) {}

AccessLog::~AccessLog() {
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

bool AccessLog::openFile(std::string& error_text) {
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    error_text = "access log " + path_ + ": " + std::strerror(errno);
    return false;
  }
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
  fd_ = fd;
  owns_fd_ = true;
  return true;
}

bool AccessLog::start(std::string& error_text) {
  switch (target_) {
    case config::AccessLogTarget::kOff:
      return true;
    case config::AccessLogTarget::kStdout:
      fd_ = STDOUT_FILENO;
      break;
    case config::AccessLogTarget::kStderr:
      fd_ = STDERR_FILENO;
      break;
    case config::AccessLogTarget::kFile: {
      bool ok = rt::blocking([&] { return openFile(error_text); });
      if (!ok) return false;
      break;
    }
  }
  started_ = true;
  flusher_done_.add(1);
  rt::go([this] {
    while (!stopping_.load(std::memory_order_acquire)) {
      flush_mu_.lock();
      flush_cv_.wait_for(flush_mu_, kFlushPeriod);
      flush_mu_.unlock();
      flushAll();
    }
    flushAll();
    flusher_done_.done();
  });
  return true;
}

void AccessLog::stop() {
  if (!started_ || stopping_.exchange(true)) return;
  flush_cv_.notify_all();
  flusher_done_.wait();
}

AccessLog::WorkerBuffer& AccessLog::buffer(int worker) {
  const size_t i =
      worker >= 0 && static_cast<size_t>(worker) < kMaxWorkers ? static_cast<size_t>(worker)
                                                               : kMaxWorkers;
  return buffers_.get(i, [] { return new WorkerBuffer(); });
}

void AccessLog::record(int worker, const AccessRecord& r) {
  if (!started_) return;
  WorkerBuffer& b = buffer(worker);
  // Other Tasks on this worker may refill the buffer while we drain it;
  // each drain empties it, so a few rounds always make room.
  for (int attempt = 0; attempt < 64; attempt++) {
    b.lock.lock();
    const size_t n = format(format_, r, b.data.get() + b.used, kBufferBytes - b.used);
    if (n > 0) {
      b.used += n;
      b.lock.unlock();
      return;
    }
    const bool empty = b.used == 0;
    b.lock.unlock();
    if (empty) break;  // longer than a whole buffer
    drain(b);          // full: write it out ourselves, then retry
  }
  dropped_.fetch_add(1, std::memory_order_relaxed);
}

void AccessLog::drain(WorkerBuffer& b) {
  b.write_mu.lock();
  b.lock.lock();
  std::swap(b.data, b.spare);
  const size_t n = b.used;
  b.used = 0;
  b.lock.unlock();
  if (n > 0) writeOut(b.spare.get(), n);
  b.write_mu.unlock();
}

void AccessLog::writeOut(const char* data, size_t n) {
  file_mu_.lock();
  // The first write after reopen() goes to the new file.
  if (reopen_requested_.exchange(false, std::memory_order_acq_rel) &&
      target_ == config::AccessLogTarget::kFile) {
    std::string err;
    if (!rt::blocking([&] { return openFile(err); })) {
      std::fprintf(stderr, "switchyard: reopen failed, keeping the old file: %s\n", err.c_str());
    }
  }
  const int fd = fd_;
  rt::blocking([&] { writeFully(fd, data, n); });
  written_.fetch_add(n, std::memory_order_relaxed);
  file_mu_.unlock();
}

void AccessLog::flushAll() {
  buffers_.forEach([this](WorkerBuffer& b) { drain(b); });
}

}  // namespace switchyard::log
