// libFuzzer target for the config loader: arbitrary bytes must yield either a snapshot
// or a list of errors, never a crash, a hang or an escaped exception. Every produced
// error is formatted too, so message building (quoting, truncation) is exercised.
//
//   bazel build --config=fuzz //tests/fuzz:config_fuzz
//   bazel-bin/tests/fuzz/config_fuzz -max_total_time=60 tests/fuzz/corpus/config
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "config/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Real configs are a few KiB. Larger inputs only slow the fuzzer down (toml++ parse
  // time grows with size) without reaching new code.
  constexpr size_t kMaxInputBytes = 64 * 1024;
  if (size > kMaxInputBytes) return -1;  // -1: do not add this input to the corpus

  // A fixed CPU set keeps runs reproducible and avoids a system call per input.
  static const switchyard::config::LoadOptions options = [] {
    switchyard::config::LoadOptions fixed;
    fixed.allowed_cpus = std::vector<int>{0, 1, 2, 3};
    return fixed;
  }();

  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const switchyard::config::LoadResult result =
      switchyard::config::loadConfigString(text, "fuzz.toml", options);
  if (result.ok()) {
    // A snapshot must never come with errors, and must be whole.
    if (!result.errors().empty() || result.config()->listeners.empty()) __builtin_trap();
  } else {
    if (result.errors().empty()) __builtin_trap();
    for (const switchyard::config::ConfigError& error : result.errors()) {
      if (error.toString().empty()) __builtin_trap();
    }
  }
  return 0;
}
