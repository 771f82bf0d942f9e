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
  ObjectRef ref;
  if (args.size() == 1) {
    if (args[0].find('/') == std::string::npos) return args[0];
    auto parsed = parse_object_ref(args[0]);
    if (!parsed) return parsed.take_error();
    ref = *parsed;
  } else if (args.size() == 2) {
    auto k = resolve_kind(args[0]);
    if (!k) return k.take_error();
    ref = {*k, args[1]};
  } else {
    return usage();
  }
  if (ref.kind->kind != "VM")
    return make_error(ErrorCode::kBadRequest,
                      "logs are kept for VMs only, not for " + ref.kind->plural);
  if (ref.name.empty()) return usage();
  return ref.name;
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
