// Events the heartbeat service writes (Registered, AgentReplaced, ClockSkew,
// VMFailed): one small Event object per occurrence, as `kubectl describe`
// shows them. No aggregation (count stays 1): these are rare by construction.
//
// Thread safety: stateless apart from an atomic counter; safe from any thread.
#pragma once

#include <string>

#include "api/clock.h"
#include "api/error.h"
#include "controller/store/store.h"

namespace corral::heartbeat {

struct EventInfo {
  std::string kind;           // involvedObject.kind: "Node", "VM"
  std::string name;           // involvedObject.name
  std::string uid;            // involvedObject.uid (may be empty)
  std::string reason;         // CamelCase: Registered, AgentReplaced, ClockSkew, VMFailed
  std::string message;
  std::string type = "Normal";  // Normal | Warning
  std::string host;           // source.host: the node the event is about
};

// Creates the Event "<name>.<hex>" (unique per process; Kubernetes names its
// events the same way). Errors: whatever the store answers.
Result<void> record_event(store::Store& store, const Clock& clock, const EventInfo& info);

}  // namespace corral::heartbeat
