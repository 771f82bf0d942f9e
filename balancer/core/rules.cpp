#include "balancer/core/rules.h"

#include <string>
#include <utility>

#include "api/selector.h"
#include "balancer/core/target_normalizer.h"

namespace corral::balancer {

namespace {

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The host part of a Host header or authority: "Example.COM:8080" →
// "Example.COM"; "[::1]:8080" → "[::1]". A bare IPv6 address (more than one
// ':' and no brackets; not a valid Host) is kept whole.
std::string_view strip_port(std::string_view host) {
  host = trim_ows(host);
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    if (close != std::string_view::npos) host = host.substr(0, close + 1);
  } else if (const size_t colon = host.find(':');
             colon != std::string_view::npos &&
             host.find(':', colon + 1) == std::string_view::npos) {
    host = host.substr(0, colon);
  }
  return host;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

// `lower_case` is already lower case (a route's host); `other` is any case.
bool equals_ignoring_case(std::string_view lower_case, std::string_view other) {
  if (lower_case.size() != other.size()) return false;
  for (size_t i = 0; i < other.size(); ++i)
    if (lower_case[i] != ascii_lower(other[i])) return false;
  return true;
}

struct Target {
  std::string_view authority;  // from an absolute-form target only
  std::string_view path;
};

// Splits a request-target (RFC 9112 §3.2): origin-form "/p?q", absolute-form
// "http://host:port/p?q" (whose authority replaces the Host header, §3.2.2),
// or "*". The query string and any fragment are dropped; the path is matched
// as it comes (the caller normalised it: core/target_normalizer.h).
Target split_target(std::string_view target) {
  Target t;
  if (!target.empty() && target.front() != '/') {
    if (const size_t scheme_end = target.find("://"); scheme_end != std::string_view::npos) {
      std::string_view rest = target.substr(scheme_end + 3);
      const size_t auth_end = rest.find_first_of("/?#");
      t.authority = rest.substr(0, auth_end);
      // The authority may carry userinfo ("user@host"), which is not the host.
      if (const size_t at = t.authority.rfind('@'); at != std::string_view::npos)
        t.authority.remove_prefix(at + 1);
      target = auth_end == std::string_view::npos ? std::string_view("/") : rest.substr(auth_end);
      if (!target.empty() && target.front() != '/') target = "/";  // "http://h?q": path "/"
    }
  }
  t.path = target.substr(0, target.find_first_of("?#"));
  return t;
}

}  // namespace

bool path_has_prefix(std::string_view path, std::string_view prefix) {
  if (prefix.empty()) return true;
  if (prefix.back() == '/') {
    // A directory: "/static/" matches "/static/x.css", and "/static" itself
    // as Kubernetes' Ingress pathType Prefix does (a trailing '/' is ignored).
    if (path.starts_with(prefix)) return true;
    return path == prefix.substr(0, prefix.size() - 1) && !path.empty();
  }
  if (!path.starts_with(prefix)) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

Result<RouteTable> RouteTable::build(const std::vector<BalancerRule>& rules,
                                     const std::vector<const Backend*>& backends) {
  RouteTable table;
  table.routes_.reserve(rules.size());
  std::vector<Cause> causes;
  for (size_t i = 0; i < rules.size(); ++i) {
    const BalancerRule& rule = rules[i];
    auto selector = Selector::from(rule.selector, "spec.rules[" + std::to_string(i) + "].selector");
    if (!selector) {
      for (const Cause& c : selector.error().causes) causes.push_back(c);
      continue;
    }
    Route route;
    route.host = lower(strip_port(rule.host));
    // Written the way requests are matched ("/%7Euser" is "/~user"); a
    // prefix that climbs above the root cannot match anything normal and
    // is kept as written.
    if (normalize_target(rule.pathPrefix, route.path_prefix) != TargetNormalization::kChanged)
      route.path_prefix = rule.pathPrefix;
    for (const Backend* b : backends) {
      if (selector->matches(b->endpoint.labels)) route.members.push_back(b);
    }
    table.routes_.push_back(std::move(route));
  }
  if (!causes.empty()) return invalid("content rules", std::move(causes));
  return table;
}

int RouteTable::match(std::string_view host_header, std::string_view target) const {
  const Target t = split_target(target);
  const std::string_view host = strip_port(t.authority.empty() ? host_header : t.authority);
  int best = kDefaultRoute;
  bool best_has_host = false;
  size_t best_prefix = 0;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const Route& r = routes_[i];
    const bool has_host = !r.host.empty();
    if (has_host && !equals_ignoring_case(r.host, host)) continue;
    if (!path_has_prefix(t.path, r.path_prefix)) continue;
    // Strictly more specific only: a tie stays with the rule written first.
    const bool better = best == kDefaultRoute || (has_host && !best_has_host) ||
                        (has_host == best_has_host && r.path_prefix.size() > best_prefix);
    if (better) {
      best = static_cast<int>(i);
      best_has_host = has_host;
      best_prefix = r.path_prefix.size();
    }
  }
  return best;
}

}  // namespace corral::balancer
