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

}  // namespace corral::cli
