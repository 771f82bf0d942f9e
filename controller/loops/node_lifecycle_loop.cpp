#include "controller/loops/node_lifecycle_loop.h"

#include <cmath>
#include <functional>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "api/conditions.h"
#include "base/log.h"
#include "controller/loops/status_update.h"
#include "controller/reconcile/common.h"

namespace corral::loops {
namespace {

using reconcile::NodeHealth;

bool vm_already_gone(const VM& vm) {
  const std::string& phase = vm.status.phase;
  return phase == vm_phase::kLost || phase == vm_phase::kFailed || phase == vm_phase::kTerminating;
}

}  // namespace

NodeLifecycleLoop::NodeLifecycleLoop(store::Store& store, ObjectCache& cache,
                                     const heartbeat::LeaseTable& leases, PeerProber& prober,
                                     events::EventRecorder& events, WriterPool& writers,
                                     const Clock& clock, NodeLifecycleLoopOptions options)
    : store_(store),
      cache_(cache),
      leases_(leases),
      prober_(prober),
      events_(events),
      writers_(writers),
      clock_(clock),
      options_(std::move(options)),
      started_(clock.steady_now()) {}

void NodeLifecycleLoop::observe(const CacheDelta& delta) {
  for (const std::string& name : delta.nodes) {
    if (cache_.node(name)) continue;
    trackers_.erase(name);
    availability_written_.erase(name);
    guarded_at_.erase(name);
    std::lock_guard lock(probes_->mu);
    probes_->answers.erase(name);
  }
}

NodeLifecyclePassStats NodeLifecycleLoop::run_once() {
  NodeLifecyclePassStats stats;
  const reconcile::SteadyTime now = clock_.steady_now();
  const reconcile::NodeLifecycleResult result = decide(now);
  for (const reconcile::NodeVerdict& v : result.verdicts)
    if (v.guarded) guarded_at_[v.node] = now;
  send_probes(result.probes, stats);
  const std::map<std::string, double> availability =
      track_availability(result.verdicts, result.transitions, now);

  // One status write per node: its transition and its availability together.
  std::map<std::string, NodeWrite> node_writes;
  for (const reconcile::NodeTransition& t : result.transitions) node_writes[t.node].transition = &t;
  for (const auto& [name, a] : availability) {
    node_writes[name].write_availability = true;
    node_writes[name].availability = a;
  }
  // Copies taken here, on the owner thread: the tasks never read the cache.
  std::vector<NodeTask> node_tasks;
  for (const auto& [name, w] : node_writes) {
    if (const Node* n = cache_.node(name)) node_tasks.push_back(NodeTask{*n, w});
  }
  std::vector<PoolTask> pool_tasks = pool_changes(result.disruptions);
  stats.pools_disrupted = result.disruptions.size();
  std::vector<VmTask> vm_tasks;
  for (const reconcile::LostVM& l : result.lost) {
    if (const VM* vm = cache_.vm(l.vm)) vm_tasks.push_back(VmTask{*vm, &l});
  }

  const std::string timestamp = format_time(clock_.now());
  std::vector<std::function<void()>> tasks;
  for (NodeTask& task : node_tasks) tasks.push_back([&] { write_node(task, timestamp); });
  for (VmTask& task : vm_tasks) tasks.push_back([&] { write_lost(task); });
  for (PoolTask& task : pool_tasks) tasks.push_back([&] { write_pool(task, timestamp); });
  announce_fences(result.fencing, tasks);
  stats.vms_fencing = result.fencing.size();
  writers_.run_all(std::move(tasks));

  auto note = [&](const std::string& what, const Result<store::RecordPtr>& r) {
    if (r) {
      cache_.apply(*r);
      return true;
    }
    ++stats.write_errors;
    logger("loops")->warn("{}: {}", what, r.error().message);
    return false;
  };
  for (const NodeTask& task : node_tasks) {
    if (!note("node/" + task.node.metadata.name + " status", task.result)) continue;
    if (task.write.transition) ++stats.transitions;
    if (task.write.write_availability) ++stats.availability_writes;
  }
  for (const PoolTask& task : pool_tasks) (void)note("pool/" + task.pool.metadata.name + " status", task.result);
  for (const VmTask& task : vm_tasks) {
    if (note("vm/" + task.vm.metadata.name + " Lost", task.result) && *task.result) {
      ++stats.vms_lost;
    }
  }
  return stats;
}

reconcile::NodeLifecycleResult NodeLifecycleLoop::decide(reconcile::SteadyTime now) {
  std::map<std::string, reconcile::PeerProbe> answers;
  {
    std::lock_guard lock(probes_->mu);
    answers = probes_->answers;
  }
  reconcile::NodeLifecycleInput in;
  in.nodes = &cache_.nodes().items();
  in.pools = &cache_.pools().items();
  in.vms = &cache_.vms().items();
  // Leases from the heartbeat service's table: a lease there was renewed by a
  // heartbeat this controller received. Nodes without one are absent, which
  // decide_node_lifecycle treats as first seen at our start.
  in.lease_of = [this](const std::string& node) -> std::optional<reconcile::LeaseObservation> {
    if (auto renewed = leases_.renewed_at(node)) return reconcile::LeaseObservation{*renewed, true};
    return std::nullopt;
  };
  in.name_order = &name_order_;
  in.probes = &answers;
  in.guarded_at = &guarded_at_;
  in.controller_started = started_;
  in.now = now;
  return reconcile::decide_node_lifecycle(in, options_.decide);
}

void NodeLifecycleLoop::write_node(NodeTask& task, const std::string& timestamp) {
  const NodeWrite& w = task.write;
  task.result = update_status_rmw<Node>(store_, task.node, [&](Node& n) {
    if (w.transition) {
      n.status.phase = reconcile::health_name(w.transition->to);
      set_condition(n.status.conditions, reconcile::ready_condition(*w.transition, timestamp));
    }
    if (w.write_availability) n.status.availability = w.availability;
    return true;
  });
  if (!task.result || !w.transition) return;
  const reconcile::NodeTransition& t = *w.transition;
  logger("loops")->log(t.to == NodeHealth::kReady ? LogLevel::kInfo : LogLevel::kWarn,
                       "node/{} {} → {}: {}", t.node, reconcile::health_name(t.from),
                       reconcile::health_name(t.to), t.message);
  (void)events_.record({Node::kKind, t.node, task.node.metadata.uid},
                       t.to == NodeHealth::kReady ? event_type::kNormal : event_type::kWarning, t.reason, t.message,
                       t.node);
}

void NodeLifecycleLoop::write_lost(VmTask& task) {
  const reconcile::LostVM& l = *task.lost;
  task.result = update_status_rmw<VM>(store_, task.vm, [&](VM& vm) {
    // On a re-read: moved or finished meanwhile → nothing to mark.
    if (vm.spec.nodeName != l.node || vm_already_gone(vm)) return false;
    vm.status.phase = vm_phase::kLost;
    vm.status.message = l.message;
    // Nothing is known to serve there any more: no address, no measured use.
    vm.status.address.clear();
    vm.status.pid = 0;
    vm.status.usage = {};
    return true;
  });
  if (!task.result || !*task.result) return;
  logger("loops")->warn("vm/{} Lost: {}", l.vm, l.message);
  (void)events_.record({VM::kKind, l.vm, task.vm.metadata.uid}, event_type::kWarning, "VMLost", l.message,
                       l.node);
}

std::vector<NodeLifecycleLoop::PoolTask> NodeLifecycleLoop::pool_changes(
    const std::vector<reconcile::PoolDisruption>& disruptions) {
  std::map<std::string_view, const reconcile::PoolDisruption*> by_pool;
  for (const reconcile::PoolDisruption& d : disruptions) by_pool[d.pool] = &d;
  auto none = by_pool.find("");
  const bool no_pool = none != by_pool.end();
  if (no_pool != no_pool_disrupted_) {
    no_pool_disrupted_ = no_pool;
    if (no_pool)
      logger("loops")->warn("{}", none->second->message);
    else
      logger("loops")->info("the nodes in no pool report again: the usual fail-over rules apply");
  }
  std::vector<PoolTask> out;
  for (const Pool& pool : cache_.pools().items()) {
    auto it = by_pool.find(pool.metadata.name);
    const reconcile::PoolDisruption* d = it == by_pool.end() ? nullptr : it->second;
    const Condition* c = find_condition(pool.status.conditions, condition_type::kDisrupted);
    const bool shown = c && c->status == condition_status::kTrue;
    if (d ? (shown && c->message == d->message) : !shown) continue;
    out.push_back(PoolTask{pool, d});
  }
  return out;
}

void NodeLifecycleLoop::write_pool(PoolTask& task, const std::string& timestamp) {
  const reconcile::PoolDisruption* d = task.disruption;
  bool flipped = false;
  task.result = update_status_rmw<Pool>(store_, task.pool, [&](Pool& pool) {
    Condition c;
    c.type = condition_type::kDisrupted;
    c.status = d ? condition_status::kTrue : condition_status::kFalse;
    c.reason = d ? "MassNodeFailure" : "NodesReporting";
    c.message = d ? d->message
                  : "enough nodes report again: the usual fail-over rules apply to those still silent";
    const Condition* before = find_condition(pool.status.conditions, c.type);
    flipped = !before || before->status != c.status;
    c.lastTransitionTime = timestamp;  // kept by set_condition unless the status flips
    set_condition(pool.status.conditions, std::move(c));
    return true;
  });
  if (!task.result || !*task.result || !flipped) return;
  const std::string& name = task.pool.metadata.name;
  if (d) {
    logger("loops")->warn("pool/{}: {}", name, d->message);
    (void)events_.record({Pool::kKind, name, task.pool.metadata.uid}, event_type::kWarning,
                         "MassNodeFailure", d->message, "");
  } else {
    logger("loops")->info("pool/{}: nodes report again; the mass-failure guard is lifted", name);
    (void)events_.record({Pool::kKind, name, task.pool.metadata.uid}, event_type::kNormal,
                         "MassNodeFailureEnded",
                         "enough nodes report again: the usual fail-over rules apply to those still silent",
                         "");
  }
}

void NodeLifecycleLoop::announce_fences(const std::vector<reconcile::FencingVM>& fencing,
                                        std::vector<std::function<void()>>& tasks) {
  // One Event per fence wait: the decision lists the VM on every pass of it.
  std::set<std::string> waiting;
  for (const reconcile::FencingVM& f : fencing) {
    std::string key = f.vm + "@" + f.node + "#" + std::to_string(f.epoch);
    waiting.insert(key);
    if (fence_announced_.count(key)) continue;
    fence_announced_.insert(key);
    const VM* vm = cache_.vm(f.vm);
    if (!vm) continue;
    tasks.push_back([this, f, uid = vm->metadata.uid] {
      logger("loops")->warn("vm/{}: {}", f.vm, f.message);
      (void)events_.record({VM::kKind, f.vm, uid}, event_type::kWarning, "WaitingForFence", f.message, f.node);
    });
  }
  std::erase_if(fence_announced_, [&](const std::string& key) { return !waiting.count(key); });
}

void NodeLifecycleLoop::send_probes(const std::vector<reconcile::ProbeRequest>& requests,
                                    NodeLifecyclePassStats& stats) {
  for (const reconcile::ProbeRequest& req : requests) {
    {
      // At most one probe in flight per suspect; the loop asks every pass.
      std::lock_guard lock(probes_->mu);
      if (!probes_->in_flight.insert(req.node).second) continue;
    }
    PeerProbeRequest probe;
    probe.node = req.node;
    probe.address = req.address;
    probe.peer_timeout = options_.peer_timeout;
    probe.deadline = options_.decide.probe_timeout;
    for (const std::string& peer : req.peers) {
      if (const Node* n = cache_.node(peer)) probe.peers.push_back({peer, n->status.address});
    }
    logger("loops")->info("node/{}: lease expired; asking {} peer(s) to probe {}", req.node,
                          probe.peers.size(), req.address);
    ++stats.probes_sent;
    std::shared_ptr<ProbeState> state = probes_;
    const Clock* clock = &clock_;
    prober_.request(probe, [state, clock](const std::string& node, bool reachable) {
      std::lock_guard lock(state->mu);
      state->answers[node] = reconcile::PeerProbe{reachable, clock->steady_now()};
      state->in_flight.erase(node);
      state->fresh_answer = true;
    });
  }
}

bool NodeLifecycleLoop::take_fresh_answer() {
  std::lock_guard lock(probes_->mu);
  return std::exchange(probes_->fresh_answer, false);
}

std::map<std::string, double> NodeLifecycleLoop::track_availability(
    const std::vector<reconcile::NodeVerdict>& verdicts,
    const std::vector<reconcile::NodeTransition>& transitioning, reconcile::SteadyTime now) {
  std::set<std::string_view> moving;
  for (const reconcile::NodeTransition& t : transitioning) moving.insert(t.node);
  std::map<std::string, double> out;
  const std::vector<Pool>& pools = cache_.pools().items();
  for (const reconcile::NodeVerdict& v : verdicts) {
    if (!v.judged) continue;
    const Node* node = cache_.node(v.node);
    if (!node) continue;
    const std::chrono::seconds window = reconcile::failover_for(*node, pools).availability_window;
    auto it = trackers_.find(v.node);
    if (it == trackers_.end() || it->second.window() != window) {
      // A new window (the pool changed it) starts a new measurement.
      it = trackers_.insert_or_assign(v.node, reconcile::AvailabilityTracker(window)).first;
    }
    it->second.sample(now, v.lease_fresh);
    const double a = it->second.availability(now);
    if (std::fabs(a - node->status.availability) < options_.availability_epsilon) continue;
    auto written = availability_written_.find(v.node);
    if (written != availability_written_.end() && !moving.count(v.node) &&
        now - written->second < options_.availability_write_interval)
      continue;
    out[v.node] = a;
    availability_written_[v.node] = now;
  }
  return out;
}

}  // namespace corral::loops
