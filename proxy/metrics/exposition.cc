#include "proxy/metrics/exposition.h"

#include <cassert>
#include <limits>
#include <utility>

namespace switchyard::proxy::metrics {

prometheus::MetricFamily makeFamily(std::string name, std::string help,
                                    prometheus::MetricType type) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  return family;
}

void addCounter(prometheus::MetricFamily& family, Labels labels, double value) {
  assert(family.type == prometheus::MetricType::Counter);
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  metric.counter.value = value;
  family.metric.push_back(std::move(metric));
}

void addGauge(prometheus::MetricFamily& family, Labels labels, double value) {
  assert(family.type == prometheus::MetricType::Gauge);
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  metric.gauge.value = value;
  family.metric.push_back(std::move(metric));
}

void addHistogram(prometheus::MetricFamily& family, Labels labels,
                  std::span<const double> upper_bounds, std::span<const uint64_t> counts,
                  double sum) {
  assert(family.type == prometheus::MetricType::Histogram);
  assert(counts.size() == upper_bounds.size() + 1);
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  metric.histogram.bucket.reserve(counts.size());
  uint64_t cumulative = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    prometheus::ClientMetric::Bucket bucket;
    bucket.cumulative_count = cumulative;
    bucket.upper_bound =
        i < upper_bounds.size() ? upper_bounds[i] : std::numeric_limits<double>::infinity();
    metric.histogram.bucket.push_back(bucket);
  }
  metric.histogram.sample_count = cumulative;
  metric.histogram.sample_sum = sum;
  family.metric.push_back(std::move(metric));
}

}  // namespace switchyard::proxy::metrics
