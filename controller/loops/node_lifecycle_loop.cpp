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
    std::lock_guard lock(probes_->mu);
    probes_->answers.erase(name);
  }
}

NodeLifecyclePassStats NodeLifecycleLoop::run_once() {
  NodeLifecyclePassStats stats;
  const reconcile::SteadyTime now = clock_.steady_now();
  const reconcile::NodeLifecycleResult result = decide(now);
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
  std::vector<VmTask> vm_tasks;
  for (const reconcile::LostVM& l : result.lost) {
    if (const VM* vm = cache_.vm(l.vm)) vm_tasks.push_back(VmTask{*vm, &l});
  }

  const std::string timestamp = format_time(clock_.now());
  std::vector<std::function<void()>> tasks;
  for (NodeTask& task : node_tasks) tasks.push_back([&] { write_node(task, timestamp); });
  for (VmTask& task : vm_tasks) tasks.push_back([&] { write_lost(task); });
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
  for (const VmTask& task : vm_tasks) {
    if (note("vm/" + task.vm.metadata.name + " Lost", task.result) && *task.result) {
      ++stats.vms_lost;
    }
  }
  return stats;
}

reconcile::NodeLifecycleResult NodeLifecycleLoop::decide(reconcile::SteadyTime now) {
  // Leases from the heartbeat service's table: a lease there was renewed by a
  // heartbeat this controller received. Nodes without one are absent, which
  // decide_node_lifecycle treats as first seen at our start.
  std::map<std::string, reconcile::LeaseObservation> leases;
  for (const auto& [node, lease] : leases_.snapshot()) {
    leases[node] = reconcile::LeaseObservation{lease.renewed, true};
  }
  std::map<std::string, reconcile::PeerProbe> answers;
  {
    std::lock_guard lock(probes_->mu);
    answers = probes_->answers;
  }
  reconcile::NodeLifecycleInput in;
  in.nodes = &cache_.nodes().items();
  in.pools = &cache_.pools().items();
  in.vms = &cache_.vms().items();
  in.leases = &leases;
  in.probes = &answers;
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
