// Helpers every end-to-end test needs: polling with a deadline, the process
// table (to find and kill a "host's" VM processes by the marker in their
// argv), and reading an object's phase through the API.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "client/client.h"

namespace corral::testing {

// Polls `done` every 50 ms until it holds or `timeout` passes; the result of
// a last call at the deadline.
bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout);

// argv of every process (NULs as spaces), by pid; processes that vanish while
// read are skipped, and zombies (empty cmdline) are left out.
std::map<int, std::string> process_table();

// SIGKILLs every process whose argv contains all of `needles`; returns how many.
int kill_processes_matching(const std::vector<std::string>& needles);

// status.phase of a Node (or "" when it cannot be read).
std::string node_phase(ApiClient& api, const std::string& node);

}  // namespace corral::testing
