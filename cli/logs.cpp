#include "cli/logs.h"

#include <ostream>

namespace corral::cli {

namespace {

// The VM's name from NAME, vm NAME or vm/NAME.
Result<std::string> vm_name(const std::vector<std::string>& args) {
  auto usage = [] {
    return make_error(ErrorCode::kBadRequest,
                      "give one VM: `corralctl logs NAME`, `logs vm NAME` or `logs vm/NAME`");
  };
  std::string kind, name;
  if (args.size() == 1) {
    size_t slash = args[0].find('/');
    if (slash == std::string::npos) return args[0];
    kind = args[0].substr(0, slash);
    name = args[0].substr(slash + 1);
  } else if (args.size() == 2) {
    kind = args[0];
    name = args[1];
  } else {
    return usage();
  }
  auto k = resolve_kind(kind);
  if (!k) return k.take_error();
  if ((*k)->kind != "VM")
    return make_error(ErrorCode::kBadRequest,
                      "logs are kept for VMs only, not for " + (*k)->plural);
  if (name.empty()) return usage();
  return name;
}

}  // namespace

int run_logs(Context& ctx, const LogsOptions& options) {
  auto fail = [&](const Error& e) {
    print_error(ctx.err, e);
    return kExitError;
  };
  auto name = vm_name(options.args);
  if (!name) return fail(name.error());
  // The controller says why there is no log: the VM is not bound yet, its
  // node has no agent address, the agent's own reason, or which agent at
  // which address it could not reach.
  auto log = ctx.client.vm_log(*name, options.tail);
  if (!log) return fail(log.error());
  ctx.out << *log << std::flush;
  return kExitOk;
}

}  // namespace corral::cli
