// Exposition helpers: plain data -> prometheus::MetricFamily values.
//
// Every Collectable of proxy/metrics builds its families at scrape time from numbers it
// has just summed; these helpers keep that code short and make the histogram rule live
// in one place. They allocate (strings, vectors) and are never called on the request
// path.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

namespace switchyard::proxy::metrics {

using Labels = std::vector<prometheus::ClientMetric::Label>;

// The content type of the text format renderMetrics() produces (format 0.0.4).
inline constexpr const char* kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

prometheus::MetricFamily makeFamily(std::string name, std::string help,
                                    prometheus::MetricType type);

void addCounter(prometheus::MetricFamily& family, Labels labels, double value);
void addGauge(prometheus::MetricFamily& family, Labels labels, double value);

// One histogram series. `counts` are per bucket, NOT cumulative: counts[i] holds the
// observations <= upper_bounds[i] and above the previous bound; the last element (index
// upper_bounds.size()) holds the rest, i.e. the +Inf bucket. So counts.size() must be
// upper_bounds.size() + 1. The exposition gets cumulative buckets, an explicit +Inf
// bucket, and _count equal to it (the sum of counts), so the two always agree even when
// the counts were read while writers ran.
void addHistogram(prometheus::MetricFamily& family, Labels labels,
                  std::span<const double> upper_bounds, std::span<const uint64_t> counts,
                  double sum);

}  // namespace switchyard::proxy::metrics
