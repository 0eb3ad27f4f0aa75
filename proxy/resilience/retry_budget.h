// RetryBudget: how many retries a cluster may have in flight, as a share of its active
// requests (Envoy's retry budget), so that retries cannot multiply an outage.
//
// Without a budget, a cluster whose endpoints all fail turns every request into
// 1 + max_retries upstream tries: the failing upstream gets more traffic exactly when it
// can take the least. With a budget, retries in flight stay below
//   max(min_retry_concurrency, active_requests * budget_percent / 100),
// so under a total outage the extra load is bounded by budget_percent, while a single
// flaky endpoint in a healthy cluster (few retries among many requests) always gets its
// retries. min_retry_concurrency keeps a quiet cluster (a handful of requests) able to
// retry at all.
//
// Costs: counting active requests happens on every request, so it is per worker (P): a
// relaxed load and store of the worker's own padded word, no shared write. A request may
// end on another worker than it started on (a Task moves when it parks), so the words are
// modular sums that only add up to the truth together; that sum is read only when a retry
// is wanted (cold: after a failure), 256 cache lines at most. The retries-in-flight count
// is one shared atomic, touched only by retries.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace switchyard::proxy::resilience {

class RetryBudget {
 public:
  static constexpr int kMaxWorkers = 256;

  RetryBudget(int budget_percent, int min_retry_concurrency);
  RetryBudget(const RetryBudget&) = delete;
  RetryBudget& operator=(const RetryBudget&) = delete;

  // Request path: a request to the cluster started / ended. `worker`: the caller's P now
  // (rt::current_worker(); -1 outside Tasks shares slot 0's neighbour, see wrap()).
  void requestStarted(int worker) { bump(worker, 1); }
  void requestEnded(int worker) { bump(worker, static_cast<uint64_t>(-1)); }

  // A retry is wanted: true if the budget allows it, and then retryEnded() must follow
  // once that retry (and the request) is over.
  bool tryStartRetry();
  void retryEnded() { retries_.fetch_sub(1, std::memory_order_relaxed); }

  // Sums, for the decision and for tests.
  int64_t activeRequests() const;
  int64_t activeRetries() const { return retries_.load(std::memory_order_relaxed); }
  // The retries in flight the budget allows now.
  int64_t allowed() const;

 private:
  struct alignas(64) Word {
    std::atomic<uint64_t> value{0};
  };
  static size_t wrap(int worker) {
    return static_cast<unsigned>(worker) % static_cast<unsigned>(kMaxWorkers);
  }
  void bump(int worker, uint64_t delta) {
    // Single writer per word while the caller's precondition holds: load + store, no RMW.
    std::atomic<uint64_t>& v = active_[wrap(worker)].value;
    v.store(v.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  }

  const int budget_percent_;
  const int min_retry_concurrency_;
  std::unique_ptr<Word[]> active_;
  std::atomic<int64_t> retries_{0};
};

}  // namespace switchyard::proxy::resilience
