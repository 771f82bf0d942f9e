#include "tests/support/paths.h"

#include <unistd.h>

#include <cstdlib>

namespace corral::testing {

std::string controller_binary() { return CORRAL_BIN_DIR "/controller/corral-controller"; }
std::string corralctl_binary() { return CORRAL_BIN_DIR "/cli/corralctl"; }
std::string agent_binary() { return CORRAL_BIN_DIR "/agent/corral-agent"; }
std::string balancer_binary() { return CORRAL_BIN_DIR "/balancer/corral-balancer"; }
std::string source_path(const std::string& relative) { return CORRAL_SOURCE_DIR "/" + relative; }
std::string build_path(const std::string& relative) { return CORRAL_BIN_DIR "/" + relative; }
std::string cpack_command() { return CORRAL_CPACK_COMMAND; }

std::optional<std::string> find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  const std::string dirs = path ? path : "/usr/bin:/bin";
  for (size_t at = 0; at <= dirs.size();) {
    size_t end = dirs.find(':', at);
    if (end == std::string::npos) end = dirs.size();
    const std::string candidate = dirs.substr(at, end - at) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    at = end + 1;
  }
  return std::nullopt;
}

}  // namespace corral::testing
