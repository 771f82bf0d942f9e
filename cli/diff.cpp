#include "cli/diff.h"

#include <ostream>

#include "api/json.h"
#include "api/manifest.h"
#include "api/yaml.h"
#include "cli/desired_state.h"
#include "cli/line_diff.h"
#include "cli/manifest_input.h"

namespace corral::cli {

int run_diff(Context& ctx, const DiffOptions& options) {
  auto docs = load_inputs(options.files, ctx.in);
  if (!docs) {
    print_error(ctx.err, docs.error());
    return kExitDiffError;
  }
  std::vector<Cause> warnings;
  auto objects = normalize_manifests(*docs, &warnings);
  print_warnings(ctx.err, warnings);
  if (!objects) {
    print_error(ctx.err, objects.error());
    return kExitDiffError;
  }
  bool differs = false;
  for (const auto& desired : *objects) {
    const KindInfo* kind = find_kind(desired.value("kind", ""));
    if (!kind) continue;  // normalize_manifests accepted it, so it cannot happen
    std::string name = object_name(desired);
    std::string live_text;
    Json want = desired;
    auto live = ctx.client.get(*kind, name);
    if (live) {
      want = keep_server_owned_fields(desired, *live);
      live_text = to_yaml(desired_state(*live));
    } else if (live.error().code != ErrorCode::kNotFound) {
      print_error(ctx.err, live.error());
      return kExitDiffError;
    }
    std::string want_text = to_yaml(desired_state(want));
    std::string qname = qualified_name(*kind, name);
    std::string d = unified_diff(live_text, want_text, "live/" + qname, "desired/" + qname);
    if (d.empty()) continue;
    differs = true;
    ctx.out << "diff -u live/" << qname << " desired/" << qname << "\n" << d << std::flush;
  }
  return differs ? kExitError : kExitOk;
}

}  // namespace corral::cli
