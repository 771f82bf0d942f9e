// corralctl completion bash|zsh: a shell completion script, as kubectl's —
//
//   source <(corralctl completion bash)        # or put it in ~/.bashrc
//   source <(corralctl completion zsh)         # zsh, through bashcompinit
//
// It completes verbs, kinds after the verbs that take one, object names
// (asked of the cluster with `corralctl get KIND -o name`, with the
// --server/--token-file/--ca/--config given on the line), nodes for cordon,
// uncordon and drain, VMs for logs, files after -f.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"

namespace corral::cli {

// `verbs`: corralctl's subcommands. BadRequest for a shell other than bash or zsh.
Result<std::string> completion_script(const std::string& shell, const std::vector<std::string>& verbs);

}  // namespace corral::cli
