// AccessLog: one line per request, json or combined, never blocking a worker.
//
// Owns the log destination and its buffers. record() formats the line into
// the current worker's buffer (a per-worker lock, contended only by the
// flusher): no syscall, no allocation once the buffers exist. A flusher
// Task writes the buffers out every 100 ms inside rt::blocking(), so a slow
// disk stalls no P. When a buffer fills first, the recording Task writes it
// out itself (again inside rt::blocking: that Task waits, its worker does
// not), so a burst slows the requests that cause it instead of losing
// lines. Each buffer is double-buffered and written under its own mutex,
// so lines keep their order. A line longer than a buffer is dropped and
// counted. reopen() (SIGHUP, SIGUSR1) reopens the file, for logrotate.
//
// Each line carries the request's own scheduling delay — the time its Task
// spent runnable but not running — so "upstream slow" and "proxy starved"
// look different in the log.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "proxy/lazy_per_worker.h"
#include "runtime/internal/spin_lock.h"
#include "runtime/sync/sync.h"

namespace switchyard::log {

struct AccessRecord {
  std::string_view client_ip;
  std::string_view method;
  std::string_view target;
  uint8_t version_minor = 1;
  std::string_view host;
  std::string_view user_agent;
  std::string_view referer;
  std::string_view listener;
  std::string_view route;      // empty: no route matched
  std::string_view cluster;    // empty: direct response
  std::string_view upstream;   // endpoint "host:port", empty if none
  int status = 0;
  uint64_t bytes_sent = 0;     // response bytes written to the client
  int64_t total_ns = 0;        // head read to response end
  int64_t upstream_ns = -1;    // connect/send to response end; -1: no upstream
  int64_t sched_delay_ns = 0;  // this request's time runnable but not running
  int64_t unix_time_ns = 0;    // when the request started (wall clock)
};

class AccessLog {
 public:
  static constexpr size_t kMaxWorkers = 256;
  static constexpr size_t kBufferBytes = 64 * 1024;

  // kOff makes record() a no-op. Opening happens in start().
  AccessLog(config::AccessLogTarget target, std::string path, config::AccessLogFormat format);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // In a Task: opens the destination and starts the flusher Task.
  bool start(std::string& error_text);
  // Flushes everything and stops the flusher (in a Task).
  void stop();
  // Reopens the file at the next flush (logrotate moved it away).
  void reopen() { reopen_requested_.store(true, std::memory_order_release); }

  void record(int worker, const AccessRecord& r);

  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t bytesWritten() const { return written_.load(std::memory_order_relaxed); }

  // The line for `r` (exposed for tests). Returns the length written into
  // `out`, or 0 if it does not fit.
  static size_t format(config::AccessLogFormat format, const AccessRecord& r, char* out,
                       size_t cap);

 private:
  struct WorkerBuffer {
    rt::internal::SpinLock lock;  // guards data/used: held for a format or a swap
    rt::Mutex write_mu;           // one writer at a time, so lines stay in order
    std::unique_ptr<char[]> data{new char[kBufferBytes]};
    std::unique_ptr<char[]> spare{new char[kBufferBytes]};
    size_t used = 0;
  };
  WorkerBuffer& buffer(int worker);
  void drain(WorkerBuffer& b);
  void writeOut(const char* data, size_t n);
  void flushAll();
  bool openFile(std::string& error_text);

  const config::AccessLogTarget target_;
  const std::string path_;
  const config::AccessLogFormat format_;
  // The destination, touched only under file_mu_: a reopen must never close
  // an fd another Task is writing to (its number could be reused by a socket).
  rt::Mutex file_mu_;
  int fd_ = -1;
  bool owns_fd_ = false;
  LazyPerWorker<WorkerBuffer, kMaxWorkers + 1> buffers_;  // +1: not a worker
  std::atomic<bool> stopping_{false};
  std::atomic<bool> reopen_requested_{false};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> written_{0};
  rt::Mutex flush_mu_;
  rt::CondVar flush_cv_;
  rt::WaitGroup flusher_done_;
  bool started_ = false;
};

}  // namespace switchyard::log
