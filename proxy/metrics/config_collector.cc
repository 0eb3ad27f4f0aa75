#include "proxy/metrics/config_collector.h"

#include <utility>

#include "proxy/metrics/exposition.h"

namespace switchyard::proxy::metrics {
namespace {

int64_t toMillis(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

ConfigCollector::ConfigCollector(config::ConfigStore& store,
                                 std::chrono::system_clock::time_point loaded_at)
    : store_(store),
      last_success_ms_(std::make_shared<std::atomic<int64_t>>(toMillis(loaded_at))) {
  subscription_ = store_.subscribe(
      [last = last_success_ms_](const std::shared_ptr<const config::Config>&,
                                const std::shared_ptr<const config::Config>&) {
        last->store(toMillis(std::chrono::system_clock::now()), std::memory_order_relaxed);
      });
}

ConfigCollector::~ConfigCollector() { store_.unsubscribe(subscription_); }

std::vector<prometheus::MetricFamily> ConfigCollector::Collect() const {
  std::vector<prometheus::MetricFamily> out;

  auto reloads = makeFamily("switchyard_config_reloads_total",
                            "Configuration reloads (SIGHUP), by result. A failed reload "
                            "keeps the previous configuration.",
                            prometheus::MetricType::Counter);
  addCounter(reloads, {{"result", "failure"}}, static_cast<double>(store_.reloadsFailed()));
  addCounter(reloads, {{"result", "success"}}, static_cast<double>(store_.reloadsSucceeded()));
  out.push_back(std::move(reloads));

  auto last = makeFamily("switchyard_config_last_reload_success_timestamp_seconds",
                         "Unix time of the last successful configuration load (start-up "
                         "or reload).",
                         prometheus::MetricType::Gauge);
  addGauge(last, {},
           static_cast<double>(last_success_ms_->load(std::memory_order_relaxed)) / 1e3);
  out.push_back(std::move(last));

  auto info = makeFamily("switchyard_config_info",
                         "Always 1; hash: FNV-1a 64 of the loaded configuration file.",
                         prometheus::MetricType::Gauge);
  addGauge(info, {{"hash", store_.currentHash()}}, 1);
  out.push_back(std::move(info));
  return out;
}

}  // namespace switchyard::proxy::metrics
