// RetryPolicy: whether one request may be sent again after a failed try.
//
// The rules ([cluster.retry]), checked in this order:
//   1. A retry never follows a try that may have had an effect the client did not ask
//      twice for: after a connect failure nothing reached the upstream, so any method may
//      be retried; after a reset before the response, or a retryable 5xx status, only an
//      idempotent request without a body (RFC 9110 9.2.2; a body already streamed is gone).
//   2. The condition must be enabled (retry_on) and tries left (max_retries).
//   3. The cluster's retry budget must allow one more retry in flight (retry_budget.h).
// The caller excludes the endpoint that just failed from the next pick, so each try goes
// to a different endpoint than the one before when the cluster has another healthy one.
//
// One RetryPolicy lives on the stack of one request; it returns the budget slots it took
// when destroyed (the retries are over when the request is).
#pragma once

#include <algorithm>

#include "config/config.h"
#include "proxy/resilience/retry_budget.h"

namespace switchyard::proxy::resilience {

class RetryPolicy {
 public:
  enum class Failure {
    kConnect,  // the connect failed: no byte reached the upstream
    kReset,    // connected, then closed or reset before any response byte
    kStatus,   // a complete response head with a 5xx status
  };
  enum class Decision {
    kRetry,            // try again (a budget slot is taken)
    kNotRetryable,     // rules 1-2 say no: answer with this try's error
    kBudgetExhausted,  // rule 3 says no: answer with this try's error, and count it
  };

  // `idempotent`: the request may be repeated (method, no body, no upgrade).
  RetryPolicy(const config::RetryConfig& config, RetryBudget& budget, bool idempotent)
      : config_(config), budget_(budget), idempotent_(idempotent) {}
  ~RetryPolicy() {
    for (int i = 0; i < taken_; ++i) budget_.retryEnded();
  }
  RetryPolicy(const RetryPolicy&) = delete;
  RetryPolicy& operator=(const RetryPolicy&) = delete;

  // After a failed try. `status` only for kStatus.
  Decision onFailure(Failure failure, int status = 0) {
    if (!retryable(failure, status) || retries_ >= config_.max_retries) {
      return Decision::kNotRetryable;
    }
    if (!budget_.tryStartRetry()) return Decision::kBudgetExhausted;
    ++taken_;
    ++retries_;
    return Decision::kRetry;
  }

  // Whether a response with this status would be retried (before reading its body).
  bool wantsStatus(int status) const {
    return idempotent_ && retries_ < config_.max_retries &&
           std::find(config_.on_statuses.begin(), config_.on_statuses.end(), status) !=
               config_.on_statuses.end();
  }

  int retries() const { return retries_; }

 private:
  bool retryable(Failure failure, int status) const {
    switch (failure) {
      case Failure::kConnect: return config_.on_connect_failure;
      case Failure::kReset: return idempotent_ && config_.on_reset;
      case Failure::kStatus: return wantsStatus(status);
    }
    return false;
  }

  const config::RetryConfig& config_;
  RetryBudget& budget_;
  const bool idempotent_;
  int retries_ = 0;
  int taken_ = 0;
};

}  // namespace switchyard::proxy::resilience
