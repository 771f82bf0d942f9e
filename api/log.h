// Named loggers per component (Envoy's habit): logger("store"), logger("api").
// Logs say what happened to which object: "vm/web-3 bound to node/host-7".
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace corral {

// Returns the logger of that name, creating it (stderr, shared format) on first use.
std::shared_ptr<spdlog::logger> logger(const std::string& name);
// "trace" | "debug" | "info" | "warn" | "error" | "off"; false if unknown.
bool set_log_level(const std::string& level);

}  // namespace corral
