#include "controller/reconcile/endpoints.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "api/conditions.h"
#include "api/annotations.h"
#include "base/clock.h"
#include "api/selector.h"
#include "controller/reconcile/common.h"

namespace corral::reconcile {
namespace {

const std::string& label_of(const VM& vm, std::string_view key) {
  static const std::string kEmpty;
  auto it = vm.metadata.labels.find(std::string(key));
  return it == vm.metadata.labels.end() ? kEmpty : it->second;
}

const std::string& replaces_of(const VM& vm) {
  static const std::string kEmpty;
  auto it = vm.metadata.annotations.find(std::string(kReplacesAnnotation));
  return it == vm.metadata.annotations.end() ? kEmpty : it->second;
}

std::string plural(size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// What a Balancer selects, parsed once per call.
struct Selection {
  bool by_vmset = false;
  std::string vmset;
  Selector selector;
  std::string error;  // the selector does not parse: selects nothing
  std::string describe;

  explicit Selection(const BalancerSpec& spec) {
    if (!spec.vmSet.empty()) {
      by_vmset = true;
      vmset = spec.vmSet;
      describe = "vmSet " + spec.vmSet;
      return;
    }
    auto parsed = Selector::from(spec.selector, "spec.selector");
    if (!parsed) {
      error = parsed.error().message;
      return;
    }
    selector = std::move(*parsed);
    describe = "selector " + (selector.empty() ? std::string("<everything>") : selector.to_string());
  }
  bool matches(const VM& vm) const {
    if (by_vmset) return label_of(vm, kVMSetLabel) == vmset;
    return error.empty() && selector.matches(vm.metadata.labels);
  }
};

double weight_for(double load) {
  return std::clamp(1.0 - load, kMinEndpointWeight, kMaxEndpointWeight);
}

void set_ready_condition(BalancerStatus& st, int64_t generation, bool ready,
                         const std::string& reason, const std::string& message, WallTime now) {
  const std::string status = ready ? condition_status::kTrue : condition_status::kFalse;
  auto it = std::find_if(st.conditions.begin(), st.conditions.end(),
                         [](const Condition& c) { return c.type == kBalancerReadyCondition; });
  if (it == st.conditions.end()) {
    st.conditions.push_back(Condition{kBalancerReadyCondition, "", "", "", "", 0});
    it = st.conditions.end() - 1;
  }
  // lastTransitionTime moves only when the status does (Kubernetes' rule).
  if (it->status != status || it->lastTransitionTime.empty())
    it->lastTransitionTime = format_time(now);
  it->status = status;
  it->reason = reason;
  it->message = message;
  it->observedGeneration = generation;
}

}  // namespace

bool balancer_selects(const Balancer& balancer, const VM& vm) {
  return Selection(balancer.spec).matches(vm);
}

bool endpoint_publishable(const VM& vm, const Node* node) {
  const VMStatus& s = vm.status;
  if (s.phase != vm_phase::kRunning || s.epoch != vm.spec.epoch) return false;
  if (vm.spec.nodeName.empty() || s.address.empty()) return false;
  // A report from a copy elsewhere is stale (the heartbeat service writes only
  // the bound copy's reports; this is the same rule, read defensively).
  if (!s.nodeName.empty() && s.nodeName != vm.spec.nodeName) return false;
  return node != nullptr && node->metadata.name == vm.spec.nodeName && node_ready(*node);
}

const Condition* balancer_ready_condition(const BalancerStatus& status) {
  return find_condition(status.conditions, kBalancerReadyCondition);
}

BalancerStatus compute_balancer_status(const Balancer& balancer, const std::vector<VM>& vms,
                                       const std::vector<Node>& nodes, WallTime now) {
  const BalancerStatus& prev = balancer.status;
  BalancerStatus st;
  st.observedGeneration = balancer.metadata.generation;
  st.lastReportTime = prev.lastReportTime;
  st.reportedBy = prev.reportedBy;
  st.conditions = prev.conditions;

  const Selection selection(balancer.spec);
  std::unordered_map<std::string_view, const Node*> node_by_name;
  node_by_name.reserve(nodes.size());
  for (const Node& n : nodes) node_by_name[n.metadata.name] = &n;
  auto node_of = [&](const VM& vm) -> const Node* {
    auto it = node_by_name.find(vm.spec.nodeName);
    return it == node_by_name.end() ? nullptr : it->second;
  };

  // Published VMs, and the VMs a published replacement stands in for.
  size_t selected = 0;
  std::vector<const VM*> published;
  std::unordered_map<std::string_view, bool> replaced;  // X → a published R replaces it
  for (const VM& vm : vms) {
    if (!selection.matches(vm) || vm.status.phase == vm_phase::kTerminating) continue;
    ++selected;
    if (!endpoint_publishable(vm, node_of(vm))) continue;
    published.push_back(&vm);
    if (const std::string& x = replaces_of(vm); !x.empty()) replaced[x] = true;
  }
  std::sort(published.begin(), published.end(),
            [](const VM* a, const VM* b) { return a->metadata.name < b->metadata.name; });

  std::unordered_map<std::string_view, const Endpoint*> before;
  for (const Endpoint& e : prev.endpoints) before[e.vm] = &e;

  std::map<std::string, double> loads;  // distinct nodes, sorted: a stable sum
  for (const VM* vm : published) {
    const Node* node = node_of(*vm);
    const double load = node_load(*node);
    loads[node->metadata.name] = load;

    Endpoint e;
    e.vm = vm->metadata.name;
    e.node = vm->spec.nodeName;
    e.address = vm->status.address;
    e.epoch = vm->spec.epoch;
    e.labels = vm->metadata.labels;
    e.weight = weight_for(load);
    e.draining = replaced.count(e.vm) > 0;
    auto it = before.find(e.vm);
    const Endpoint* old = it != before.end() && it->second->epoch == e.epoch ? it->second : nullptr;
    if (old) {  // the same copy: what the data plane measured still holds
      e.health = old->health;
      e.activeConnections = old->activeConnections;
    }
    if (e.draining) {
      if (old && old->draining) {
        e.drainingSince = old->drainingSince;
        e.drained = old->drained;
      } else {
        e.drainingSince = format_time(now);  // starts now; drained starts over
      }
    }
    st.endpoints.push_back(std::move(e));
  }

  if (!loads.empty()) {
    double sum = 0;
    for (const auto& [name, load] : loads) sum += load;
    st.meanLoad = sum / static_cast<double>(loads.size());
    for (const auto& [name, load] : loads)
      st.loadSpread = std::max(st.loadSpread, std::abs(load - st.meanLoad));
  }

  const int64_t generation = balancer.metadata.generation;
  if (!st.endpoints.empty()) {
    set_ready_condition(st, generation, true, "EndpointsPublished",
                        plural(st.endpoints.size(), "endpoint", "endpoints"), now);
  } else if (!selection.error.empty()) {
    set_ready_condition(st, generation, false, "NoEndpoints",
                        "spec.selector is invalid: " + selection.error, now);
  } else if (selected == 0) {
    set_ready_condition(st, generation, false, "NoEndpoints",
                        selection.describe + " selects no VM", now);
  } else {
    set_ready_condition(st, generation, false, "NoEndpoints",
                        plural(selected, "VM", "VMs") +
                            " selected, none Running in its current epoch on a Ready node",
                        now);
  }
  return st;
}

DrainGate drain_gate(const std::string& old_vm, const std::vector<Balancer>& balancers,
                     WallTime now, WallTime held_since) {
  std::vector<const Balancer*> sorted;
  for (const Balancer& b : balancers) sorted.push_back(&b);
  std::sort(sorted.begin(), sorted.end(), [](const Balancer* a, const Balancer* b) {
    return a->metadata.name < b->metadata.name;
  });
  DrainGate gate;
  for (const Balancer* b : sorted) {
    auto e = std::find_if(b->status.endpoints.begin(), b->status.endpoints.end(),
                          [&](const Endpoint& ep) { return ep.vm == old_vm; });
    if (e == b->status.endpoints.end()) continue;  // not published here: no hold
    const std::string lb = "lb/" + b->metadata.name;
    std::string why;
    const auto limit = std::chrono::seconds(std::max(0, b->spec.timeouts.drainSeconds));
    if (!e->draining) {
      // Bounded too: a replacement that is never published (no address, a
      // selector that misses it) must not hold the move forever.
      if (now - held_since < limit)
        why = "waiting for its replacement to be published by " + lb + " (at most " +
              std::to_string(limit.count()) + "s)";
    } else if (!e->drained) {
      WallTime since{};
      if (parse_time(e->drainingSince, &since) && now - since < limit)
        why = "draining from " + lb + " (until drained, at most " +
              std::to_string(limit.count()) + "s)";
    }
    if (why.empty()) continue;
    gate.may_delete = false;
    gate.holding.push_back(b->metadata.name);
    if (!gate.message.empty()) gate.message += "; ";
    gate.message += why;
  }
  return gate;
}

}  // namespace corral::reconcile
