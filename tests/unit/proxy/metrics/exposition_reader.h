// Reads Prometheus text exposition back for tests: sample lines by their exact series
// text as prometheus-cpp writes it, e.g. `switchyard_runtime_workers` or
// `switchyard_http_requests_total{listener="a",route="r",cluster="c",code="2xx"}`.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard::testing {

class ExpositionReader {
 public:
  explicit ExpositionReader(std::string_view text);

  // The value text of `series` ("42", "0.5", "+Inf"), or nullopt if absent.
  std::optional<std::string> raw(const std::string& series) const;
  // The value as a double; NaN if absent.
  double value(const std::string& series) const;
  bool has(const std::string& series) const { return samples_.count(series) != 0; }
  // "# TYPE name <type>" of a family, or "" if absent.
  std::string type(const std::string& family) const;
  size_t samples() const { return samples_.size(); }

 private:
  std::map<std::string, std::string> samples_;
  std::map<std::string, std::string> types_;
};

}  // namespace switchyard::testing
