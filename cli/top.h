// corralctl top nodes|vms [NAME...] [-l SELECTOR] [--sort-by cpu|memory]:
// measured use (status.usage, smoothed by the agent) as `kubectl top` prints
// it. Nodes: percentages of allocatable. VMs: percentages of their requests
// (spec.resources), i.e. how much of what the scheduler reserved is used.
#pragma once

#include <string>
#include <vector>

#include "cli/command.h"

namespace corral::cli {

struct TopOptions {
  std::vector<std::string> args;  // nodes|vms then optional names
  std::string label_selector;     // -l
  std::string sort_by;            // "" (name) | cpu | memory: highest first, as kubectl
};

int run_top(Context& ctx, const TopOptions& options);

}  // namespace corral::cli
