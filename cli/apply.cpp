#include "cli/apply.h"

#include <ostream>

#include "api/json.h"
#include "api/manifest.h"
#include "cli/desired_state.h"
#include "cli/manifest_input.h"

namespace corral::cli {

ApplyAction decide_apply(const Json& desired, const Json* live) {
  if (!live) return ApplyAction::kCreate;
  Json merged = keep_server_owned_fields(desired, *live);
  return same_desired_state(merged, *live) ? ApplyAction::kUnchanged : ApplyAction::kConfigure;
}

namespace {

// PUTs `desired` over `live`. Returns the verb to print or an error.
Result<std::string> configure(Context& ctx, const KindInfo& kind, const Json& desired, Json live) {
  for (int attempt = 0;; ++attempt) {
    if (decide_apply(desired, &live) == ApplyAction::kUnchanged) return std::string("unchanged");
    Json body = keep_server_owned_fields(desired, live);
    body.erase("status");
    body["metadata"]["resourceVersion"] = live["metadata"].value("resourceVersion", "");
    auto r = ctx.client.replace(kind, body);
    if (r) return std::string("configured");
    // Someone wrote in between: look again once, as kubectl does.
    if (r.error().code != ErrorCode::kConflict || attempt >= 1) return r.take_error();
    auto again = ctx.client.get(kind, object_name(desired));
    if (!again) return again.take_error();
    live = std::move(*again);
  }
}

Result<std::string> apply_one(Context& ctx, const Json& desired) {
  const KindInfo* kind = find_kind(desired.value("kind", ""));
  if (!kind) return make_error(ErrorCode::kBadRequest, "unknown kind \"" + desired.value("kind", "") + "\"");
  auto live = ctx.client.get(*kind, object_name(desired));
  if (!live) {
    if (live.error().code != ErrorCode::kNotFound) return live.take_error();
    auto created = ctx.client.create(*kind, desired);
    if (!created) return created.take_error();
    return std::string("created");
  }
  return configure(ctx, *kind, desired, std::move(*live));
}

}  // namespace

int run_apply(Context& ctx, const ApplyOptions& options) {
  auto docs = load_inputs(options.files, ctx.in);
  if (!docs) {
    print_error(ctx.err, docs.error());
    return kExitError;
  }
  // Nothing is written unless every document is valid.
  std::vector<Cause> warnings;
  auto objects = normalize_manifests(*docs, &warnings);
  print_warnings(ctx.err, warnings);
  if (!objects) {
    print_error(ctx.err, objects.error());
    return kExitError;
  }
  int exit_code = kExitOk;
  for (const auto& desired : *objects) {
    const KindInfo* kind = find_kind(desired.value("kind", ""));
    std::string qname = qualified_name(kind ? *kind : all_kinds().front(), object_name(desired));
    auto verb = apply_one(ctx, desired);
    if (!verb) {
      Error e = verb.take_error();
      e.message = qname + ": " + e.message;
      print_error(ctx.err, e);
      exit_code = kExitError;
      continue;
    }
    ctx.out << qname << " " << *verb << "\n" << std::flush;
  }
  return exit_code;
}

}  // namespace corral::cli
