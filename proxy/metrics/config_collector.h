// ConfigCollector: the loaded configuration and its reloads as switchyard_config_*.
//
//   switchyard_config_reloads_total{result="success"|"failure"}   ConfigStore's counters
//   switchyard_config_last_reload_success_timestamp_seconds        wall-clock time of the
//       last successful load: construction (the start-up load), then every reload the
//       store announces to its subscribers
//   switchyard_config_info{hash}                                   1, hash = Config::hash
//
// Reads the store at scrape time (its counters are atomics, its current hash a pointer
// copy under its mutex), so nothing needs to be told about a reload except the
// timestamp, which comes from a ConfigStore subscription.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "config/reload.h"

namespace switchyard::proxy::metrics {

class ConfigCollector : public prometheus::Collectable {
 public:
  // `store` must outlive the collector. `loaded_at`: when the store's initial snapshot
  // was loaded.
  explicit ConfigCollector(
      config::ConfigStore& store,
      std::chrono::system_clock::time_point loaded_at = std::chrono::system_clock::now());
  ~ConfigCollector() override;
  ConfigCollector(const ConfigCollector&) = delete;
  ConfigCollector& operator=(const ConfigCollector&) = delete;

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  config::ConfigStore& store_;
  // Shared with the subscription, which a reload in progress may still call once after
  // the collector is gone (ConfigStore::unsubscribe's contract).
  std::shared_ptr<std::atomic<int64_t>> last_success_ms_;
  config::ConfigStore::SubscriptionId subscription_ = 0;
};

}  // namespace switchyard::proxy::metrics
