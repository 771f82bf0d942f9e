#include "cli/patch_commands.h"

#include <fstream>
#include <ostream>
#include <sstream>

#include "api/json.h"
#include "api/yaml.h"

namespace corral::cli {

namespace {

int fail(Context& ctx, const Error& e) {
  print_error(ctx.err, e);
  return kExitError;
}

struct Target {
  const KindInfo* kind = nullptr;
  std::string name;
  std::vector<std::string> rest;  // the arguments after KIND NAME
};

// KIND NAME [rest...] or KIND/NAME [rest...].
Result<Target> read_target(const std::vector<std::string>& args, const std::string& usage) {
  if (args.empty())
    return make_error(ErrorCode::kBadRequest, "you must specify the object: " + usage);
  Target t;
  size_t next = 1;
  if (args[0].find('/') != std::string::npos) {
    auto ref = parse_object_ref(args[0]);
    if (!ref) return ref.take_error();
    t.kind = ref->kind;
    t.name = ref->name;
  } else {
    if (args.size() < 2 || args[1].empty())
      return make_error(ErrorCode::kBadRequest, "you must specify the object's name: " + usage);
    auto k = resolve_kind(args[0]);
    if (!k) return k.take_error();
    t.kind = *k;
    t.name = args[1];
    next = 2;
  }
  t.rest.assign(args.begin() + static_cast<std::ptrdiff_t>(next), args.end());
  return t;
}

Result<PatchType> patch_type_named(const std::string& name) {
  if (name == "strategic") return PatchType::kStrategic;
  if (name == "merge") return PatchType::kMerge;
  if (name == "json") return PatchType::kJson;
  return make_error(ErrorCode::kBadRequest,
                    "--type \"" + name + "\": want strategic (the default), merge or json");
}

// The patch text: JSON, or YAML (which kubectl also takes).
Result<Json> read_patch_text(const PatchOptions& o) {
  std::string text = o.patch;
  std::string origin = "-p";
  if (!o.patch_file.empty()) {
    if (!o.patch.empty())
      return make_error(ErrorCode::kBadRequest, "give the patch once: -p or --patch-file, not both");
    std::ifstream in(o.patch_file);
    if (!in) return make_error(ErrorCode::kBadRequest, "cannot read --patch-file " + o.patch_file);
    std::stringstream buf;
    buf << in.rdbuf();
    text = buf.str();
    origin = o.patch_file;
  }
  if (text.empty())
    return make_error(ErrorCode::kBadRequest, "give the patch: -p '{\"spec\":{...}}' or --patch-file FILE");
  if (auto json = parse_json(text, origin)) return json;
  auto docs = parse_yaml_documents(text, origin);
  if (!docs) return docs.take_error();
  if (docs->size() != 1)
    return make_error(ErrorCode::kBadRequest, origin + ": the patch must be one JSON or YAML document");
  return (*docs)[0].object;
}

// "key=value" → {key, value}; "key-" → {key, null}.
Result<std::pair<std::string, Json>> metadata_change(const std::string& arg, const char* what) {
  if (auto eq = arg.find('='); eq != std::string::npos) {
    if (eq == 0)
      return make_error(ErrorCode::kBadRequest, "\"" + arg + "\": the " + std::string(what) +
                                                    " key is empty (want key=value or key-)");
    return std::pair<std::string, Json>{arg.substr(0, eq), Json(arg.substr(eq + 1))};
  }
  if (arg.size() > 1 && arg.back() == '-')
    return std::pair<std::string, Json>{arg.substr(0, arg.size() - 1), Json()};
  return make_error(ErrorCode::kBadRequest,
                    "\"" + arg + "\": want key=value to set a " + what + ", or key- to remove one");
}

}  // namespace

int run_patch(Context& ctx, const PatchOptions& options) {
  auto target = read_target(options.args, "corralctl patch KIND NAME -p PATCH");
  if (!target) return fail(ctx, target.error());
  if (!target->rest.empty())
    return fail(ctx, make_error(ErrorCode::kBadRequest,
                                "one object at a time: unexpected \"" + target->rest[0] + "\""));
  auto type = patch_type_named(options.type);
  if (!type) return fail(ctx, type.error());
  auto patch = read_patch_text(options);
  if (!patch) return fail(ctx, patch.error());
  auto before = ctx.client.get(*target->kind, target->name);
  if (!before) return fail(ctx, before.error());
  auto after = ctx.client.patch(*target->kind, target->name, *type, *patch);
  if (!after) return fail(ctx, after.error());
  const bool changed = after->value("metadata", Json::object()).value("resourceVersion", "") !=
                       before->value("metadata", Json::object()).value("resourceVersion", "");
  ctx.out << qualified_name(*target->kind, target->name)
          << (changed ? " patched" : " patched (no change)") << "\n";
  return kExitOk;
}

int run_label(Context& ctx, const MetadataOptions& options) {
  const char* what = options.annotations ? "annotation" : "label";
  const char* field = options.annotations ? "annotations" : "labels";
  const std::string verb = options.annotations ? "annotate" : "label";
  auto target = read_target(options.args, "corralctl " + verb + " KIND NAME key=value... key-...");
  if (!target) return fail(ctx, target.error());
  if (target->rest.empty())
    return fail(ctx, make_error(ErrorCode::kBadRequest,
                                std::string("give at least one ") + what +
                                    ": key=value to set it, key- to remove it"));
  Json changes = Json::object();
  for (const auto& arg : target->rest) {
    auto change = metadata_change(arg, what);
    if (!change) return fail(ctx, change.error());
    changes[change->first] = change->second;
  }
  auto current = ctx.client.get(*target->kind, target->name);
  if (!current) return fail(ctx, current.error());
  const Json metadata = current->value("metadata", Json::object());
  const Json existing = metadata.value(field, Json::object());
  if (!options.overwrite) {
    for (const auto& [key, value] : changes.items()) {
      auto it = existing.find(key);
      if (!value.is_null() && it != existing.end() && *it != value)
        return fail(ctx, make_error(ErrorCode::kBadRequest,
                                    "'" + key + "' already has a value (" + it->get<std::string>() +
                                        "), and --overwrite is false"));
    }
  }
  // Pinned to what was checked: a change in between is a conflict.
  Json patch = {{"metadata",
                 {{"resourceVersion", metadata.value("resourceVersion", "")}, {field, changes}}}};
  auto after = ctx.client.patch(*target->kind, target->name, PatchType::kMerge, patch);
  if (!after) return fail(ctx, after.error());
  const bool changed = after->value("metadata", Json::object()).value(field, Json::object()) != existing;
  ctx.out << qualified_name(*target->kind, target->name)
          << (changed ? (options.annotations ? " annotated" : " labeled")
                      : (options.annotations ? " not annotated (no change)" : " not labeled (no change)"))
          << "\n";
  return kExitOk;
}

int run_scale(Context& ctx, const ScaleOptions& options) {
  auto target = read_target(options.args, "corralctl scale vmset NAME --replicas N");
  if (!target) return fail(ctx, target.error());
  if (target->kind->kind != "VMSet")
    return fail(ctx, make_error(ErrorCode::kBadRequest,
                                "only vmsets scale, not " + target->kind->plural));
  if (!target->rest.empty())
    return fail(ctx, make_error(ErrorCode::kBadRequest,
                                "one VMSet at a time: unexpected \"" + target->rest[0] + "\""));
  if (options.replicas < 0)
    return fail(ctx, make_error(ErrorCode::kBadRequest,
                                "give the number of replicas: --replicas N (0 or more)"));
  Json patch = {{"spec", {{"replicas", options.replicas}}}};
  if (options.current_replicas >= 0) {
    // Only from the count the user expects, pinned to the version checked.
    auto current = ctx.client.get(*target->kind, target->name);
    if (!current) return fail(ctx, current.error());
    const int64_t now = current->value("spec", Json::object()).value("replicas", int64_t{0});
    if (now != options.current_replicas)
      return fail(ctx, make_error(ErrorCode::kConflict,
                                  "vmset/" + target->name + " has " + std::to_string(now) +
                                      " replicas, not --current-replicas " +
                                      std::to_string(options.current_replicas) + ": not scaled"));
    patch["metadata"] = {
        {"resourceVersion", current->value("metadata", Json::object()).value("resourceVersion", "")}};
  }
  auto scaled = ctx.client.patch(*target->kind, target->name, PatchType::kMerge, patch, "scale");
  if (!scaled) return fail(ctx, scaled.error());
  ctx.out << qualified_name(*target->kind, target->name) << " scaled\n";
  return kExitOk;
}

}  // namespace corral::cli
