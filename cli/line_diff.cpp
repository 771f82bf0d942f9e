#include "cli/line_diff.h"

#include <algorithm>
#include <cstdint>

namespace corral::cli {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

namespace {

struct Op {
  char tag;  // ' ', '-', '+'
  size_t a;  // line index in a (for ' ' and '-')
  size_t b;  // line index in b (for ' ' and '+')
};

// Edit script from the LCS table; deletions before insertions at each point.
std::vector<Op> edit_script(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  size_t n = a.size(), m = b.size();
  std::vector<std::vector<uint32_t>> lcs(n + 1, std::vector<uint32_t>(m + 1, 0));
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;)
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  std::vector<Op> ops;
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      ops.push_back({' ', i++, j++});
    } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push_back({'-', i++, j});
    } else {
      ops.push_back({'+', i, j++});
    }
  }
  return ops;
}

std::string range(size_t start, size_t count) {
  // diff -u: 1-based start; an empty range names the line before it.
  size_t first = count == 0 ? start : start + 1;
  if (count == 1) return std::to_string(first);
  return std::to_string(first) + "," + std::to_string(count);
}

}  // namespace

std::string unified_diff(const std::string& a_text, const std::string& b_text, const std::string& a_name,
                         const std::string& b_name, int context) {
  auto a = split_lines(a_text);
  auto b = split_lines(b_text);
  auto ops = edit_script(a, b);
  std::vector<size_t> changes;
  for (size_t k = 0; k < ops.size(); ++k)
    if (ops[k].tag != ' ') changes.push_back(k);
  if (changes.empty()) return "";
  std::string out = "--- " + a_name + "\n+++ " + b_name + "\n";
  size_t ctx = static_cast<size_t>(std::max(context, 0));
  size_t c = 0;
  while (c < changes.size()) {
    // Grow a hunk while the next change is within 2×context of this one.
    size_t first = changes[c];
    size_t last = first;
    while (c + 1 < changes.size() && changes[c + 1] - last <= 2 * ctx + 1) last = changes[++c];
    ++c;
    size_t begin = first >= ctx ? first - ctx : 0;
    size_t end = std::min(ops.size(), last + ctx + 1);
    size_t a_start = ops[begin].a, b_start = ops[begin].b, a_count = 0, b_count = 0;
    std::string body;
    for (size_t k = begin; k < end; ++k) {
      const Op& op = ops[k];
      if (op.tag == ' ') {
        body += " " + a[op.a] + "\n";
        ++a_count;
        ++b_count;
      } else if (op.tag == '-') {
        body += "-" + a[op.a] + "\n";
        ++a_count;
      } else {
        body += "+" + b[op.b] + "\n";
        ++b_count;
      }
    }
    out += "@@ -" + range(a_start, a_count) + " +" + range(b_start, b_count) + " @@\n" + body;
  }
  return out;
}

}  // namespace corral::cli
