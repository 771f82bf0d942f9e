// The part of Node.status a heartbeat owns, and its read-modify-write.
//
// Field ownership: the heartbeat writes capacity, allocatable, usage, lease,
// lastHeartbeatTime, address, driver, agentVersion and the ClockSkew
// condition. phase, availability and every other condition belong to the node
// lifecycle loop, which also writes with a resourceVersion precondition: each
// side re-reads on 409 and keeps the other's fields as stored.
//
// Thread safety: pure functions over the (thread-safe) store.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "base/error.h"
#include "api/types.h"
#include "controller/store/store.h"

namespace corral::heartbeat {

inline constexpr const char* kClockSkewCondition = "ClockSkew";

struct NodeReport {
  ResourceList capacity;
  ResourceList allocatable;
  ResourceList usage;
  NodeLease lease;
  std::string lastHeartbeatTime;
  std::string address;
  std::string driver;
  std::string agentVersion;
  // True: the agent's clock is off by more than the limit (message says by
  // how much); False: it is not. A False condition is only written over a
  // stored ClockSkew condition, so that healthy nodes carry none.
  bool clock_skewed = false;
  std::string clock_skew_message;
};

// Whether `next` differs from what was last persisted in something other than
// time and small usage drift: capacity, allocatable, address, driver, agent
// version, lease holder, duration or restart window, clock skew; or usage by more than
// `usage_fraction` of allocatable (of capacity when allocatable is zero).
bool significant_change(const NodeReport& persisted, const NodeReport& next,
                        double usage_fraction);

// Writes `report` into the Node's status: read, merge, update_status with the
// read resourceVersion; re-reads and retries up to `retries` times on Conflict.
// `now` stamps the ClockSkew condition's lastTransitionTime when it flips.
// Errors: NotFound (the Node was deleted), Conflict after the retries, the store's.
Result<store::RecordPtr> write_node_status(store::Store& store, const std::string& node,
                                           const NodeReport& report, const std::string& now,
                                           int retries);

}  // namespace corral::heartbeat
