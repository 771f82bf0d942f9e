// A ControlPlane that answers heartbeats from memory and records every request
// (client-go's fake clientset habit): tests script the answer and the errors.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "agent/control_plane.h"

namespace corral::testing {

class FakeControlPlane final : public agent::ControlPlane {
 public:
  std::vector<HeartbeatRequest> requests;  // every heartbeat, in order (answered or not)
  HeartbeatResponse answer;                // what a successful heartbeat gets
  std::deque<Error> fail_next;             // answered first, one per heartbeat
  bool unreachable = false;                // every heartbeat: Unavailable
  bool conflict = false;                   // every heartbeat: 409 Conflict
  // Called inside every heartbeat before it is answered: a test advances its
  // FakeClock here to make the round trip take time.
  std::function<void()> during_call;

  Result<HeartbeatResponse> heartbeat(const std::string& node, const HeartbeatRequest& request) override {
    requests.push_back(request);
    if (during_call) during_call();
    if (!fail_next.empty()) {
      Error e = fail_next.front();
      fail_next.pop_front();
      return e;
    }
    if (unreachable)
      return make_error(ErrorCode::kUnavailable, "cannot reach http://127.0.0.1:1: Connection refused");
    if (conflict)
      return make_error(ErrorCode::kConflict, "node/" + node + " is held by host-1/99-beef (renewed 0.4s ago)");
    HeartbeatResponse r = answer;
    r.node = node;
    return r;
  }

  const HeartbeatRequest& last() const { return requests.back(); }
  // The latest report of VM `name` sent in any request; null when never sent.
  // (A round may send two beats: the agent reports a VM it just started,
  // stopped or saw fail at once, in a second beat.)
  const VmReport* last_report(const std::string& name) const {
    for (auto req = requests.rbegin(); req != requests.rend(); ++req)
      for (const auto& r : req->vms)
        if (r.name == name) return &r;
    return nullptr;
  }
};

}  // namespace corral::testing
