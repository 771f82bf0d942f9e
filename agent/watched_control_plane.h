// WatchedControlPlane: a ControlPlane decorator between the sync loop and the
// real one. It asks every heartbeat for the node's endpoint key and hands the
// key on to the EndpointGuard, and it notes the end of every heartbeat call
// in LoopHealth (the loop's pulse). Kept outside SyncLoop so that the loop
// knows nothing of its endpoint.
//
// Not thread-safe, like the ControlPlane it wraps: the sync loop's thread.
#pragma once

#include "agent/control_plane.h"
#include "agent/endpoint_guard.h"
#include "agent/loop_health.h"

namespace corral::agent {

class WatchedControlPlane final : public ControlPlane {
 public:
  // Null guard or health: that part is skipped.
  WatchedControlPlane(ControlPlane& inner, EndpointGuard* guard, LoopHealth* health)
      : inner_(inner), guard_(guard), health_(health) {}

  Result<HeartbeatResponse> heartbeat(const std::string& node,
                                      const HeartbeatRequest& request) override;

 private:
  ControlPlane& inner_;
  EndpointGuard* guard_;
  LoopHealth* health_;
};

}  // namespace corral::agent
