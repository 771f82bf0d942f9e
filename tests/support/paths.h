// Where the build put the binaries and where the sources are. Only
// tests/support/paths.cpp is compiled with the paths (CORRAL_BIN_DIR,
// CORRAL_SOURCE_DIR), so that no other test file depends on where the tree is
// checked out and the compiler cache serves every checkout.
#pragma once

#include <optional>
#include <string>

namespace corral::testing {

std::string controller_binary();
std::string corralctl_binary();
std::string agent_binary();
std::string balancer_binary();
// A path inside the source tree: source_path("manifests/examples").
std::string source_path(const std::string& relative);
// A path inside the build tree: build_path("CPackConfig.cmake").
std::string build_path(const std::string& relative);
// The cpack of the CMake that configured the build tree.
std::string cpack_command();
// An executable `name` in a directory of $PATH, the first found; none: nullopt.
std::optional<std::string> find_on_path(const std::string& name);

}  // namespace corral::testing
