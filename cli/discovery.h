// corralctl api-resources (from the server's discovery) and version.
#pragma once

#include "cli/command.h"

namespace corral::cli {

int run_api_resources(Context& ctx);

struct VersionOptions {
  bool client_only = false;  // --client: do not ask the server
};
int run_version(Context& ctx, const VersionOptions& options);

}  // namespace corral::cli
