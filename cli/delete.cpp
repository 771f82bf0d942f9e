#include "cli/delete.h"

#include <ostream>
#include <utility>

#include "cli/manifest_input.h"

namespace corral::cli {

namespace {

using Target = std::pair<const KindInfo*, std::string>;

// Deleting needs only each document's kind and name, so a manifest whose spec
// no longer validates can still be deleted.
Result<std::vector<Target>> targets_from_files(Context& ctx, const std::vector<std::string>& files) {
  auto docs = load_inputs(files, ctx.in);
  if (!docs) return docs.take_error();
  std::vector<Target> targets;
  std::vector<Cause> causes;
  for (const auto& doc : *docs) {
    std::string kind_name = doc.object.is_object() ? doc.object.value("kind", "") : "";
    const KindInfo* kind = find_kind(kind_name);
    if (!kind || kind->kind != kind_name) {
      causes.push_back({"kind", "unknown kind \"" + kind_name + "\"", doc.locate("kind")});
      continue;
    }
    std::string name = object_name(doc.object);
    if (name.empty()) {
      causes.push_back({"metadata.name", "required", doc.locate("metadata.name")});
      continue;
    }
    targets.emplace_back(kind, name);
  }
  if (!causes.empty()) return invalid("manifest", std::move(causes));
  return targets;
}

}  // namespace

int run_delete(Context& ctx, const DeleteOptions& options) {
  std::vector<Target> targets;
  if (!options.files.empty()) {
    if (!options.args.empty()) {
      print_error(ctx.err, make_error(ErrorCode::kBadRequest, "give either -f or KIND NAME..., not both"));
      return kExitError;
    }
    auto t = targets_from_files(ctx, options.files);
    if (!t) {
      print_error(ctx.err, t.error());
      return kExitError;
    }
    targets = std::move(*t);
  } else {
    // KIND NAME [NAME...], or KIND/NAME [KIND/NAME...] as kubectl takes them.
    const bool slashed = !options.args.empty() && options.args.front().find('/') != std::string::npos;
    if (options.args.empty() || (!slashed && options.args.size() < 2)) {
      print_error(ctx.err,
                  make_error(ErrorCode::kBadRequest,
                             "give -f FILE, KIND NAME [NAME...] or KIND/NAME..., e.g. `corralctl "
                             "delete pool web` or `corralctl delete pool/web`"));
      return kExitError;
    }
    if (slashed) {
      for (const std::string& arg : options.args) {
        auto ref = parse_object_ref(arg);
        if (!ref) {
          print_error(ctx.err, ref.error());
          return kExitError;
        }
        targets.emplace_back(ref->kind, ref->name);
      }
    } else {
      auto kind = resolve_kind(options.args.front());
      if (!kind) {
        print_error(ctx.err, kind.error());
        return kExitError;
      }
      for (size_t i = 1; i < options.args.size(); ++i) targets.emplace_back(*kind, options.args[i]);
    }
  }
  int exit_code = kExitOk;
  for (const auto& [kind, name] : targets) {
    auto r = ctx.client.remove(*kind, name);
    if (!r) {
      print_error(ctx.err, r.error());
      exit_code = kExitError;
      continue;
    }
    ctx.out << qualified_name(*kind, name) << " deleted\n" << std::flush;
  }
  return exit_code;
}

}  // namespace corral::cli
