// Running the runtime inside a test: rt::run under a watchdog that dumps the
// scheduler state (scheddetail format) if the test hangs, and bounded
// polling from inside Tasks.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>

#include "runtime/runtime.h"
#include "tests/unit/runtime/test_util.h"

namespace rt::testing {

inline std::atomic<bool>& runtimeRunning() {
  static std::atomic<bool> running{false};
  return running;
}

inline Options withWorkers(int n) {
  Options o;
  o.workers = n;
  return o;
}

// rt::run(opts, fn) with a watchdog of `limit` (doubled under sanitizers).
// The default stays below a "small" test's 60 s timeout, so a hang ends
// with the scheduler dump rather than Bazel's kill.
inline int runTest(const Options& opts, std::function<void()> fn,
                   std::chrono::milliseconds limit = std::chrono::seconds(25)) {
  Watchdog dog(kSanitized ? limit * 2 : limit, [] {
    if (!runtimeRunning().load()) return;
    std::string text = formatSchedTrace(rt::snapshot(/*with_tasks=*/true), /*detailed=*/true);
    std::fwrite(text.data(), 1, text.size(), stderr);
  });
  runtimeRunning().store(true);
  int rc = rt::run(opts, std::move(fn));
  runtimeRunning().store(false);
  return rc;
}

// From a Task: polls pred() every `step` (sleeping, so other Tasks run) until
// it holds or `timeout` passes. Returns pred()'s final value.
template <class Pred>
bool eventually(Pred&& pred, std::chrono::milliseconds timeout,
                std::chrono::microseconds step = std::chrono::milliseconds(1)) {
  const auto end = std::chrono::steady_clock::now() + patience(timeout);
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= end) return pred();
    rt::sleep_for(step);
  }
  return true;
}

// Number of live Tasks whose wait reason is `reason` (e.g. "chan receive").
inline int tasksWaitingOn(const std::string& reason) {
  int n = 0;
  for (const TaskSnapshot& t : rt::snapshot(/*with_tasks=*/true).tasks) {
    if (t.status == 4 && t.wait_reason == reason) n++;
  }
  return n;
}

}  // namespace rt::testing
