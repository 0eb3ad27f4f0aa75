// MetricsRegistry: everything /metrics shows, and the text that shows it.
//
// One per process. It owns
//   - a prometheus::Registry for ordinary prometheus-cpp metrics (Counter, Gauge, ...
//     families built with prometheus::BuildCounter() etc.): code that is not on the
//     request path may use it directly; switchyard_build_info lives there;
//   - the ProxyStatsCollector (request-path counters, stable across reloads);
//   - any other Collectable added with add(): RuntimeCollector, ConfigCollector.
// renderMetrics() collects them all, in that order, and serialises them with
// prometheus::TextSerializer (text format 0.0.4, content type kTextContentType).
//
// Metric names are a public API: docs/METRICS.md lists every one.
//
// Threads: every method may be called from any thread or Task. A scrape holds short
// std::mutex sections (the list of collectables, each collector's own state); nothing
// it locks is taken on the request path.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/registry.h>

#include "proxy/metrics/proxy_stats_collector.h"

namespace switchyard::proxy::metrics {

class MetricsRegistry {
 public:
  // `version`: the build's version string, for switchyard_build_info{version}.
  explicit MetricsRegistry(std::string_view version);
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  prometheus::Registry& registry() { return *registry_; }
  ProxyStatsCollector& proxyStats() { return *proxy_stats_; }

  // Adds a collectable; it is collected after the ones added before it. Each metric
  // name must come from one collectable only.
  void add(std::shared_ptr<const prometheus::Collectable> collectable);
  // Removes it; false if it was not added.
  bool remove(const prometheus::Collectable* collectable);

  // The text exposition of every metric. Never throws: a library exception is caught
  // here, at the edge, and turned into a comment-only document (valid and empty).
  std::string renderMetrics() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<ProxyStatsCollector> proxy_stats_;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<const prometheus::Collectable>> collectables_;  // guarded
};

}  // namespace switchyard::proxy::metrics
