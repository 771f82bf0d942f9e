// corralctl delete -f FILE|DIR|-  and  corralctl delete KIND NAME [NAME...]
#pragma once

#include <string>
#include <vector>

#include "cli/command.h"

namespace corral::cli {

struct DeleteOptions {
  std::vector<std::string> files;  // -f, repeatable
  std::vector<std::string> args;   // KIND NAME [NAME...]
};

// Every object is attempted; a missing one is an error on stderr (exit 1)
// and the others are still deleted.
int run_delete(Context& ctx, const DeleteOptions& options);

}  // namespace corral::cli
