// The request target as content rules see it (and as the backend receives
// it, balancer/README.md says why): in its path, percent-encoded unreserved
// characters (RFC 3986 2.3: ALPHA DIGIT - . _ ~) are decoded, so "%2e" is a
// dot and "%7E" a tilde, then dot segments are removed (RFC 3986 5.2.4), so
// that "/public/../admin" and "/public/%2e%2e/admin" are "/admin" and a rule
// for "/admin" cannot be walked around. Nothing else changes: other escapes
// stay as received ("%2F" is not a '/', "%zz" is left alone), repeated
// slashes stay, the query string is not touched.
//
// Origin-form ("/p?q") and absolute-form ("http://h/p?q") targets are
// normalised; "*" and authority-form ("h:443") have no path and are kept.
//
// Pure; no allocation when the target is already normal (the common case:
// one scan for '%' and "/.").
#pragma once

#include <string>
#include <string_view>

namespace corral::balancer {

enum class TargetNormalization {
  kUnchanged,  // `target` is normal; `out` untouched
  kChanged,    // `out` holds the normal form (replaced)
  kAboveRoot,  // a ".." would climb above "/" ("/../x", "/a/../../x"): reject (400)
};

TargetNormalization normalize_target(std::string_view target, std::string& out);

}  // namespace corral::balancer
