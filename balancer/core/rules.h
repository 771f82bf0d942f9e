// Content rules (http mode): which subset of a Balancer's endpoints a request
// goes to, by its Host header and path.
//
// Matching, as an Ingress controller does it, most specific first:
//   1. a rule whose host equals the request's Host (case-insensitive, any
//      ":port" removed) beats a rule with no host (any host);
//   2. among those, the longest matching pathPrefix wins; an empty pathPrefix
//      matches every path;
//   3. a tie goes to the rule written first.
// pathPrefix matches whole path segments: "/api" matches "/api", "/api/" and
// "/api/v1" but not "/apiv2"; "/static/" matches "/static/x.css" (a prefix
// ending in '/' is a directory, and like Ingress's pathType Prefix it also
// matches "/static" itself). The query string is not part of the path, nor is
// a "#fragment". The path is compared in its normal form: the request's
// target is normalised before match() sees it (RequestForwarder, with
// core/target_normalizer.h: unreserved escapes decoded, dot segments
// removed), and each rule's pathPrefix is normalised the same way in build(),
// so "/public/%2e%2e/admin" meets the rule for "/admin". An
// absolute-form target ("http://host/path") supplies the host itself, as
// RFC 9112 §3.2.2 asks. A rule's host may be written with a ":port"; the port
// is ignored there too.
// A request that matches no rule goes to every endpoint (the default route).
//
// Thread safety: immutable after build; match() from any thread.
#pragma once

#include <string_view>
#include <vector>

#include "base/error.h"
#include "api/types.h"
#include "balancer/core/backend.h"

namespace corral::balancer {

class RouteTable {
 public:
  static constexpr int kDefaultRoute = -1;

  // One route per rule, its members the backends whose endpoint labels match
  // the rule's selector (in `backends` order). Errors: Invalid naming
  // "spec.rules[i].selector" when a selector does not parse (validation
  // normally stops that earlier).
  static Result<RouteTable> build(const std::vector<BalancerRule>& rules,
                                  const std::vector<const Backend*>& backends);

  // The index of the rule a request goes to, or kDefaultRoute.
  int match(std::string_view host_header, std::string_view target) const;

  size_t size() const { return routes_.size(); }
  // The backends of rule `i` (may be empty: the rule selects nothing, and its
  // requests get 503).
  const std::vector<const Backend*>& members(size_t i) const { return routes_[i].members; }

 private:
  struct Route {
    std::string host;         // lower case; empty = any
    std::string path_prefix;  // empty = any
    std::vector<const Backend*> members;
  };
  std::vector<Route> routes_;
};

// True when `path` starts with `prefix` on a segment boundary (see above).
bool path_has_prefix(std::string_view path, std::string_view prefix);

}  // namespace corral::balancer
