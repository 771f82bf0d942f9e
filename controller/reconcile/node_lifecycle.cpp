#include "controller/reconcile/node_lifecycle.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <string_view>

#include "base/duration.h"
#include "controller/reconcile/common.h"

namespace corral::reconcile {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::string format_seconds(milliseconds d) { return format_cpu(d.count()) + "s"; }

// A node's place on the peer ring: FNV-1a (stable: std::hash may differ
// between builds, and every controller must ask the same peers) finished by
// splitmix64's mixer, without which names that differ in their last
// characters ("node-17", "node-18") would sit side by side on the ring and a
// rack of dead neighbours would be asked about each other.
uint64_t ring_position(std::string_view name) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

// The peers asked to probe a suspect: the `count` nearest successors of the
// suspect's ring position among the nodes that may probe it (Ready, renewed,
// an endpoint known, a pool in common). One ring per pool, one of the nodes
// in no pool (they share "the cluster" with everyone) and one of all nodes
// (for a suspect in no pool), built once per pass on the first suspect: a
// suspect costs O(log n + count) instead of hashing and sorting every node
// (684 ms per pass at 10,000 nodes with 2,000 of them silent).
class PeerRings {
 public:
  using Entry = std::pair<uint64_t, size_t>;  // (ring position, node index)

  PeerRings(const std::vector<Node>& nodes, size_t pool_count,
            const std::function<bool(size_t)>& eligible,
            const std::function<const std::vector<size_t>&(size_t)>& pools_of)
      : by_pool_(pool_count) {
    for (size_t j = 0; j < nodes.size(); ++j) {
      if (!eligible(j)) continue;
      const Entry e{ring_position(nodes[j].metadata.name), j};
      all_.push_back(e);
      const std::vector<size_t>& pools = pools_of(j);
      if (pools.empty()) no_pool_.push_back(e);
      for (size_t p : pools) by_pool_[p].push_back(e);
    }
    std::sort(all_.begin(), all_.end());
    std::sort(no_pool_.begin(), no_pool_.end());
    for (auto& ring : by_pool_) std::sort(ring.begin(), ring.end());
  }

  // Node indices in asking order (nearest successor first).
  std::vector<size_t> peers_of(std::string_view suspect, const std::vector<size_t>& pools,
                               size_t count) const {
    const uint64_t at = ring_position(suspect);
    std::vector<Entry> near;  // (clockwise distance, node)
    auto walk = [&](const std::vector<Entry>& ring) {
      if (ring.empty()) return;
      auto it = std::lower_bound(ring.begin(), ring.end(), Entry{at, 0});
      for (size_t taken = 0; taken < std::min(count, ring.size()); ++taken) {
        if (it == ring.end()) it = ring.begin();
        near.emplace_back(it->first - at, it->second);  // unsigned: wraps around the ring
        ++it;
      }
    };
    if (pools.empty()) {
      walk(all_);
    } else {
      walk(no_pool_);
      for (size_t p : pools) walk(by_pool_[p]);
    }
    std::sort(near.begin(), near.end());
    std::vector<size_t> out;
    for (const Entry& e : near) {
      if (out.size() == count) break;
      if (std::find(out.begin(), out.end(), e.second) == out.end()) out.push_back(e.second);
    }
    return out;
  }

 private:
  std::vector<Entry> all_, no_pool_;
  std::vector<std::vector<Entry>> by_pool_;
};

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

LeaseLookup lookup_in(const std::map<std::string, LeaseObservation>& leases) {
  return [&leases](const std::string& node) -> std::optional<LeaseObservation> {
    auto it = leases.find(node);
    if (it == leases.end()) return std::nullopt;
    return it->second;
  };
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
  std::vector<size_t> own_order;
  std::vector<size_t>& order = in.name_order ? *in.name_order : own_order;
  auto by_name = [&](size_t a, size_t b) { return nodes[a].metadata.name < nodes[b].metadata.name; };
  // Same size and strictly increasing names: a permutation of the same
  // indices (positions only move on insert or remove) in name order.
  bool reuse = order.size() == nodes.size();
  for (size_t k = 1; reuse && k < order.size(); ++k) reuse = by_name(order[k - 1], order[k]);
  if (!reuse) {
    order.resize(nodes.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), by_name);
  }
  std::vector<NodeHealth> health(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) health[i] = current_health(nodes[i]);

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
    if (in.lease_of) {
      if (const std::optional<LeaseObservation> lease = in.lease_of(nodes[i].metadata.name)) {
        // A renewal seen before our own start cannot shorten the grace we owe.
        f.since = std::max(lease->since, in.controller_started);
        f.renewed = lease->renewed;
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
                   health[i] != NodeHealth::kNotReady;
  }

  // The mass-failure guard, per pool (and for the nodes in no pool): of the
  // nodes not already NotReady, how many went silent? Restarting nodes said
  // why they are silent and do not count.
  const size_t no_pool = pools.size();
  std::vector<size_t> live(pools.size() + 1, 0), silent(pools.size() + 1, 0);
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (health[i] == NodeHealth::kNotReady) continue;
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
  std::optional<std::unordered_map<std::string_view, std::vector<const VM*>>> vms_by_node;
  std::optional<PeerRings> rings;  // built on the first suspect

  for (size_t i : order) {
    const Node& node = nodes[i];
    const Facts& f = facts[i];
    const std::string& name = node.metadata.name;
    const NodeHealth current = health[i];
    const milliseconds age = duration_cast<milliseconds>(in.now - f.since);
    NodeVerdict v{name, current, f.fresh && f.renewed, true};
    std::string why;

    if (f.fresh) {
      if (f.renewed) {
        v.health = NodeHealth::kReady;
        // Only a transition says why (formatting it for every Ready node,
        // four times a second, was a tenth of the pass at 10,000 nodes).
        if (current != NodeHealth::kReady)
          why = "lease renewed " + format_seconds(age) + " ago (grace " + format_seconds(f.grace) + ")";
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
      // local endpoint is known (PeerRings).
      std::vector<size_t> ranked;
      if (!node.status.address.empty()) {
        if (!rings)
          rings.emplace(
              nodes, pools.size(),
              [&](size_t j) { return facts[j].fresh && facts[j].renewed && !nodes[j].status.address.empty(); },
              [&](size_t j) -> const std::vector<size_t>& { return facts[j].pools; });
        ranked = rings->peers_of(name, f.pools, options.probers_per_node);
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
        for (size_t j : ranked) req.peers.push_back(nodes[j].metadata.name);
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
