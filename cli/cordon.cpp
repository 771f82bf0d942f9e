#include "cli/cordon.h"

#include <functional>
#include <ostream>

#include "api/json.h"

namespace corral::cli {

Result<bool> update_node_spec(ResourceClient& client, const std::string& name,
                              const std::function<bool(Json& spec)>& mutate) {
  const KindInfo& kind = *find_kind("Node");
  Error last = make_error(ErrorCode::kConflict, "");
  for (int attempt = 0; attempt < kCordonAttempts; ++attempt) {
    auto node = client.get(kind, name);
    if (!node) return node.take_error();
    Json updated = *node;
    if (!updated.contains("spec") || !updated["spec"].is_object()) updated["spec"] = Json::object();
    if (!mutate(updated["spec"])) return false;
    auto written = client.replace(kind, updated);
    if (written) return true;
    if (written.error().code != ErrorCode::kConflict) return written.take_error();
    last = written.take_error();
  }
  last.message = "it changed under us " + std::to_string(kCordonAttempts) +
                 " times in a row (" + last.message + ")";
  return last;
}

namespace {

// One node: the line to print, or the error.
Result<std::string> set_unschedulable(ResourceClient& client, const std::string& name, bool value) {
  const char* verb = value ? "cordoned" : "uncordoned";
  auto changed = update_node_spec(client, name, [&](Json& spec) {
    bool change = spec.value("unschedulable", false) != value;
    spec["unschedulable"] = value;
    // Uncordoning ends a drain too: the node takes VMs again.
    if (!value && spec.value("drain", false)) {
      spec["drain"] = false;
      change = true;
    }
    return change;
  });
  if (!changed) {
    Error e = changed.take_error();
    if (e.code == ErrorCode::kConflict) e.message = "node/" + name + " was not " + verb + ": " + e.message;
    return e;
  }
  return "node/" + name + (*changed ? " " : " already ") + verb;
}

}  // namespace

int run_cordon(Context& ctx, const CordonOptions& options) {
  if (options.nodes.empty()) {
    print_error(ctx.err, make_error(ErrorCode::kBadRequest, "give at least one node name"));
    return kExitError;
  }
  int exit_code = kExitOk;
  for (const auto& name : options.nodes) {
    auto line = set_unschedulable(ctx.client, name, options.unschedulable);
    if (line) {
      ctx.out << *line << "\n";
    } else {
      print_error(ctx.err, line.error());
      exit_code = kExitError;
    }
  }
  return exit_code;
}

}  // namespace corral::cli
