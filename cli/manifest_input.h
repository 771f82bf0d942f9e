// Reads the -f arguments of apply, delete and diff: files, directories or "-".
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "base/error.h"
#include "api/yaml.h"

namespace corral::cli {

// Every document of every path, in order. All paths are read; when several
// fail, one error lists each failure as a cause.
Result<std::vector<SourceDoc>> load_inputs(const std::vector<std::string>& paths, std::istream& in);

// "Warning: pool.yaml:35:14: spec.placement: "least-loaded" is deprecated, use
// "leastLoaded"", one line each, as kubectl prints the server's warnings.
void print_warnings(std::ostream& err, const std::vector<Cause>& warnings);

}  // namespace corral::cli
