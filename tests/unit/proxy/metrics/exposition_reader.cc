#include "tests/unit/proxy/metrics/exposition_reader.h"

#include <cmath>
#include <cstdlib>
#include <limits>

namespace switchyard::testing {

ExpositionReader::ExpositionReader(std::string_view text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    if (line.starts_with("# TYPE ")) {
      std::string_view rest = line.substr(7);
      const size_t space = rest.find(' ');
      types_[std::string(rest.substr(0, space))] = std::string(rest.substr(space + 1));
      continue;
    }
    if (line[0] == '#') continue;
    // The value follows the last space (label values may contain spaces, the value not).
    const size_t space = line.rfind(' ');
    if (space == std::string_view::npos) continue;
    samples_[std::string(line.substr(0, space))] = std::string(line.substr(space + 1));
  }
}

std::optional<std::string> ExpositionReader::raw(const std::string& series) const {
  auto it = samples_.find(series);
  if (it == samples_.end()) return std::nullopt;
  return it->second;
}

double ExpositionReader::value(const std::string& series) const {
  std::optional<std::string> text = raw(series);
  if (!text.has_value()) return std::numeric_limits<double>::quiet_NaN();
  if (*text == "+Inf") return std::numeric_limits<double>::infinity();
  return std::strtod(text->c_str(), nullptr);
}

std::string ExpositionReader::type(const std::string& family) const {
  auto it = types_.find(family);
  return it == types_.end() ? std::string() : it->second;
}

}  // namespace switchyard::testing
