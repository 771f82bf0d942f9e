// A Context over a fake client, string streams and a fixed clock, for
// unit tests of corralctl's commands.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "base/clock.h"
#include "cli/command.h"
#include "tests/unit/fake_resource_client.h"

namespace corral::testing {

struct CliHarness {
  FakeResourceClient client;
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  FakeClock clock;
  cli::Context ctx{client, in, out, err, clock};
  CliHarness() { client.clock = &clock; }
};

inline void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace corral::testing
