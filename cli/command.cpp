#include "cli/command.h"

#include <ostream>

namespace corral::cli {

void print_error(std::ostream& err, const Error& error) {
  // Some messages already list their causes (normalize_manifests does); print
  // each cause once.
  std::string text = error.message;
  for (const auto& c : error.causes) {
    std::string line;
    if (!c.location.empty()) line += c.location + ": ";
    if (!c.field.empty()) line += c.field + ": ";
    line += c.message;
    if (text.find(line) != std::string::npos) continue;
    text += "\n  " + line;
  }
  while (!text.empty() && text.back() == '\n') text.pop_back();
  err << "error: " << text << "\n";
}

Result<const KindInfo*> resolve_kind(const std::string& name) {
  const KindInfo* kind = find_kind(name);
  if (!kind)
    return make_error(ErrorCode::kBadRequest, "the server doesn't have a resource type \"" + name + "\"");
  return kind;
}

std::string qualified_name(const KindInfo& kind, const std::string& name) {
  return kind.singular + "/" + name;
}

Result<ObjectRef> parse_object_ref(const std::string& arg) {
  const size_t slash = arg.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == arg.size())
    return make_error(ErrorCode::kBadRequest, "\"" + arg + "\": write it KIND/NAME");
  auto kind = resolve_kind(arg.substr(0, slash));
  if (!kind) return kind.take_error();
  return ObjectRef{*kind, arg.substr(slash + 1)};
}

Result<std::vector<std::string>> expand_object_ref(std::vector<std::string> args) {
  if (args.size() != 1 || args[0].find('/') == std::string::npos) return args;
  auto ref = parse_object_ref(args[0]);
  if (!ref) return ref.take_error();
  return std::vector<std::string>{ref->kind->plural, ref->name};
}

}  // namespace corral::cli
