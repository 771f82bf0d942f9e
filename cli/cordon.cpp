#include "cli/cordon.h"

#include <ostream>

namespace corral::cli {

namespace {

// One node: the line to print, or the error.
Result<std::string> set_unschedulable(ResourceClient& client, const std::string& name, bool value) {
  const KindInfo& kind = *find_kind("Node");
  const char* verb = value ? "cordoned" : "uncordoned";
  Error last = make_error(ErrorCode::kConflict, "");
  for (int attempt = 0; attempt < kCordonAttempts; ++attempt) {
    auto node = client.get(kind, name);
    if (!node) return node.take_error();
    if ((field_value(*node, "spec.unschedulable") == "true") == value)
      return "node/" + name + " already " + verb;
    Json updated = *node;
    if (!updated.contains("spec") || !updated["spec"].is_object()) updated["spec"] = Json::object();
    updated["spec"]["unschedulable"] = value;
    auto written = client.replace(kind, updated);
    if (written) return "node/" + name + " " + verb;
    if (written.error().code != ErrorCode::kConflict) return written.take_error();
    last = written.take_error();
  }
  last.message = "node/" + name + " was not " + verb + ": it changed under us " +
                 std::to_string(kCordonAttempts) + " times in a row (" + last.message + ")";
  return last;
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
