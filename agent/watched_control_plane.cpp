#include "agent/watched_control_plane.h"

namespace corral::agent {

Result<HeartbeatResponse> WatchedControlPlane::heartbeat(const std::string& node,
                                                         const HeartbeatRequest& request) {
  HeartbeatRequest asked = request;
  asked.endpointAuth = guard_ != nullptr && !guard_->open();
  auto answer = inner_.heartbeat(node, asked);
  if (answer && guard_) guard_->set_key(answer->endpointKey);
  if (health_) health_->beat();
  return answer;
}

}  // namespace corral::agent
