#include "proxy/resilience/retry_budget.h"

#include <algorithm>

namespace switchyard::proxy::resilience {

RetryBudget::RetryBudget(int budget_percent, int min_retry_concurrency)
    : budget_percent_(budget_percent),
      min_retry_concurrency_(min_retry_concurrency),
      active_(new Word[kMaxWorkers]) {}

int64_t RetryBudget::activeRequests() const {
  uint64_t sum = 0;
  for (int w = 0; w < kMaxWorkers; ++w) sum += active_[w].value.load(std::memory_order_relaxed);
  // A sum read while requests move between workers may be off by the few in transit;
  // never report a negative count.
  const auto signed_sum = static_cast<int64_t>(sum);
  return signed_sum < 0 ? 0 : signed_sum;
}

int64_t RetryBudget::allowed() const {
  return std::max<int64_t>(min_retry_concurrency_, activeRequests() * budget_percent_ / 100);
}

bool RetryBudget::tryStartRetry() {
  const int64_t limit = allowed();
  int64_t current = retries_.load(std::memory_order_relaxed);
  // Bounded CAS loop: each failure means another retry started or ended meanwhile.
  for (int i = 0; i < 64; ++i) {
    if (current >= limit) return false;
    if (retries_.compare_exchange_weak(current, current + 1, std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

}  // namespace switchyard::proxy::resilience
