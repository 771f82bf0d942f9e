#include "balancer/core/target_normalizer.h"

namespace corral::balancer {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Where the path of `target` starts and ends (npos start: no path to
// normalise).
struct PathSpan {
  size_t begin = std::string_view::npos;
  size_t end = 0;
};

PathSpan find_path(std::string_view target) {
  PathSpan span;
  size_t begin = 0;
  if (target.empty()) return span;
  if (target.front() != '/') {
    const size_t scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos) return span;  // "*" or authority-form
    begin = target.find_first_of("/?#", scheme_end + 3);
    if (begin == std::string_view::npos || target[begin] != '/') return span;  // no path
  }
  span.begin = begin;
  span.end = target.find_first_of("?#", begin);
  if (span.end == std::string_view::npos) span.end = target.size();
  return span;
}

// True when the path may change: a '%' or a segment that starts with '.'.
bool needs_work(std::string_view path) {
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%') return true;
    if (path[i] == '.' && i > 0 && path[i - 1] == '/') return true;
  }
  return false;
}

// Appends `path` with unreserved escapes decoded.
void decode_unreserved(std::string_view path, std::string& out) {
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size()) {
      const int hi = hex_value(path[i + 1]);
      const int lo = hex_value(path[i + 2]);
      if (hi >= 0 && lo >= 0) {
        const char c = static_cast<char>(hi * 16 + lo);
        if (unreserved(c)) {
          out += c;
          i += 2;
          continue;
        }
      }
    }
    out += path[i];
  }
}

// RFC 3986 5.2.4 on an absolute path ("/..."), segment by segment: "." goes,
// ".." takes the previous segment with it. Returns false when a ".." has no
// segment left to remove. A final "." or ".." leaves the path ending in '/'
// ("/a/." → "/a/", "/a/b/.." → "/a/").
bool remove_dot_segments(std::string_view in, std::string& out) {
  // `in` starts with '/'; each step reads "/segment".
  size_t i = 0;
  while (i < in.size()) {
    size_t next = in.find('/', i + 1);
    if (next == std::string_view::npos) next = in.size();
    const std::string_view segment = in.substr(i + 1, next - i - 1);
    const bool last = next == in.size();
    if (segment == ".") {
      if (last) out += '/';
    } else if (segment == "..") {
      if (out.empty()) return false;  // nothing above the root
      out.resize(out.rfind('/'));
      if (last) out += '/';
    } else {
      out += '/';
      out.append(segment.data(), segment.size());
    }
    i = next;
  }
  if (out.empty()) out = "/";
  return true;
}

}  // namespace

TargetNormalization normalize_target(std::string_view target, std::string& out) {
  const PathSpan span = find_path(target);
  if (span.begin == std::string_view::npos) return TargetNormalization::kUnchanged;
  const std::string_view path = target.substr(span.begin, span.end - span.begin);
  if (!needs_work(path)) return TargetNormalization::kUnchanged;

  std::string decoded;
  decoded.reserve(path.size());
  decode_unreserved(path, decoded);
  std::string normal;
  normal.reserve(decoded.size());
  if (!remove_dot_segments(decoded, normal)) return TargetNormalization::kAboveRoot;

  if (normal == path) return TargetNormalization::kUnchanged;
  out.assign(target.data(), span.begin);
  out += normal;
  out.append(target.data() + span.end, target.size() - span.end);
  return TargetNormalization::kChanged;
}

}  // namespace corral::balancer
