// ConfigStore: owns the current Config snapshot and replaces it on reload.
//
// The contract (docs/CONFIG.md, "Reload (SIGHUP)"):
//  1. reload(path) loads and validates the file on the calling thread: never on the
//     request path. The runtime calls it when SIGHUP arrives; config/ handles no signals.
//  2. Invalid file: the current snapshot stays (the very same pointer), the errors are
//     returned for logging and reloads_failure is incremented.
//  3. Valid file: the snapshot is swapped atomically, then every subscriber is called with
//     (previous, next) in subscription order, and reloads_success is incremented. A valid
//     file identical to the current one is still swapped and announced: the TLS layer
//     re-reads certificate files on every reload even when the config text is unchanged.
//
// Readers: current() returns the snapshot, which stays valid for as long as the reader
// holds it (an in-flight request finishes on the config it started with). It costs an
// uncontended mutex and a reference count increment, so hot paths should not call it per
// request: cache the snapshot (per connection or per P) and refresh it when generation()
// changes, which is one atomic load.
//
// Why a mutex and not std::atomic<std::shared_ptr>: libstdc++ 12's atomic<shared_ptr>
// load() releases its internal lock bit with memory_order_relaxed
// (bits/shared_ptr_atomic.h), so the read of the stored pointer is not ordered before a
// concurrent store: a data race by the C++ memory model, reported by ThreadSanitizer
// (google/sanitizers#1558) and a possible pointer/control-block mix-up on weakly ordered
// CPUs. A mutex held for one pointer copy is correct everywhere and, uncontended, costs
// about the same.
//
// Threads: any thread may call current(), generation(), the counters and subscribe().
// reload() calls are serialised, so subscribers see swaps one at a time and in order.
// Subscribers run on the reloading thread, after the swap, and must not call reload()
// (it would deadlock); they may subscribe or unsubscribe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/loader.h"

namespace switchyard::config {

struct ReloadOutcome {
  bool applied = false;             // the new snapshot is now current
  std::vector<ConfigError> errors;  // why not, when !applied
  std::string previous_hash;        // Config::hash before the reload
  std::string current_hash;         // Config::hash after it (== previous_hash when !applied)
};

class ConfigStore {
 public:
  using Subscriber = std::function<void(const std::shared_ptr<const Config>& previous,
                                        const std::shared_ptr<const Config>& next)>;
  using SubscriptionId = uint64_t;

  // `initial` must not be null. `options` are used for every reload (tests inject the
  // allowed CPUs through them).
  explicit ConfigStore(std::shared_ptr<const Config> initial, LoadOptions options = {});

  ConfigStore(const ConfigStore&) = delete;
  ConfigStore& operator=(const ConfigStore&) = delete;

  std::shared_ptr<const Config> current() const {
    std::lock_guard lock(current_mutex_);
    return current_;
  }

  // Incremented after every swap (it starts at 0 for the initial snapshot).
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // Loads `path`; see the contract above.
  ReloadOutcome reload(const std::string& path);

  // `subscriber` is called after each successful reload until unsubscribed. A reload
  // already notifying when unsubscribe() returns may still call it once.
  SubscriptionId subscribe(Subscriber subscriber);
  // Returns false if `id` is not subscribed (any more).
  bool unsubscribe(SubscriptionId id);

  // For switchyard_config_reloads_total{result="success"|"failure"}.
  uint64_t reloadsSucceeded() const { return reloads_success_.load(std::memory_order_relaxed); }
  uint64_t reloadsFailed() const { return reloads_failure_.load(std::memory_order_relaxed); }

  // The current snapshot's Config::hash, for the config hash metric.
  std::string currentHash() const { return current()->hash; }

 private:
  const LoadOptions options_;
  // Guards current_ only: held for a pointer copy, never while loading or notifying.
  mutable std::mutex current_mutex_;
  std::shared_ptr<const Config> current_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<uint64_t> reloads_success_{0};
  std::atomic<uint64_t> reloads_failure_{0};

  // Serialises reload(): one load, swap and notification at a time.
  std::mutex reload_mutex_;

  // Guards subscribers_ and next_subscription_id_; never held while a subscriber runs,
  // so subscribers may (un)subscribe.
  std::mutex subscribers_mutex_;
  std::vector<std::pair<SubscriptionId, std::shared_ptr<const Subscriber>>> subscribers_;
  SubscriptionId next_subscription_id_ = 1;
};

}  // namespace switchyard::config
