#include "controller/heartbeat/heartbeat_service.h"

#include <cmath>
#include <cstdio>
#include <functional>

#include "api/json.h"
#include "api/kinds.h"
#include "base/duration.h"
#include "base/log.h"
#include "controller/heartbeat/vm_reports.h"

namespace corral::heartbeat {

namespace {

using std::chrono::milliseconds;

// "0.4s" for ages; "2s" or "1.5s" for configured durations.
std::string seconds_text(std::chrono::nanoseconds d, bool trim_whole = false) {
  double s = std::chrono::duration<double>(d).count();
  char buf[32];
  if (trim_whole && std::fabs(s - std::round(s)) < 1e-9) {
    std::snprintf(buf, sizeof buf, "%.0fs", s);
  } else {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  }
  return buf;
}

// A write that kept meeting concurrent writers is the controller's contention,
// not the agent's fault — and 409 on a heartbeat means "another agent holds
// this node" (api/heartbeat.h), which makes an agent stand still. Answered as
// 503 instead: the agent retries with its next beat.
Error retryable(Error e) {
  if (e.code == ErrorCode::kConflict) {
    e.code = ErrorCode::kUnavailable;
    e.message = "status write kept conflicting with other writers; retry: " + e.message;
  }
  return e;
}

int32_t whole_seconds_up(milliseconds d) {
  return static_cast<int32_t>((d.count() + 999) / 1000);
}

}  // namespace

HeartbeatService::HeartbeatService(store::Store& store, LeaseTable& leases, const Clock& clock,
                                   HeartbeatOptions options)
    : store_(store),
      leases_(leases),
      clock_(clock),
      options_(options),
      events_(store, clock, options.events),
      secret_env_(store, clock, events_),
      vm_feed_(store, "VM", vms_, options.watch_poll),
      pool_feed_(store, "Pool", pools_, options.watch_poll),
      secret_feed_(store, "Secret", secret_env_.sink(), options.watch_poll) {
  // Listed before the first heartbeat is served: an answer built from an
  // empty index would tell every agent to stop its VMs.
  if (auto s = sync(); !s)
    logger("heartbeat")->warn("initial list failed ({}); heartbeats wait for the store",
                              s.error().message);
  if (options_.watch_in_background) {
    vm_feed_.start_background();
    pool_feed_.start_background();
    secret_feed_.start_background();
  }
}

HeartbeatService::~HeartbeatService() {
  vm_feed_.request_stop();  // the threads wind down in the same poll interval
  pool_feed_.request_stop();
  secret_feed_.request_stop();
  vm_feed_.stop();
  pool_feed_.stop();
  secret_feed_.stop();
}

Result<void> HeartbeatService::sync() {
  // Secrets before VMs: a VM bound meanwhile finds the Secret it was created with.
  auto pools = pool_feed_.sync();
  auto secrets = secret_feed_.sync();
  auto vms = vm_feed_.sync();
  if (!pools) return pools;
  if (!secrets) return secrets;
  return vms;
}

std::shared_ptr<HeartbeatService::NodeState> HeartbeatService::state_for(const std::string& node) {
  std::lock_guard lock(states_mu_);
  auto& state = states_[node];
  if (!state) state = std::make_shared<NodeState>();
  known_nodes_.store(states_.size(), std::memory_order_relaxed);
  return state;
}

void HeartbeatService::forget_deleted_nodes(SteadyTime now) {
  std::unique_lock sweeping(forget_mu_, std::try_to_lock);
  if (!sweeping.owns_lock() || now < next_forget_check_) return;
  next_forget_check_ = now + options_.forget_check;
  const SteadyTime idle_since = now - options_.forget_after;
  std::vector<std::string> idle;
  for (const auto& [node, lease] : leases_.snapshot())
    if (lease.renewed < idle_since) idle.push_back(node);
  for (const std::string& node : idle) {
    auto record = store_.get("Node", node);
    if (record || record.error().code != ErrorCode::kNotFound) continue;  // still there, or cannot tell
    // Only if still idle now: a beat that re-registered the node meanwhile
    // renewed its lease, and keeps it and its state.
    if (!leases_.forget_if_idle(node, idle_since)) continue;
    if (options_.usage_history) options_.usage_history->forget(node);
    std::lock_guard lock(states_mu_);
    states_.erase(node);
    known_nodes_.store(states_.size(), std::memory_order_relaxed);
    logger("heartbeat")->info("node/{}: deleted and silent for {}; its lease and state are dropped", node,
                              seconds_text(std::chrono::duration_cast<std::chrono::milliseconds>(options_.forget_after), true));
  }
}

SteadyTime HeartbeatService::next_persist(const std::string& node, uint64_t writes,
                                          SteadyTime now) const {
  // splitmix64 of (name hash, count): a uniform share in [0, 1).
  uint64_t x = std::hash<std::string>{}(node) + writes * 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  const double share = static_cast<double>(x >> 11) / static_cast<double>(1ULL << 53);
  const double factor = 1.0 - options_.persist_jitter * share;
  std::chrono::duration<double> interval = options_.persist_interval;
  if (options_.max_periodic_writes_per_second > 0) {
    // Each node writes once per interval: n nodes write n / interval per second.
    const double nodes = static_cast<double>(known_nodes_.load(std::memory_order_relaxed));
    interval = std::max(interval, std::chrono::duration<double>(nodes / options_.max_periodic_writes_per_second));
  }
  return now + std::chrono::duration_cast<SteadyTime::duration>(interval * factor);
}

Result<store::RecordPtr> HeartbeatService::register_node(const std::string& name,
                                                         const HeartbeatRequest& req) {
  Node node;
  node.metadata.name = name;
  node.metadata.labels = req.labels;
  auto normalized = normalize_object(to_json(node));
  if (!normalized) return normalized.take_error();
  auto created = store_.create("Node", std::move(*normalized));
  if (!created) {
    // Created by someone else (corralctl apply) since our read: use theirs.
    if (created.error().code == ErrorCode::kAlreadyExists) return store_.get("Node", name);
    return created;
  }
  logger("heartbeat")->info("node/{} registered by agent {} ({} driver, {} CPU, {} memory)", name,
                            req.holderIdentity, req.driver.empty() ? "unknown" : req.driver,
                            req.capacity.cpu.text, req.capacity.memory.text);
  (void)events_.record({"Node", name, (*created)->uid}, event_type::kNormal, "Registered",
                       "node " + name + " registered by agent " + req.holderIdentity, name);
  return created;
}

Result<void> HeartbeatService::report_vms(const std::string& node, const HeartbeatRequest& req) {
  ReportOptions options{options_.usage_change_fraction, options_.conflict_retries};
  Result<void> first_error;
  for (const VmReport& report : req.vms) {
    auto outcome = apply_vm_report(store_, events_, node, report, options);
    if (!outcome && first_error.ok()) first_error = outcome.take_error();
  }
  // Failing the heartbeat makes the agent send a full report next time, so a
  // report that was not written is not lost.
  return first_error;
}

void HeartbeatService::each_answered(
    const std::string& node, const std::function<void(const BoundEntry&)>& plain,
    const std::function<void(Json)>& resolved) const {
  for (const BoundEntryPtr& entry : vms_.bound_to(node)) {
    // A Lost VM's node was declared dead; its copy here must stop.
    if (entry->phase == vm_phase::kLost) continue;
    if (!entry->secret_refs) {
      plain(*entry);
    } else if (auto with_values = secret_env_.bound_for(node, *entry)) {
      resolved(std::move(*with_values));
    }
  }
}

Json HeartbeatService::answer(const std::string& node, milliseconds grace) const {
  HeartbeatResponse response;
  response.node = node;
  response.leaseDurationSeconds = whole_seconds_up(grace);
  response.serverTime = format_time(clock_.now());
  Json out = to_json(response);
  Json vms = Json::array();
  each_answered(
      node, [&](const BoundEntry& entry) { vms.push_back(entry.bound); },
      [&](Json with_values) { vms.push_back(std::move(with_values)); });
  out["vms"] = std::move(vms);
  return out;
}

std::string HeartbeatService::answer_text(const std::string& node, milliseconds grace,
                                          bool endpoint_key) const {
  HeartbeatResponse response;
  response.node = node;
  response.leaseDurationSeconds = whole_seconds_up(grace);
  response.serverTime = format_time(clock_.now());
  Json fields = to_json(response);
  fields.erase("vms");
  if (endpoint_key && options_.endpoint_key) fields["endpointKey"] = options_.endpoint_key(node);
  std::string out = dump_json(fields);  // an object with fields: "{...}"
  out.pop_back();
  out += ",\"vms\":[";
  bool first = true;
  auto append = [&](const std::string& text) {
    if (!first) out += ',';
    first = false;
    out += text;
  };
  each_answered(
      node, [&](const BoundEntry& entry) { append(entry.bound_text); },
      [&](Json with_values) { append(dump_json(with_values)); });
  out += "]}";
  return out;
}

bool HeartbeatService::self_fence_bound(const std::string& node) const {
  for (const BoundEntryPtr& entry : vms_.bound_to(node)) {
    if (entry->phase == vm_phase::kLost) continue;
    if (entry->bound.is_object() && entry->bound.value("fencing", "") == "selfFence") return true;
  }
  return false;
}

Result<Json> HeartbeatService::handle(const std::string& node, const Json& body,
                                      std::optional<SteadyTime> received) {
  auto accepted = accept(node, body, received);
  if (!accepted) return accepted.take_error();
  Json out = answer(node, accepted->grace);
  if (accepted->endpoint_key && options_.endpoint_key) out["endpointKey"] = options_.endpoint_key(node);
  return out;
}

Result<std::string> HeartbeatService::handle_text(const std::string& node, const Json& body,
                                                  std::optional<SteadyTime> received) {
  auto accepted = accept(node, body, received);
  if (!accepted) return accepted.take_error();
  return answer_text(node, accepted->grace, accepted->endpoint_key);
}

Result<HeartbeatService::Accepted> HeartbeatService::accept(const std::string& node, const Json& body,
                                                            std::optional<SteadyTime> received) {
  auto decoded = from_json<HeartbeatRequest>(body);
  if (!decoded) return decoded.take_error();
  HeartbeatRequest& req = *decoded;
  clamp_heartbeat_text(req);
  if (auto valid = validate_heartbeat(req); !valid) return valid.take_error();
  // Unlisted Secrets would hold back every VM that takes values from them.
  if (!vm_feed_.ready() || !pool_feed_.ready() || !secret_feed_.ready()) {
    if (auto s = sync(); !s)
      return make_error(ErrorCode::kUnavailable,
                        "heartbeats are not served until VMs, Pools and Secrets are listed: " +
                            s.error().message);
  }

  forget_deleted_nodes(clock_.steady_now());
  auto state = state_for(node);
  std::lock_guard lock(state->mu);
  const SteadyTime now = clock_.steady_now();
  const auto wall = clock_.now();

  auto record = store_.get("Node", node);
  if (!record && record.error().code != ErrorCode::kNotFound) return record.take_error();
  const milliseconds grace = pools_.grace_for(record ? (*record)->labels : req.labels);

  // Ownership: judged on this controller's steady clock only.
  auto lease = leases_.current(node);
  std::optional<std::string> replaced;
  if (lease && lease->holder != req.holderIdentity && !lease->released) {
    const auto age = now - lease->renewed;
    if (age < grace)
      return make_error(ErrorCode::kConflict,
                        "node " + node + " is held by agent " + lease->holder + " (lease renewed " +
                            seconds_text(age) + " ago, grace " + seconds_text(grace, true) +
                            "); refused until it expires");
    // The old agent may be alive but cut off, stopping its selfFence VMs
    // until grace + fence wait: the bindings go to a new agent only then,
    // as the node lifecycle re-places them only then.
    if (age < grace + options_.fence_wait && self_fence_bound(node))
      return make_error(ErrorCode::kConflict,
                        "node " + node + " was held by agent " + lease->holder +
                            ", whose lease expired " + seconds_text(age - grace) +
                            " ago; it has selfFence VMs, which that agent may still be stopping: "
                            "refused until the fence wait (" +
                            seconds_text(options_.fence_wait, true) + ") has passed too");
    replaced = "agent " + req.holderIdentity + " took over node " + node + " from " +
               lease->holder + ", whose lease expired " + seconds_text(age - grace) + " ago";
  }
  // A different holder after a release is the restart announced: no warning.

  bool registered = false;
  if (!record) {
    record = register_node(node, req);
    if (!record) return record.take_error();
    registered = true;
  }
  leases_.renew(node, req.holderIdentity, received ? std::min(*received, now) : now);
  // The last beat of an agent stopping for a restart: its VMs stay for the
  // window granted (the agent's ask, at most the pools'), and the next agent
  // may take the node at once.
  int32_t restart_window = 0;
  if (req.restartWindowSeconds > 0) {
    const auto cap = pools_.restart_window_for((*record)->labels);
    restart_window = static_cast<int32_t>(
        std::min<int64_t>(req.restartWindowSeconds, static_cast<int64_t>(cap.count())));
    if (restart_window > 0) leases_.release(node);
  }
  if (replaced) {
    logger("heartbeat")->warn("node/{}: {}", node, *replaced);
    (void)events_.record({"Node", node, (*record)->uid}, event_type::kWarning, "AgentReplaced", *replaced,
                         node);
  }

  if (options_.usage_history)
    options_.usage_history->record(node, wall, req.usage.cpu.value(),
                                   req.usage.memory.value());
  NodeReport next;
  next.capacity = req.capacity;
  next.allocatable = req.allocatable;
  next.usage = req.usage;
  next.lease = {req.holderIdentity, format_time(wall), whole_seconds_up(grace), restart_window};
  next.lastHeartbeatTime = format_time(wall);
  next.address = req.address;
  next.driver = req.driver;
  next.agentVersion = req.agentVersion;
  std::chrono::system_clock::time_point agent_time;
  if (!req.time.empty() && parse_time(req.time, &agent_time)) {
    const auto skew = agent_time - wall;
    if (std::chrono::abs(skew) > options_.max_clock_skew) {
      next.clock_skewed = true;
      next.clock_skew_message = "the agent's clock is " + seconds_text(std::chrono::abs(skew)) +
                                (skew > skew.zero() ? " ahead of" : " behind") +
                                " the controller's (limit " +
                                seconds_text(options_.max_clock_skew, true) + ")";
    }
  }

  const bool due = !state->persisted || registered ||
                   now >= state->persist_due ||
                   significant_change(state->last, next, options_.usage_change_fraction);
  if (due) {
    const bool skew_appeared = next.clock_skewed && !(state->persisted && state->last.clock_skewed);
    auto written =
        write_node_status(store_, node, next, format_time(wall), options_.conflict_retries);
    if (!written) return retryable(written.take_error());
    state->persisted = true;
    state->last = next;
    state->persist_due = next_persist(node, ++state->writes, now);
    if (restart_window > 0) {
      const std::string message =
          "agent " + req.holderIdentity + " stopped for a restart; the node keeps its VMs for up to " +
          format_duration(std::chrono::seconds(restart_window)) + " until an agent reports again";
      logger("heartbeat")->info("node/{}: {}", node, message);
      (void)events_.record({"Node", node, (*record)->uid}, event_type::kNormal, "AgentRestarting",
                           message, node);
    } else if (req.restartWindowSeconds > 0) {
      logger("heartbeat")->info(
          "node/{}: agent {} stopped for a restart, but its pools grant no restart window "
          "(failover.restartWindowSeconds: 0): the node is judged as if its agent had died",
          node, req.holderIdentity);
    }
    if (skew_appeared) {
      logger("heartbeat")->warn("node/{}: {}", node, next.clock_skew_message);
      (void)events_.record({"Node", node, (*record)->uid}, event_type::kWarning, "ClockSkew",
                           next.clock_skew_message, node);
    }
  }

  if (auto reported = report_vms(node, req); !reported) return retryable(reported.take_error());
  return Accepted{grace, req.endpointAuth};
}

}  // namespace corral::heartbeat
