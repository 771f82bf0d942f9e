#include "cli/manifest_input.h"

#include <ostream>

#include "api/manifest.h"

namespace corral::cli {

Result<std::vector<SourceDoc>> load_inputs(const std::vector<std::string>& paths, std::istream& in) {
  if (paths.empty()) return make_error(ErrorCode::kBadRequest, "must specify one of -f FILE|DIR|-");
  std::vector<SourceDoc> docs;
  std::vector<Error> errors;
  for (const auto& path : paths) {
    auto loaded = load_manifests(path, in);
    if (!loaded) {
      errors.push_back(loaded.take_error());
      continue;
    }
    for (auto& d : *loaded) docs.push_back(std::move(d));
  }
  if (errors.size() == 1) return errors.front();
  if (!errors.empty()) {
    Error all{errors.front().code, std::to_string(errors.size()) + " manifests could not be read", {}};
    for (const auto& e : errors) all.causes.push_back({"", e.to_string(), ""});
    return all;
  }
  if (docs.empty()) return make_error(ErrorCode::kBadRequest, "no objects passed to apply");
  return docs;
}

void print_warnings(std::ostream& err, const std::vector<Cause>& warnings) {
  for (const Cause& w : warnings) {
    err << "Warning: ";
    if (!w.location.empty()) err << w.location << ": ";
    err << w.field << ": " << w.message << "\n";
  }
}

}  // namespace corral::cli
