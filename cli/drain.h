// corralctl drain NODE: maintenance. Cordons the node and asks the controller
// to move every VM off it (Node spec.drain = true); the controller's move loop
// does the moving — made before broken, within each VMSet's disruption budget,
// highest priority first — so a drain goes on even if this command stops.
// The command follows it: a line whenever the count of VMs left changes, with
// what each one waits for, and exits 0 when the node is empty, or 1 after
// --timeout naming the VMs still there and why.
//
// `corralctl uncordon NODE` ends a drain (it clears spec.drain too).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "cli/command.h"

namespace corral::cli {

struct DrainOptions {
  std::string node;
  // How long to follow the drain: 300 s, as kubectl drain users set it for
  // VMs that take a minute or two to start elsewhere. 0: do not wait.
  std::chrono::seconds timeout{300};
  // How often the node's VMs are listed: 1 s.
  std::chrono::milliseconds poll{1000};
  // Waits between polls; tests pass one that advances a FakeClock. Empty:
  // std::this_thread::sleep_for.
  std::function<void(std::chrono::milliseconds)> wait;
};

int run_drain(Context& ctx, const DrainOptions& options);

}  // namespace corral::cli
