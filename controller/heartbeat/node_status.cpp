#include "controller/heartbeat/node_status.h"

#include <algorithm>
#include <cstdlib>

#include "api/json.h"
#include "api/kinds.h"
#include "base/log.h"

namespace corral::heartbeat {

namespace {

bool drifted(const Quantity& before, const Quantity& after, const Quantity& bound,
             double fraction) {
  if (before == after) return false;
  const double limit = fraction * static_cast<double>(bound.milli);
  return static_cast<double>(std::llabs(after.milli - before.milli)) > limit;
}

bool same(const ResourceList& a, const ResourceList& b) {
  return a.cpu == b.cpu && a.memory == b.memory;
}

// Sets the ClockSkew condition; keeps every other condition as stored.
void merge_clock_skew(std::vector<Condition>& conditions, const NodeReport& report,
                      const std::string& now) {
  auto it = std::find_if(conditions.begin(), conditions.end(),
                         [](const Condition& c) { return c.type == kClockSkewCondition; });
  if (it == conditions.end() && !report.clock_skewed) return;
  Condition next;
  next.type = kClockSkewCondition;
  next.status = report.clock_skewed ? condition_status::kTrue : condition_status::kFalse;
  next.reason = report.clock_skewed ? "ClockSkewDetected" : "ClockInSync";
  next.message = report.clock_skewed ? report.clock_skew_message
                                     : "the agent's clock agrees with the controller's";
  if (it == conditions.end()) {
    next.lastTransitionTime = now;
    conditions.push_back(std::move(next));
    return;
  }
  next.lastTransitionTime = it->status == next.status ? it->lastTransitionTime : now;
  next.observedGeneration = it->observedGeneration;
  *it = std::move(next);
}

}  // namespace

bool significant_change(const NodeReport& p, const NodeReport& n, double usage_fraction) {
  if (!same(p.capacity, n.capacity) || !same(p.allocatable, n.allocatable)) return true;
  if (p.address != n.address || p.driver != n.driver || p.agentVersion != n.agentVersion)
    return true;
  if (p.lease.holderIdentity != n.lease.holderIdentity ||
      p.lease.durationSeconds != n.lease.durationSeconds ||
      p.lease.restartWindowSeconds != n.lease.restartWindowSeconds)
    return true;
  if (p.clock_skewed != n.clock_skewed) return true;
  const Quantity& cpu_bound = n.allocatable.cpu.milli > 0 ? n.allocatable.cpu : n.capacity.cpu;
  const Quantity& mem_bound =
      n.allocatable.memory.milli > 0 ? n.allocatable.memory : n.capacity.memory;
  return drifted(p.usage.cpu, n.usage.cpu, cpu_bound, usage_fraction) ||
         drifted(p.usage.memory, n.usage.memory, mem_bound, usage_fraction);
}

Result<store::RecordPtr> write_node_status(store::Store& store, const std::string& name,
                                           const NodeReport& report, const std::string& now,
                                           int retries) {
  for (int attempt = 0;; ++attempt) {
    auto record = store.get("Node", name);
    if (!record) return record.take_error();
    auto node = from_json<Node>((*record)->parse());
    if (!node) {
      logger("heartbeat")->error("BUG: stored node/{} does not decode: {}", name,
                                 node.error().message);
      return make_error(ErrorCode::kInternal, "stored node " + name + " does not decode");
    }
    NodeStatus& st = node->status;
    st.capacity = report.capacity;
    st.allocatable = report.allocatable;
    st.usage = report.usage;
    st.lease = report.lease;
    st.lastHeartbeatTime = report.lastHeartbeatTime;
    st.address = report.address;
    st.driver = report.driver;
    st.agentVersion = report.agentVersion;
    merge_clock_skew(st.conditions, report, now);
    // Normalised like any API write, so the store never holds what the API
    // would refuse; metadata.resourceVersion stays as read: the precondition.
    auto normalized = normalize_object(to_json(*node));
    if (!normalized) return normalized.take_error();
    auto written = store.update_status("Node", std::move(*normalized));
    if (written) return written;
    if (written.error().code != ErrorCode::kConflict || attempt >= retries) return written;
    logger("heartbeat")->debug("node/{}: status conflict, re-reading (attempt {})", name,
                               attempt + 1);
  }
}

}  // namespace corral::heartbeat
