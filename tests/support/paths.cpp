#include "tests/support/paths.h"

namespace corral::testing {

std::string controller_binary() { return CORRAL_BIN_DIR "/controller/corral-controller"; }
std::string corralctl_binary() { return CORRAL_BIN_DIR "/cli/corralctl"; }
std::string agent_binary() { return CORRAL_BIN_DIR "/agent/corral-agent"; }
std::string balancer_binary() { return CORRAL_BIN_DIR "/balancer/corral-balancer"; }
std::string source_path(const std::string& relative) { return CORRAL_SOURCE_DIR "/" + relative; }
std::string build_path(const std::string& relative) { return CORRAL_BIN_DIR "/" + relative; }
std::string cpack_command() { return CORRAL_CPACK_COMMAND; }

}  // namespace corral::testing
