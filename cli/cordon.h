// corralctl cordon NODE... / uncordon NODE...: set a Node's spec.unschedulable,
// so that the scheduler places nothing new there (VMs already on it stay).
// uncordon also clears spec.drain: it ends a drain.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cli/command.h"

namespace corral::cli {

struct CordonOptions {
  std::vector<std::string> nodes;
  bool unschedulable = true;  // true: cordon; false: uncordon
};

// Each node is read, changed and written back with its resourceVersion; a 409
// (an agent's heartbeat was persisted in between) re-reads and tries again, at
// most kCordonAttempts times. Prints "node/h cordoned", "node/h already
// cordoned" or "node/h uncordoned"; a missing node is an error and the others
// are still done.
int run_cordon(Context& ctx, const CordonOptions& options);

// Read-modify-write of a Node's spec: `mutate` edits the spec and returns
// whether it changed anything (false: nothing is written). A 409 re-reads and
// runs `mutate` again, at most kCordonAttempts times. Returns whether it wrote.
Result<bool> update_node_spec(ResourceClient& client, const std::string& name,
                              const std::function<bool(Json& spec)>& mutate);

// Heartbeats are persisted every few seconds, so two conflicts in a row are
// already rare; five means something is writing the node continuously.
inline constexpr int kCordonAttempts = 5;

}  // namespace corral::cli
