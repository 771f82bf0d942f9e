// Loading manifests the way `kubectl apply -f` does: a file, every *.yaml,
// *.yml and *.json file in a directory (sorted by name, not recursive), or "-"
// for standard input; YAML may hold several documents, JSON one object or a
// `List` with `items`.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "base/error.h"
#include "api/yaml.h"

namespace corral {

// Errors: NotFound for a missing path; BadRequest with file:line:column for a
// syntax error (all files are read; the first syntax error is returned).
Result<std::vector<SourceDoc>> load_manifests(const std::string& path, std::istream& stdin_stream);

// Normalizes every document (api/kinds.h normalize_object). All problems of all
// documents are reported together: an Invalid error with one cause per problem,
// each cause's location set to file:line:column. On success the objects come
// back in document order. Values in an old spelling are rewritten; when
// `warnings` is given, each rewrite is appended with its file:line:column.
Result<std::vector<Json>> normalize_manifests(const std::vector<SourceDoc>& docs,
                                              std::vector<Cause>* warnings = nullptr);

}  // namespace corral
