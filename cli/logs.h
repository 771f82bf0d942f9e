// corralctl logs [vm] NAME [--tail N]: a VM's log, read from the agent of the
// node it is bound to (VM spec.nodeName → Node status.address → GET
// /v1/logs/<vm>). The controller is only asked where the VM runs; the log
// itself never passes through it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/agent_client.h"
#include "cli/command.h"

namespace corral::cli {

struct LogsOptions {
  std::vector<std::string> args;  // NAME | vm NAME | vm/NAME
  int64_t tail = -1;              // --tail: the last N lines; < 0: the whole log (kubectl's -1)
};

int run_logs(Context& ctx, const LogsOptions& options, AgentClient& agent);

}  // namespace corral::cli
