#include "proxy/metrics/metrics_registry.h"

#include <algorithm>
#include <exception>
#include <utility>

#include <prometheus/gauge.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

namespace switchyard::proxy::metrics {

MetricsRegistry::MetricsRegistry(std::string_view version)
    : registry_(std::make_shared<prometheus::Registry>()),
      proxy_stats_(std::make_shared<ProxyStatsCollector>()) {
  prometheus::BuildGauge()
      .Name("switchyard_build_info")
      .Help("Always 1; version: the running build of switchyard.")
      .Register(*registry_)
      .Add({{"version", std::string(version)}})
      .Set(1);
  collectables_.push_back(registry_);
  collectables_.push_back(proxy_stats_);
}

void MetricsRegistry::add(std::shared_ptr<const prometheus::Collectable> collectable) {
  std::lock_guard lock(mu_);
  collectables_.push_back(std::move(collectable));
}

bool MetricsRegistry::remove(const prometheus::Collectable* collectable) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(collectables_.begin(), collectables_.end(),
                         [collectable](const auto& c) { return c.get() == collectable; });
  if (it == collectables_.end()) return false;
  collectables_.erase(it);
  return true;
}

std::string MetricsRegistry::renderMetrics() const {
  try {
    std::vector<std::shared_ptr<const prometheus::Collectable>> collectables;
    {
      std::lock_guard lock(mu_);
      collectables = collectables_;
    }
    std::vector<prometheus::MetricFamily> families;
    for (const auto& collectable : collectables) {
      std::vector<prometheus::MetricFamily> more = collectable->Collect();
      families.insert(families.end(), std::make_move_iterator(more.begin()),
                      std::make_move_iterator(more.end()));
    }
    return prometheus::TextSerializer().Serialize(families);
  } catch (const std::exception& e) {
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    return "# switchyard: rendering metrics failed: " + what + "\n";
  }
}

}  // namespace switchyard::proxy::metrics
