// Loader: switchyard.toml text -> validated Config snapshot, or every problem in it.
//
// Owns the TOML syntax and all validation: key names (with "did you mean" suggestions),
// value types, units, ranges, cross-references between sections (routes -> listeners and
// clusters), duplicate names and addresses, and cpu_affinity against the CPUs the process
// may use. loader.cc is the only file of the project that includes toml++; toml++ reports
// syntax errors by exception, and they are caught there and turned into ConfigError, so
// no exception crosses this header.
//
// Validation does not stop at the first problem: one run reports all of them, sorted by
// position in the file, so an operator fixes a file in one pass. The exception is a TOML
// syntax error, after which nothing can be read reliably (toml++ stops there too).
//
// No side effects besides reading the file: nothing is opened, bound or resolved, and
// certificate files are not read (the TLS layer does that, and reports their errors).
//
// Call it where a deep stack is available (an ordinary thread: at startup, or the thread
// that handles reloads), not on a small G stack: toml++ recurses once per nesting level
// of the input, up to its limit of 256.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.h"

namespace switchyard::config {

// One problem in a config file, located precisely enough to jump to it in an editor.
struct ConfigError {
  std::string file;      // the path or source name given to the loader
  int line = 0;          // 1-based; 0 when the problem concerns the whole file
  int column = 0;        // 1-based, counted in characters (UTF-8 code points)
  std::string key_path;  // "runtime.workers", "listener[1].tls.certificates[0].cert"; may be empty
  std::string message;   // says what was expected, e.g. `expected "host:port", got "8080"`

  // `switchyard.toml:12:9: listener[0].address: expected "host:port", got "8080"`.
  // Parts that are unknown (line 0, empty key path) are left out.
  std::string toString() const;
};

// Either a snapshot or the list of everything wrong with the input, never both.
class LoadResult {
 public:
  static LoadResult success(std::shared_ptr<const Config> config);
  static LoadResult failure(std::vector<ConfigError> errors);  // errors must not be empty

  bool ok() const { return std::holds_alternative<std::shared_ptr<const Config>>(value_); }
  // Precondition: ok().
  const std::shared_ptr<const Config>& config() const;
  // Empty when ok().
  const std::vector<ConfigError>& errors() const;
  // Every error's toString(), one per line (empty when ok()): what `switchyard --check`
  // and a failed reload print.
  std::string errorReport() const;

 private:
  explicit LoadResult(std::variant<std::shared_ptr<const Config>, std::vector<ConfigError>> value)
      : value_(std::move(value)) {}
  std::variant<std::shared_ptr<const Config>, std::vector<ConfigError>> value_;
};

struct LoadOptions {
  // The CPUs `runtime.cpu_affinity` may name. nullopt: ask the kernel for this process's
  // affinity mask (cpusAllowedForProcess()). Tests inject a fixed set so that results do
  // not depend on the machine.
  std::optional<std::vector<int>> allowed_cpus;
};

// Files larger than this are refused: a config is a few KiB, and reading a wrong path
// such as a log file or /dev/zero must not exhaust memory.
inline constexpr size_t kMaxConfigFileBytes = 16 * 1024 * 1024;

// Reads and validates the file at `path`. Errors name the file as `path` was given.
LoadResult loadConfigFile(const std::string& path, const LoadOptions& options = {});

// Validates `text`; `source_name` is used as the file name in errors and as
// Config::source_name ("<embedded default>", "<stdin>", a path).
LoadResult loadConfigString(std::string_view text, std::string_view source_name,
                            const LoadOptions& options = {});

// The CPUs this process may run on, sorted (sched_getaffinity). Empty if the kernel
// does not say, in which case cpu_affinity is checked only for syntax.
std::vector<int> cpusAllowedForProcess();

// FNV-1a 64-bit hash of `bytes` as 16 lower-case hex digits: stable across machines,
// runs and compilers, cheap, and good enough to tell two config files apart in a metric.
// Not a security measure.
std::string contentHash(std::string_view bytes);

}  // namespace switchyard::config
