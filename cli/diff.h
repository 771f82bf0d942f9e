// corralctl diff -f FILE: a unified diff per object between the live object
// and the manifest (name, labels, annotations and spec as YAML). Exit codes as
// kubectl's: 0 nothing differs, 1 something does, 2 on error.
#pragma once

#include <string>
#include <vector>

#include "cli/command.h"

namespace corral::cli {

struct DiffOptions {
  std::vector<std::string> files;  // -f, repeatable
};

int run_diff(Context& ctx, const DiffOptions& options);

}  // namespace corral::cli
