// corralctl apply -f FILE|DIR|- : every document is validated before any
// write; then each object is created, configured (PUT with the live
// resourceVersion, retried once on 409) or left unchanged.
#pragma once

#include <string>
#include <vector>

#include "cli/command.h"

namespace corral::cli {

struct ApplyOptions {
  std::vector<std::string> files;  // -f, repeatable
};

enum class ApplyAction { kCreate, kConfigure, kUnchanged };

// The decision for one normalized object; `live` is null when it does not exist.
ApplyAction decide_apply(const Json& desired, const Json* live);

int run_apply(Context& ctx, const ApplyOptions& options);

}  // namespace corral::cli
