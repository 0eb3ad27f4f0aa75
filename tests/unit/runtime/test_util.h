// Helpers shared by the runtime unit tests that need no runtime: sanitizer
// detection, loop scaling, and a watchdog that turns a hang into a failure.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include <gtest/gtest.h>

namespace rt::testing {

#if defined(__SANITIZE_THREAD__)
inline constexpr bool kTsan = true;
#else
inline constexpr bool kTsan = false;
#endif
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAsan = true;
#else
inline constexpr bool kAsan = false;
#endif
inline constexpr bool kSanitized = kTsan || kAsan;

// Iteration counts: `n` normally, n / divisor under a sanitizer (TSan runs
// 5-15x slower, ASan 2-3x), never below 1.
constexpr int64_t scaled(int64_t n, int64_t divisor = 10) {
  if (!kSanitized) return n;
  return n / divisor > 0 ? n / divisor : 1;
}

// Time limits: generous bounds for "eventually" checks, stretched under
// sanitizers. These bound correctness waits, they never measure speed.
inline std::chrono::milliseconds patience(std::chrono::milliseconds normal) {
  return kSanitized ? normal * 5 : normal;
}

// Aborts the process with a message (and whatever `dump` prints) if not
// destroyed within `limit`: a deadlocked runtime then fails with a scheduler
// dump instead of sitting until Bazel's timeout.
class Watchdog {
 public:
  explicit Watchdog(std::chrono::milliseconds limit, std::function<void()> dump = nullptr)
      : dump_(std::move(dump)) {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    name_ = info != nullptr ? std::string(info->test_suite_name()) + "." + info->name() : "?";
    thread_ = std::thread([this, limit] {
      std::unique_lock<std::mutex> l(mu_);
      if (cv_.wait_for(l, limit, [this] { return done_; })) return;
      std::fprintf(stderr, "\nwatchdog: %s still running after %lld ms; aborting\n",
                   name_.c_str(), static_cast<long long>(limit.count()));
      std::fflush(stderr);
      if (dump_) {
        // The dump may need a lock a hung runtime holds: give it 2 s.
        std::thread([this] {
          dump_();
          std::fflush(stderr);
        }).detach();
        std::this_thread::sleep_for(std::chrono::seconds(2));
      }
      std::abort();
    });
  }
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> l(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::function<void()> dump_;
  std::string name_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace rt::testing
