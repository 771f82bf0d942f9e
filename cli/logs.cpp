#include "cli/logs.h"

#include <optional>
#include <ostream>
#include <string_view>

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

// How the controller's last line of a follow begins (controller/server/log_follow.h).
constexpr std::string_view kFollowEnded = "corral: follow ended: ";

// Streams the log to ctx.out line by line. A line that reads like the
// server's last is held back until the next one proves it was the VM's own
// text (then printed), or the stream ends (then it is the server's word:
// printed to stderr, an error when it says so).
int follow_log(Context& ctx, const std::string& name, int64_t tail) {
  std::optional<std::string> held;
  auto r = ctx.client.follow_vm_log(name, tail, [&](const std::string& line) {
    if (held) ctx.out << *held << '\n';
    held.reset();
    if (line.rfind(kFollowEnded, 0) == 0) {
      held = line;
    } else {
      ctx.out << line << '\n';
    }
    ctx.out << std::flush;
    return true;
  });
  if (!r) {
    if (held) ctx.out << *held << '\n' << std::flush;
    print_error(ctx.err, r.error());
    return kExitError;
  }
  if (!held) return kExitOk;
  const std::string why = held->substr(kFollowEnded.size());
  ctx.err << "corralctl: the server ended the follow: " << why << '\n';
  return why.rfind("error:", 0) == 0 ? kExitError : kExitOk;
}

}  // namespace

int run_logs(Context& ctx, const LogsOptions& options) {
  auto fail = [&](const Error& e) {
    print_error(ctx.err, e);
    return kExitError;
  };
  auto name = vm_name(options.args);
  if (!name) return fail(name.error());
  if (options.follow) return follow_log(ctx, *name, options.tail);
  // The controller says why there is no log: the VM is not bound yet, its
  // node has no agent address, the agent's own reason, or which agent at
  // which address it could not reach.
  auto log = ctx.client.vm_log(*name, options.tail);
  if (!log) return fail(log.error());
  ctx.out << *log << std::flush;
  return kExitOk;
}

}  // namespace corral::cli
