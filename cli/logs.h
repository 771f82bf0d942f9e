// corralctl logs [vm] NAME [--tail N] [-f]: a VM's log, as `kubectl logs`: one
// GET of the API's vms/<name>/log, with the user's token and TLS settings. The
// controller finds the VM's node and reads the log from its agent, which
// takes only the controller's signed calls (controller/server/vm_log.h).
// -f (--follow): ?follow=true, printed line by line until Ctrl-C or the server
// ends the stream; the server's last line, "corral: follow ended: <why>",
// goes to stderr, and one saying "error: ..." makes the exit code 1.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/command.h"

namespace corral::cli {

struct LogsOptions {
  std::vector<std::string> args;  // NAME | vm NAME | vm/NAME
  int64_t tail = -1;              // --tail: the last N lines; < 0: the whole log (kubectl's -1)
  bool follow = false;            // -f, --follow: stream the log as it grows
};

int run_logs(Context& ctx, const LogsOptions& options);

}  // namespace corral::cli
