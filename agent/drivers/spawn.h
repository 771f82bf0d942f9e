// Starting one VM process: free port, variable substitution, fork + exec with
// a report pipe. Internal to the process driver; separate so that each piece
// stays small and testable.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/error.h"

namespace corral::agent {

// A free TCP port on `address`, found by binding port 0 and closing the socket.
// Another process may take it before the VM binds it; the VM then fails to
// serve and is restarted with a new port (the kernel rarely hands out the same
// ephemeral port twice in a row).
Result<int> allocate_port(const std::string& address);

// Replaces every ${NAME} in `text` whose NAME is in `vars`; other text,
// including unknown ${...}, is left as written.
std::string substitute(const std::string& text, const std::map<std::string, std::string>& vars);

struct SpawnRequest {
  std::vector<std::string> argv;           // argv[0]: a path, or a name looked up in PATH of env
  std::map<std::string, std::string> env;  // the complete environment of the child
  std::filesystem::path log_file;          // stdout and stderr, appended
  std::filesystem::path cgroup_dir;        // empty: do not join a cgroup
  // Called in the parent with the child's pid while the child waits, before
  // it may exec; false (with *error set) and the child exits unexecuted and
  // is reaped. The process driver registers selfFence VMs with the fence
  // watchdog here: a VM that runs is always one the watchdog knows, even if
  // the agent dies right after the fork (the child then sees the gate close
  // and exits). Empty: no gate.
  std::function<bool(int pid, std::string* error)> before_exec;
};

struct SpawnResult {
  int pid = 0;  // the child, leader of its own process group; 0 when not started
  bool started = false;
  std::string error;  // when !started: "failed to start: /no/such/bin: No such file or directory"
  bool cgroup_joined = false;
  std::string cgroup_error;  // when a cgroup was asked for and joining it failed
};

// Forks and execs. The child becomes a process-group leader (so the whole tree
// can be signalled), joins the cgroup, and reports a failed exec back through a
// close-on-exec pipe: EOF on the pipe means exec succeeded. A child whose exec
// failed has been reaped when this returns.
SpawnResult spawn_process(const SpawnRequest& request);

}  // namespace corral::agent
