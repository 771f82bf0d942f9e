#include "controller/reconcile/node_lifecycle.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string_view>

#include "base/duration.h"
#include "controller/reconcile/common.h"

namespace corral::reconcile {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::string format_seconds(milliseconds d) { return format_cpu(d.count()) + "s"; }

// FNV-1a: a stable hash (std::hash may differ between builds), so that the
// peers asked to probe a node are the same on every controller and every pass.
uint64_t stable_hash(std::string_view a, std::string_view b) {
  constexpr uint64_t kOffset = 14695981039346656037ull;
  constexpr uint64_t kPrime = 1099511628211ull;
  uint64_t h = kOffset;
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= kPrime;
    }
  };
  mix(a);
  mix("/");
  mix(b);
  return h;
}

bool shares_pool(const std::vector<size_t>& a, const std::vector<size_t>& b) {
  // Both sorted; a node in no pool shares "the cluster" with every node.
  if (a.empty() || b.empty()) return true;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] == b[j]) return true;
    if (a[i] < b[j])
      ++i;
    else
      ++j;
  }
  return false;
}

}  // namespace

const char* health_name(NodeHealth health) {
  switch (health) {
    case NodeHealth::kReady:
      return node_phase::kReady;
    case NodeHealth::kNotReady:
      return node_phase::kNotReady;
    case NodeHealth::kUnreachable:
      return node_phase::kUnreachable;
    case NodeHealth::kRestarting:
      return node_phase::kRestarting;
    case NodeHealth::kUnknown:
      break;
  }
  return node_phase::kUnknown;
}

NodeHealth current_health(const Node& node) {
  const std::string& phase = node.status.phase;
  if (phase == node_phase::kReady) return node_ready(node) ? NodeHealth::kReady : NodeHealth::kNotReady;
  if (phase == node_phase::kNotReady) return NodeHealth::kNotReady;
  if (phase == node_phase::kUnreachable) return NodeHealth::kUnreachable;
  if (phase == node_phase::kRestarting) return NodeHealth::kRestarting;
  if (phase.empty()) {
    for (const Condition& c : node.status.conditions) {
      if (c.type != condition_type::kReady) continue;
      if (c.status == condition_status::kTrue) return NodeHealth::kReady;
      if (c.status == condition_status::kFalse) return NodeHealth::kNotReady;
    }
  }
  return NodeHealth::kUnknown;
}

void LeaseTracker::observe(const Node& node, SteadyTime now) {
  const std::string& name = node.metadata.name;
  std::string lease = node.status.lease.holderIdentity + "@" + node.status.lease.renewTime;
  auto it = last_lease_.find(name);
  if (it == last_lease_.end()) {
    last_lease_.emplace(name, std::move(lease));
    obs_[name] = LeaseObservation{now, false};
  } else if (it->second != lease) {
    it->second = std::move(lease);
    obs_[name] = LeaseObservation{now, true};
  }
}

void LeaseTracker::forget(const std::string& node) {
  last_lease_.erase(node);
  obs_.erase(node);
}

NodeLifecycleResult decide_node_lifecycle(const NodeLifecycleInput& in,
                                          const NodeLifecycleOptions& options) {
  const std::vector<Node>& nodes = *in.nodes;
  const std::vector<Pool>& pools = *in.pools;
  NodeLifecycleResult out;

  // Visit nodes in name order so that every output is sorted and stable.
  std::vector<size_t> order(nodes.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return nodes[a].metadata.name < nodes[b].metadata.name; });

  // Pass 1: per node its pools, grace and lease age.
  struct Facts {
    std::vector<size_t> pools;  // sorted indices into `pools`
    milliseconds grace{0};
    SteadyTime since{};
    bool renewed = false;
    bool fresh = false;
    milliseconds restart_window{0};  // granted to its stopped agent; 0: none
    bool restarting = false;         // expired, but within its restart window
  };
  std::vector<Facts> facts(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    Facts& f = facts[i];
    for (size_t p = 0; p < pools.size(); ++p)
      if (pool_selects(pools[p], nodes[i])) f.pools.push_back(p);
    NodeFailover fo = failover_for(nodes[i], pools);
    f.grace = fo.in_pool ? fo.grace : options.default_grace;
    f.since = in.controller_started;
    if (in.leases) {
      auto it = in.leases->find(nodes[i].metadata.name);
      if (it != in.leases->end()) {
        // A renewal seen before our own start cannot shorten the grace we owe.
        f.since = std::max(it->second.since, in.controller_started);
        f.renewed = it->second.renewed;
      }
    }
    // Not heard from since our start: wait until every live agent has had
    // the time to reach us (NodeLifecycleOptions::startup_grace).
    if (!f.renewed) f.grace = std::max(f.grace, options.startup_grace);
    f.fresh = in.now - f.since <= f.grace;
    // The pool may have shortened the window since it was granted.
    f.restart_window = std::min<milliseconds>(
        std::chrono::seconds(std::max(0, nodes[i].status.lease.restartWindowSeconds)),
        fo.restart_window);
    f.restarting = !f.fresh && f.restart_window.count() > 0 &&
                   in.now - f.since < f.restart_window &&
                   current_health(nodes[i]) != NodeHealth::kNotReady;
  }

  // The mass-failure guard, per pool (and for the nodes in no pool): of the
  // nodes not already NotReady, how many went silent? Restarting nodes said
  // why they are silent and do not count.
  const size_t no_pool = pools.size();
  std::vector<size_t> live(pools.size() + 1, 0), silent(pools.size() + 1, 0);
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (current_health(nodes[i]) == NodeHealth::kNotReady) continue;
    const bool quiet = !facts[i].fresh && !facts[i].restarting;
    auto count = [&](size_t p) {
      ++live[p];
      if (quiet) ++silent[p];
    };
    if (facts[i].pools.empty()) count(no_pool);
    for (size_t p : facts[i].pools) count(p);
  }
  // disruption_of[p]: pool p's disruption (the last entry: the nodes in no pool).
  std::vector<std::optional<PoolDisruption>> disruption_of(pools.size() + 1);
  for (size_t p = 0; p <= pools.size(); ++p) {
    if (silent[p] < options.mass_failure_min_nodes) continue;
    if (static_cast<double>(silent[p]) <= options.mass_failure_fraction * static_cast<double>(live[p]))
      continue;
    const std::string what = p == no_pool ? "nodes in no pool" : "nodes of pool/" + pools[p].metadata.name;
    disruption_of[p] = PoolDisruption{
        p == no_pool ? std::string() : pools[p].metadata.name, silent[p], live[p],
        std::to_string(silent[p]) + " of " + std::to_string(live[p]) + " " + what +
            " stopped reporting together: the controller's own network or the controller "
            "itself is the likelier cause, so their VMs stay where they are until nodes "
            "report again (mass-failure guard)"};
    out.disruptions.push_back(*disruption_of[p]);
  }
  std::sort(out.disruptions.begin(), out.disruptions.end(),
            [](const PoolDisruption& a, const PoolDisruption& b) { return a.pool < b.pool; });
  auto guarded = [&](const Facts& f) -> const PoolDisruption* {
    if (f.pools.empty()) return disruption_of[no_pool] ? &*disruption_of[no_pool] : nullptr;
    for (size_t p : f.pools)
      if (disruption_of[p]) return &*disruption_of[p];
    return nullptr;
  };

  // VMs by node, built on the first NotReady node: O(V) once instead of per node.
  std::optional<std::map<std::string_view, std::vector<const VM*>>> vms_by_node;

  for (size_t i : order) {
    const Node& node = nodes[i];
    const Facts& f = facts[i];
    const std::string& name = node.metadata.name;
    const NodeHealth current = current_health(node);
    const milliseconds age = duration_cast<milliseconds>(in.now - f.since);
    NodeVerdict v{name, current, f.fresh && f.renewed, true};
    std::string why;

    if (f.fresh) {
      if (f.renewed) {
        v.health = NodeHealth::kReady;
        why =
            "lease renewed " + format_seconds(age) + " ago (grace " + format_seconds(f.grace) + ")";
      } else {
        v.judged = false;  // only sighted since our start: give it its grace
      }
    } else if (current == NodeHealth::kNotReady) {
      // Sticky: its VMs are already being re-placed.
    } else if (f.restarting) {
      v.health = NodeHealth::kRestarting;
      why = "agent " + node.status.lease.holderIdentity + " stopped for a restart " +
            format_seconds(age) + " ago; its VMs stay until an agent reports again or the " +
            format_duration(f.restart_window) + " restart window ends";
    } else if (const PoolDisruption* d = guarded(f)) {
      v.health = NodeHealth::kUnreachable;
      v.guarded = true;
      why = "lease not renewed for " + format_seconds(age) + " (grace " + format_seconds(f.grace) +
            "), but " + d->message;
    } else {
      const SteadyTime expired_at = f.since + f.grace;
      std::string expired = "lease not renewed for " + format_seconds(age) + " (grace " +
                            format_seconds(f.grace) + ")";
      if (f.restart_window.count() > 0)
        expired += "; its agent stopped for a restart and did not return within " +
                   format_duration(f.restart_window);
      // Peers: other nodes of a shared pool whose leases are fresh and whose
      // local endpoint is known, ranked by a hash of (suspect, peer).
      std::vector<std::pair<uint64_t, size_t>> ranked;
      if (!node.status.address.empty()) {
        for (size_t j = 0; j < nodes.size(); ++j) {
          if (j == i || !facts[j].fresh || !facts[j].renewed) continue;
          if (nodes[j].status.address.empty()) continue;
          if (!shares_pool(f.pools, facts[j].pools)) continue;
          ranked.emplace_back(stable_hash(name, nodes[j].metadata.name), j);
        }
        std::sort(ranked.begin(), ranked.end());
        if (ranked.size() > options.probers_per_node) ranked.resize(options.probers_per_node);
      }

      const PeerProbe* probe = nullptr;
      if (in.probes) {
        auto it = in.probes->find(name);
        // Only answers given during this expiry count.
        if (it != in.probes->end() && it->second.probed_at >= expired_at) probe = &it->second;
      }
      const bool answer_valid =
          probe && in.now - probe->probed_at <= options.probe_interval + options.probe_timeout;

      SteadyTime wait_from = expired_at;
      if (in.guarded_at) {
        auto held = in.guarded_at->find(name);
        if (held != in.guarded_at->end()) wait_from = std::max(wait_from, held->second);
      }
      // A peer's "reachable" holds the node at most this long: one peer that
      // lies, or whose probe is fooled, must not keep a dead node's VMs
      // where they are for ever.
      const milliseconds hold =
          options.max_peer_hold.count() > 0 ? options.max_peer_hold : f.grace;
      const bool hold_over = in.now - wait_from > hold;

      if (ranked.empty()) {
        v.health = NodeHealth::kNotReady;
        why = expired + "; no Ready peer in its pools to probe it";
      } else if (answer_valid && probe->reachable_by_peer && hold_over) {
        v.health = NodeHealth::kNotReady;
        why = expired + "; a peer still reaches it, but a peer's answer holds a node at most " +
              format_seconds(hold) + " past its grace: failed over";
      } else if (answer_valid && probe->reachable_by_peer) {
        v.health = NodeHealth::kUnreachable;
        why = expired + ", but a peer still reaches it; its VMs stay for up to " +
              format_seconds(hold) + " more unless it reports";
      } else if (answer_valid) {
        v.health = NodeHealth::kNotReady;
        why = expired + "; no peer could reach it";
      } else {
        const SteadyTime waiting_since =
            probe ? probe->probed_at + options.probe_interval : wait_from;
        if (in.now - waiting_since > options.probe_timeout) {
          v.health = NodeHealth::kNotReady;
          why = expired + "; no peer answered within " + format_seconds(options.probe_timeout);
        }
        // Otherwise: waiting for peers, health unchanged.
      }

      const bool ask = v.health != NodeHealth::kNotReady && !ranked.empty() &&
                       (!probe || in.now - probe->probed_at >= options.probe_interval);
      if (ask) {
        ProbeRequest req{name, node.status.address, {}};
        for (const auto& [hash, j] : ranked) req.peers.push_back(nodes[j].metadata.name);
        out.probes.push_back(std::move(req));
      }
    }

    if (v.judged && v.health != current) {
      static constexpr const char* kReasons[] = {"NodeUnknown", "NodeReady", "NodeNotReady",
                                                 "NodeUnreachable", "NodeRestarting"};
      out.transitions.push_back(
          NodeTransition{name, current, v.health, kReasons[static_cast<int>(v.health)], why});
    }
    if (v.judged && v.health == NodeHealth::kNotReady) {
      const std::string because = why.empty() ? "its lease expired" : why;
      if (!vms_by_node) {
        vms_by_node.emplace();
        for (const VM& vm : *in.vms)
          if (!vm.spec.nodeName.empty()) (*vms_by_node)[vm.spec.nodeName].push_back(&vm);
      }
      auto bound = vms_by_node->find(name);
      const std::vector<const VM*> none;
      for (const VM* vm : bound == vms_by_node->end() ? none : bound->second) {
        const std::string& phase = vm->status.phase;
        if (phase == vm_phase::kLost || phase == vm_phase::kFailed || phase == vm_phase::kTerminating) continue;
        const std::string lost_why = "node " + name + " is NotReady: " + because;
        if (vm->spec.fencing == "selfFence") {
          // Measured from the lease, not from this verdict: the agent's fence
          // deadline is too, and a late verdict (probes) must not add to it.
          const milliseconds fence = options.fence.total();
          const SteadyTime until = f.since + f.grace + fence;
          if (in.now < until) {
            out.fencing.push_back(FencingVM{vm->metadata.name, name, vm->spec.epoch, until,
                                            "waiting " + format_seconds(fence) + " for node/" +
                                                name + " to fence vm/" + vm->metadata.name +
                                                " before re-placing (" + lost_why + ")"});
            continue;
          }
          out.lost.push_back(LostVM{vm->metadata.name, name,
                                    lost_why + "; its agent had " + format_seconds(fence) +
                                        " to fence it (selfFence)"});
          continue;
        }
        out.lost.push_back(LostVM{vm->metadata.name, name, lost_why});
      }
    }
    out.verdicts.push_back(std::move(v));
  }
  std::sort(out.lost.begin(), out.lost.end(),
            [](const LostVM& a, const LostVM& b) { return a.vm < b.vm; });
  std::sort(out.fencing.begin(), out.fencing.end(),
            [](const FencingVM& a, const FencingVM& b) { return a.vm < b.vm; });
  return out;
}

Condition ready_condition(const NodeTransition& t, const std::string& timestamp) {
  Condition c;
  c.type = condition_type::kReady;
  c.status = t.to == NodeHealth::kReady      ? condition_status::kTrue
             : t.to == NodeHealth::kNotReady ? condition_status::kFalse
                                             : condition_status::kUnknown;
  c.reason = t.reason;
  c.message = t.message;
  c.lastTransitionTime = timestamp;
  return c;
}

AvailabilityTracker::AvailabilityTracker(std::chrono::seconds window, int buckets)
    : window_(window),
      width_(std::max<milliseconds>(milliseconds(1),
                                    duration_cast<milliseconds>(window) / std::max(1, buckets))),
      ring_(static_cast<size_t>(std::max(1, buckets))) {}

int64_t AvailabilityTracker::bucket_index(SteadyTime t) const {
  return duration_cast<milliseconds>(t - *origin_).count() / width_.count();
}

void AvailabilityTracker::sample(SteadyTime now, bool fresh) {
  if (!origin_) {
    origin_ = now;
    last_ = now;
    return;
  }
  if (now <= last_) return;  // steady time never goes back; a duplicate adds nothing
  const milliseconds dt = std::min(duration_cast<milliseconds>(now - last_), width_);
  last_ = now;
  const int64_t index = bucket_index(now);
  Bucket& slot = ring_[static_cast<size_t>(index % static_cast<int64_t>(ring_.size()))];
  if (slot.index != index) slot = Bucket{index, milliseconds(0), milliseconds(0)};
  slot.observed += dt;
  if (fresh) slot.fresh += dt;
}

double AvailabilityTracker::availability(SteadyTime now) const {
  if (!origin_ || now < *origin_) return 1.0;
  const int64_t current = bucket_index(now);
  const int64_t oldest = current - static_cast<int64_t>(ring_.size()) + 1;
  milliseconds fresh{0}, observed{0};
  for (const Bucket& b : ring_) {
    if (b.index < oldest || b.index > current) continue;
    fresh += b.fresh;
    observed += b.observed;
  }
  if (observed.count() == 0) return 1.0;
  return static_cast<double>(fresh.count()) / static_cast<double>(observed.count());
}

}  // namespace corral::reconcile
