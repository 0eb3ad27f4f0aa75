// Router: see router.h for the matching rules. Everything that can be decided once is
// decided in build(); match() only compares bytes.
#include "proxy/router/router.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace switchyard::proxy {
namespace {

constexpr char asciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

std::string lowerCased(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = asciiLower(c);
  return out;
}

// `text` equals `lower` when ASCII letters of `text` are folded; `lower` is already
// lower-case. No copy of `text` is made (the hot-path rule).
bool equalsFolded(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (asciiLower(text[i]) != lower[i]) return false;
  }
  return true;
}

}  // namespace

std::string_view Router::normalizeHost(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    // IPv6 literal: "[::1]" or "[::1]:8080". Without the closing bracket the value is
    // malformed; it is left whole and can only match routes without `host`.
    const size_t close = host.find(']');
    if (close == std::string_view::npos) return host;
    return host.substr(1, close - 1);
  }
  const size_t colon = host.find(':');
  if (colon != std::string_view::npos && host.find(':', colon + 1) == std::string_view::npos) {
    host = host.substr(0, colon);  // "name:port" (a second ':' means an unbracketed IPv6)
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return host;
}

bool Router::CompiledRoute::matches(std::string_view normalized_host,
                                    std::string_view req_path) const {
  // The path first: it is case-sensitive (a plain memcmp) and usually the more selective.
  if (path_match == config::PathMatch::kExact) {
    if (req_path != path) return false;
  } else {
    if (req_path.substr(0, path.size()) != path) return false;
  }
  switch (host_match) {
    case HostMatch::kAny:
      return true;
    case HostMatch::kExact:
      return equalsFolded(normalized_host, host);
    case HostMatch::kSuffix:
      // Strictly longer than ".example.com": the bare "example.com" is one byte shorter
      // and ".example.com" alone has an empty first label; neither matches.
      return normalized_host.size() > host.size() &&
             equalsFolded(normalized_host.substr(normalized_host.size() - host.size()), host);
  }
  return false;
}

std::unique_ptr<const Router> Router::build(const config::Config& config) {
  std::unique_ptr<Router> router(new Router());

  router->routes_.reserve(config.routes.size());
  for (size_t i = 0; i < config.routes.size(); ++i) {
    const config::RouteConfig& source = config.routes[i];
    CompiledRoute route;
    if (source.host) {
      std::string pattern = lowerCased(*source.host);
      // Validation refuses a trailing dot; dropping it keeps the rule "one trailing dot
      // is insignificant" symmetric should that ever change.
      if (!pattern.empty() && pattern.back() == '.') pattern.pop_back();
      if (pattern.size() >= 2 && pattern[0] == '*' && pattern[1] == '.') {
        route.host_match = HostMatch::kSuffix;
        route.host = pattern.substr(1);  // keep the dot: ".example.com"
      } else {
        route.host_match = HostMatch::kExact;
        route.host = std::move(pattern);
      }
    }
    route.path_match = source.path_match;
    route.path = source.path;

    RouteMatch& result = route.result;
    result.route_index = i;
    result.route_name = source.name;
    if (const auto* target = std::get_if<config::ClusterTarget>(&source.action)) {
      size_t index = target->cluster_index;
      if (index >= config.clusters.size() || config.clusters[index].name != target->cluster) {
        // An index that disagrees with the name: trust the name, as validation did.
        index = config.clusters.size();
        for (size_t c = 0; c < config.clusters.size(); ++c) {
          if (config.clusters[c].name == target->cluster) index = c;
        }
        if (index == config.clusters.size()) return nullptr;
      }
      result.action = RouteMatch::Action::kCluster;
      result.cluster_index = index;
      result.cluster_name = config.clusters[index].name;
    } else {
      const auto& direct = std::get<config::DirectResponse>(source.action);
      result.action = RouteMatch::Action::kDirectResponse;
      result.status = direct.status;
      result.body = direct.body;
    }
    router->routes_.push_back(std::move(route));
  }

  // Candidate lists: for listener L, every route with no listener or listener == L, in
  // file order; the extra last range (unknown listener) holds the listener-less routes.
  const size_t listener_count = config.listeners.size();
  router->listener_names_.reserve(listener_count);
  for (const config::ListenerConfig& listener : config.listeners) {
    router->listener_names_.push_back(listener.name);
  }
  router->listener_ranges_.reserve(listener_count + 1);
  for (size_t l = 0; l <= listener_count; ++l) {
    Range range;
    range.begin = static_cast<uint32_t>(router->candidates_.size());
    for (size_t r = 0; r < config.routes.size(); ++r) {
      const std::optional<std::string>& only = config.routes[r].listener;
      const bool applies = !only || (l < listener_count && *only == config.listeners[l].name);
      if (applies) router->candidates_.push_back(static_cast<uint32_t>(r));
    }
    range.end = static_cast<uint32_t>(router->candidates_.size());
    router->listener_ranges_.push_back(range);
  }
  return router;
}

size_t Router::listenerIndex(std::string_view name) const {
  for (size_t i = 0; i < listener_names_.size(); ++i) {
    if (listener_names_[i] == name) return i;
  }
  return kUnknownListener;
}

const RouteMatch* Router::scan(Range range, std::string_view host, std::string_view path) const {
  const std::string_view normalized_host = normalizeHost(host);
  // The query string and fragment are never part of the match (config refuses '?' and
  // '#' in route paths, so cutting them here cannot hide a match).
  const size_t query = path.find_first_of("?#");
  if (query != std::string_view::npos) path = path.substr(0, query);

  for (uint32_t i = range.begin; i < range.end; ++i) {
    const CompiledRoute& route = routes_[candidates_[i]];
    if (route.matches(normalized_host, path)) return &route.result;
  }
  return nullptr;
}

const RouteMatch* Router::match(size_t listener_index, std::string_view host,
                                std::string_view path) const {
  // Out-of-range indices (kUnknownListener included) use the last range: routes for
  // every listener only.
  if (listener_index >= listener_names_.size()) listener_index = listener_names_.size();
  return scan(listener_ranges_[listener_index], host, path);
}

const RouteMatch* Router::match(std::string_view listener_name, std::string_view host,
                                std::string_view path) const {
  return match(listenerIndex(listener_name), host, path);
}

}  // namespace switchyard::proxy
