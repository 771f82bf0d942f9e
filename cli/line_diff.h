// A small unified line diff (LCS), enough for the YAML of one object.
#pragma once

#include <string>
#include <vector>

namespace corral::cli {

std::vector<std::string> split_lines(const std::string& text);

// `diff -u` style: "--- a_name", "+++ b_name", then @@ hunks with `context`
// lines around each change. Empty when the texts are equal.
std::string unified_diff(const std::string& a, const std::string& b, const std::string& a_name,
                         const std::string& b_name, int context = 3);

}  // namespace corral::cli
