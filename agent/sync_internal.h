// Small helpers shared by the files of SyncLoop (sync_loop.cpp, sync_converge.cpp,
// sync_state.cpp); internal to agent/.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "agent/drivers/driver.h"
#include "base/log.h"

namespace corral::agent::sync_internal {

inline Logger* agent_log() { return logger("agent"); }

// "5s", or "500ms" when not whole seconds.
inline std::string format_delay(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

inline const InstanceStatus* find_instance(const std::vector<InstanceStatus>& list,
                                           const std::string& name) {
  for (const auto& s : list)
    if (s.name == name) return &s;
  return nullptr;
}

}  // namespace corral::agent::sync_internal
