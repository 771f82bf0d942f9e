// corralctl's command line (CLI11): verbs, flags and help, and the one place
// that turns CLI11's exceptions into "error: ..." and an exit code.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>

#include "client/client.h"
#include "cli/resource_client.h"

namespace corral::cli {

// Builds the API seam from the resolved settings; the default makes an
// HttpResourceClient. Tests pass one returning a fake.
using ClientFactory = std::function<std::unique_ptr<ResourceClient>(const ClientConfig&)>;

int run_corralctl(int argc, const char* const* argv, std::istream& in, std::ostream& out, std::ostream& err,
                  const ClientFactory& factory = {});

}  // namespace corral::cli
