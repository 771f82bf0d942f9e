#include "tests/support/sim_cluster.h"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <utility>

#include "agent/beat_schedule.h"
#include "agent/control_plane.h"
#include "agent/fence/guard_file.h"
#include "agent/metrics/metrics_source.h"
#include "agent/sync_loop.h"
#include "api/json.h"
#include "api/kinds.h"
#include "api/manifest.h"
#include "api/yaml.h"
#include "controller/heartbeat/ha_admission.h"
#include "controller/heartbeat/lease_table.h"
#include "controller/reconcile/common.h"

namespace corral::testing {

using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

namespace {

// The wall time `fn` takes, added to `total`: where a scale run spends it.
template <class F>
void timed(std::chrono::nanoseconds& total, F&& fn) {
  const auto start = std::chrono::steady_clock::now();
  fn();
  total += std::chrono::steady_clock::now() - start;
}

// The controller's cache reads its watch on the pass, with no pump thread
// (deterministic), so one pass creating the replicas of 300,000 VMs must not
// overflow the watcher's buffer: a re-list at that size costs more than the
// pass (production has the pump, loops/object_cache.h).
store::StoreOptions store_options() {
  store::StoreOptions o;
  o.watch_buffer = 4'000'000;
  return o;
}
}  // namespace

loops::ControllerManagerOptions SimClusterOptions::default_manager() {
  loops::ControllerManagerOptions o;
  o.writer_threads = 0;
  o.vmset.seed = 42;
  o.moves.seed = 43;
  o.events.seed = 44;
  return o;
}

heartbeat::HeartbeatOptions SimClusterOptions::default_heartbeat() {
  heartbeat::HeartbeatOptions o;
  o.watch_in_background = false;
  o.persist_jitter = 0;
  o.events.seed = 45;
  return o;
}

// A host: its driver (the VMs, which outlive any agent), its fence
// watchdog's view (the guard file: the last deadline an agent renewed and the
// selfFence VMs it was told of, both kept across agent restarts as the file
// is), and the agent process now running on it, if any.
struct SimCluster::Host : agent::FenceLease {
  SimNode spec;
  size_t index = 0;
  agent::SimDriver driver;
  std::unique_ptr<ControlPlane> control_plane;
  std::unique_ptr<agent::SyncLoop> loop;
  SimAgentState state = SimAgentState::kRunning;
  SteadyTime next_round{};
  int generation = 0;  // agent starts so far: the holder identity's pid part
  std::optional<SteadyTime> fence_deadline;
  std::set<std::string> self_fence;

  void renew(SteadyTime deadline) override { fence_deadline = deadline; }
};

// The controller process: what a restart of corral-controller loses (leases,
// caches, the heartbeat service's memory) over the store it keeps.
struct SimCluster::Controller {
  heartbeat::LeaseTable leases;
  metrics::Registry metrics;
  std::unique_ptr<heartbeat::HeartbeatService> heartbeats;
  std::unique_ptr<loops::ControllerManager> manager;
};

// The agent's transport: the HeartbeatRequest encoded as corral-agent sends
// it, handed to HeartbeatService::handle as the API server does, the answer
// decoded as HttpControlPlane decodes it.
class SimCluster::ControlPlane final : public agent::ControlPlane {
 public:
  ControlPlane(SimCluster& cluster, Host& host) : cluster_(cluster), host_(host) {}

  Result<HeartbeatResponse> heartbeat(const std::string& node,
                                      const HeartbeatRequest& request) override {
    auto answer = cluster_.beat(node, to_json(request));
    if (!answer) return answer.take_error();
    auto response = from_json<HeartbeatResponse>(*answer);
    if (!response) return response.take_error();
    // The watchdog's list: every VM bound here as selfFence (the process
    // driver registers each in the guard file when it starts it).
    for (const BoundVm& vm : response->vms)
      if (vm.fencing == "selfFence") host_.self_fence.insert(vm.name);
    return response;
  }

 private:
  SimCluster& cluster_;
  Host& host_;
};

// The scheduler's nudge of the agent of a node that got new bindings (the
// controller's HttpAgentNotifier; the agent's SyncLoop::poke): a running
// agent's round runs at the next tick instead of at its next interval.
class SimCluster::Notifier final : public loops::AgentNotifier {
 public:
  explicit Notifier(SimCluster& cluster) : cluster_(cluster) {}
  void notify(const std::string& node, const std::string& /*address*/) override {
    auto it = cluster_.host_index_.find(node);
    if (it == cluster_.host_index_.end()) return;
    Host& h = *cluster_.hosts_[it->second];
    if (h.state != SimAgentState::kRunning || !h.loop) return;
    h.loop->poke();
    h.next_round = std::min(h.next_round, cluster_.clock_.steady_now());
  }

 private:
  SimCluster& cluster_;
};

// A peer reaches a suspect exactly when the suspect's agent runs (a killed or
// frozen agent's endpoint does not answer). Answered at the next tick, before
// the controller's pass: a probe takes time, less than a tick.
class SimCluster::Prober final : public loops::PeerProber {
 public:
  explicit Prober(SimCluster& cluster) : cluster_(cluster) {}
  void request(const loops::PeerProbeRequest& request, loops::ProbeDone done) override {
    waiting_.emplace_back(request.node, std::move(done));
  }
  void answer_all() {
    auto waiting = std::exchange(waiting_, {});
    for (auto& [node, done] : waiting) {
      auto it = cluster_.host_index_.find(node);
      const bool reachable = it != cluster_.host_index_.end() &&
                             cluster_.hosts_[it->second]->state == SimAgentState::kRunning;
      done(node, reachable);
    }
  }
  void drop_all() { waiting_.clear(); }

 private:
  SimCluster& cluster_;
  std::deque<std::pair<std::string, loops::ProbeDone>> waiting_;
};

SimCluster::SimCluster(SimClusterOptions options)
    : options_(std::move(options)),
      started_(clock_.steady_now()),
      store_(store::open_memory_store(clock_, store_options())),
      prober_(std::make_unique<Prober>(*this)),
      notifier_(std::make_unique<Notifier>(*this)) {
  options_.manager.writer_threads = 0;
  options_.heartbeat.watch_in_background = false;
  start_controller();
}

SimCluster::~SimCluster() {
  // The agents' loops refer to the hosts' drivers and control planes, which
  // refer to this cluster: gone first.
  for (auto& h : hosts_) h->loop.reset();
  controller_.reset();
}

// ---- building ------------------------------------------------------------------

void SimCluster::add_node(const SimNode& node) {
  auto h = std::make_unique<Host>();
  h->spec = node;
  h->index = hosts_.size();
  h->control_plane = std::make_unique<ControlPlane>(*this, *h);
  // Rounds spread over the interval, as real agents' are: one tick's worth
  // of hosts beats in each tick.
  const int64_t ticks = std::max<int64_t>(1, options_.heartbeat_interval / options_.tick);
  h->next_round = clock_.steady_now() + options_.tick * (1 + static_cast<int64_t>(h->index) % ticks);
  host_index_[node.name] = h->index;
  hosts_.push_back(std::move(h));
  start_agent(*hosts_.back());
}

void SimCluster::start_agent(Host& h) {
  static agent::MetricsSource no_proc("/nonexistent");  // simulated_host: never read
  agent::SyncOptions o;
  o.node = h.spec.name;
  o.holder_identity = h.spec.name + "/" + std::to_string(++h.generation) + "-sim";
  o.labels = h.spec.labels;
  o.address = "10." + std::to_string(h.index / 65536 % 256) + "." +
              std::to_string(h.index / 256 % 256) + "." + std::to_string(h.index % 256) + ":7070";
  o.heartbeat_interval = options_.heartbeat_interval;
  o.host.capacity_override.cpu = Quantity::from_milli(h.spec.cpu_milli);
  o.host.capacity_override.memory = Quantity::from_bytes(h.spec.memory_bytes);
  o.simulated_host = true;
  o.metrics = &agent_metrics_;
  o.fence_lease = &h;
  h.loop.reset();
  h.loop = std::make_unique<agent::SyncLoop>(*h.control_plane, h.driver, no_proc, clock_, o);
  h.state = SimAgentState::kRunning;
}

Result<void> SimCluster::apply_yaml(std::string_view yaml) {
  auto docs = parse_yaml_documents(yaml, "sim-cluster");
  if (!docs) return docs.take_error();
  auto objects = normalize_manifests(*docs);
  if (!objects) return objects.take_error();
  for (Json& object : *objects)
    if (auto ok = create_or_replace(std::move(object)); !ok) return ok;
  return Ok{};
}

Result<void> SimCluster::apply(const Json& object) {
  auto normalized = normalize_object(object);
  if (!normalized) return normalized.take_error();
  return create_or_replace(std::move(*normalized));
}

Result<void> SimCluster::apply(const Pool& object) { return apply(to_json(object)); }
Result<void> SimCluster::apply(const VMSet& object) { return apply(to_json(object)); }

// As the API server's POST, and its PUT when the name is taken: admission,
// then the store write.
Result<void> SimCluster::create_or_replace(Json object) {
  const std::string kind = object.value("kind", "");
  const KindInfo* info = find_kind(kind);
  if (!info) return make_error(ErrorCode::kBadRequest, "unknown kind " + kind);
  const std::string name = object["metadata"].value("name", "");
  store::RecordPtr old;
  if (auto current = store_->get(kind, name)) old = *current;
  if (auto admitted = heartbeat::admit_vmset(*store_, *info, object, old); !admitted) return admitted;
  if (!old) {
    auto created = store_->create(kind, std::move(object));
    if (!created) return created.take_error();
    return Ok{};
  }
  auto updated = store_->update(kind, std::move(object));
  if (!updated) return updated.take_error();
  return Ok{};
}

namespace {

// Read, change, write back with the read's resourceVersion (a Conflict is
// the caller's error: nothing else writes specs in a simulation).
template <class T, class F>
Result<void> update_spec(store::Store& store, const std::string& name, F&& change) {
  auto record = store.get(T::kKind, name);
  if (!record) return record.take_error();
  auto object = from_json<T>((*record)->parse());
  if (!object) return object.take_error();
  change(*object);
  auto updated = store.update(T::kKind, to_json(*object));
  if (!updated) return updated.take_error();
  return Ok{};
}

}  // namespace

Result<void> SimCluster::scale(const std::string& vmset, int32_t replicas) {
  return update_spec<VMSet>(*store_, vmset, [&](VMSet& s) { s.spec.replicas = replicas; });
}

Result<void> SimCluster::cordon(const std::string& node, bool on) {
  return update_spec<Node>(*store_, node, [&](Node& n) { n.spec.unschedulable = on; });
}

// ---- time ----------------------------------------------------------------------

void SimCluster::step(milliseconds d) {
  for (milliseconds done{0}; done < d; done += options_.tick) tick();
}

bool SimCluster::step_until(const std::function<bool()>& done, milliseconds limit) {
  if (done()) return true;
  for (milliseconds spent{0}; spent < limit; spent += options_.tick) {
    tick();
    if (done()) return true;
  }
  return false;
}

void SimCluster::after_each_tick(std::function<void()> hook) { hooks_.push_back(std::move(hook)); }

milliseconds SimCluster::elapsed() const {
  return std::chrono::duration_cast<milliseconds>(clock_.steady_now() - started_);
}

void SimCluster::tick() {
  clock_.advance(options_.tick);
  const SteadyTime now = clock_.steady_now();
  if (controller_) {
    // The watch threads' work, done here: the index and pools as of now.
    if (auto ok = controller_->heartbeats->sync(); !ok)
      fail("heartbeat sync: " + ok.error().message);
    prober_->answer_all();
  }
  if (options_.fence_watchdog)
    for (auto& h : hosts_) run_watchdog(*h);
  timed(agents_wall_, [&] {
    for (auto& h : hosts_) {
      if (h->state != SimAgentState::kRunning || now < h->next_round) continue;
      h->loop->run_once();
      h->next_round = agent::next_round(h->next_round, now, true, options_.heartbeat_interval);
    }
  });
  if (controller_) {
    timed(controller_wall_, [&] {
      if (auto ok = controller_->manager->run_once(); !ok)
        fail("controller pass: " + ok.error().message);
    });
  }
  for (auto& hook : hooks_) hook();
}

// The fence watchdog of agent/fence/watchdog.h: at the deadline the agent
// last renewed, every selfFence VM of the host is stopped, whatever the agent
// is doing (a running agent's own Fencer stops them at the same deadline).
void SimCluster::run_watchdog(Host& h) {
  if (!h.fence_deadline || clock_.steady_now() < *h.fence_deadline || h.self_fence.empty()) return;
  std::vector<std::string> fence;
  for (const agent::InstanceStatus& i : h.driver.list())
    if (i.state == agent::InstanceState::kRunning && h.self_fence.count(i.name)) fence.push_back(i.name);
  if (fence.empty()) return;
  if (auto ok = h.driver.stop_all(fence); !ok)
    fail("node/" + h.spec.name + " watchdog: " + ok.error().message);
}

Result<Json> SimCluster::beat(const std::string& node, const Json& body) {
  if (!controller_)
    return make_error(ErrorCode::kUnavailable, "cannot reach the controller: connection refused");
  return controller_->heartbeats->handle(node, body);
}

void SimCluster::fail(std::string what) {
  std::fprintf(stderr, "sim_cluster: %s\n", what.c_str());
  errors_.push_back(std::move(what));
}

// ---- faults --------------------------------------------------------------------

void SimCluster::kill_agent(const std::string& node) {
  Host& h = host(node);
  h.loop.reset();  // no announce_restart: kill -9 says nothing
  h.state = SimAgentState::kKilled;
}

void SimCluster::freeze_agent(const std::string& node) {
  Host& h = host(node);
  if (h.state == SimAgentState::kRunning) h.state = SimAgentState::kFrozen;
}

void SimCluster::thaw_agent(const std::string& node) {
  Host& h = host(node);
  if (h.state != SimAgentState::kFrozen) return;
  h.state = SimAgentState::kRunning;
  // A resumed process finds its timers past due: it runs a round at once.
  h.next_round = std::min(h.next_round, clock_.steady_now());
}

void SimCluster::restart_agent(const std::string& node) {
  Host& h = host(node);
  start_agent(h);
  h.next_round = clock_.steady_now();  // at the next tick
}

Result<void> SimCluster::crash_vm(const std::string& node, const std::string& vm, int exit_code) {
  return host(node).driver.crash(vm, exit_code);
}

void SimCluster::stop_controller() {
  prober_->drop_all();  // the probes in flight died with it
  controller_.reset();
}

void SimCluster::start_controller() {
  if (controller_) return;
  auto c = std::make_unique<Controller>();
  c->heartbeats =
      std::make_unique<heartbeat::HeartbeatService>(*store_, c->leases, clock_, options_.heartbeat);
  loops::ControllerManagerOptions o = options_.manager;
  o.metrics = &c->metrics;
  c->manager = std::make_unique<loops::ControllerManager>(*store_, clock_, c->leases, *prober_, o);
  if (auto ok = c->manager->init(); !ok) fail("controller init: " + ok.error().message);
  c->manager->scheduler().set_notifier(notifier_.get());
  controller_ = std::move(c);
}

// ---- queries -------------------------------------------------------------------

std::map<std::string, std::vector<SimCopy>> SimCluster::running_copies() const {
  std::map<std::string, std::vector<SimCopy>> out;
  for (const auto& h : hosts_)
    for (const agent::InstanceStatus& i : h->driver.list())
      if (i.state == agent::InstanceState::kRunning)
        out[i.name].push_back({h->spec.name, i.epoch, h->state == SimAgentState::kRunning});
  return out;
}

std::vector<std::string> SimCluster::double_runs() const {
  std::set<std::string> self_fence;
  for (const auto& h : hosts_) self_fence.insert(h->self_fence.begin(), h->self_fence.end());
  std::vector<std::string> out;
  for (const auto& [name, copies] : running_copies()) {
    if (copies.size() < 2) continue;
    std::string where;
    std::set<int64_t> epochs;
    bool same_epoch = false;
    size_t live = 0;
    for (const SimCopy& c : copies) {
      where += " " + c.node + "@" + std::to_string(c.epoch) + (c.agent_running ? "" : "(agent down)");
      same_epoch |= !epochs.insert(c.epoch).second;
      live += c.agent_running ? 1 : 0;
    }
    const char* rule = same_epoch                ? "two copies of one epoch"
                       : self_fence.count(name) ? "two copies of a selfFence VM"
                       : live > 1               ? "two copies on running agents"
                                                : nullptr;
    if (rule) out.push_back("vm/" + name + ": " + rule + ":" + where);
  }
  return out;
}

std::vector<VM> SimCluster::vms() const {
  std::vector<VM> out;
  if (controller_) {
    out = controller_->manager->cache().vms().items();
    std::sort(out.begin(), out.end(),
              [](const VM& a, const VM& b) { return a.metadata.name < b.metadata.name; });
    return out;
  }
  auto list = store_->list(VM::kKind, {});
  if (!list) return out;
  for (const auto& r : list->items)
    if (auto vm = from_json<VM>(r->parse())) out.push_back(std::move(*vm));
  return out;
}

std::optional<VM> SimCluster::vm(const std::string& name) const {
  if (controller_) {
    const VM* vm = controller_->manager->cache().vm(name);
    return vm ? std::optional<VM>(*vm) : std::nullopt;
  }
  auto r = store_->get(VM::kKind, name);
  if (!r) return std::nullopt;
  auto vm = from_json<VM>((*r)->parse());
  return vm ? std::optional<VM>(std::move(*vm)) : std::nullopt;
}

std::optional<Node> SimCluster::node(const std::string& name) const {
  auto r = store_->get(Node::kKind, name);
  if (!r) return std::nullopt;
  auto n = from_json<Node>((*r)->parse());
  return n ? std::optional<Node>(std::move(*n)) : std::nullopt;
}

std::map<std::string, std::string> SimCluster::placements() const {
  std::map<std::string, std::string> out;
  for (const VM& vm : vms()) out[vm.metadata.name] = vm.spec.nodeName;
  return out;
}

size_t SimCluster::running(const std::string& vmset) const {
  auto count = [&](const VM& vm) {
    if (!vmset.empty()) {
      auto it = vm.metadata.labels.find(std::string(reconcile::kVMSetLabel));
      if (it == vm.metadata.labels.end() || it->second != vmset) return false;
    }
    return vm.status.phase == "Running" && !vm.spec.nodeName.empty() &&
           vm.status.nodeName == vm.spec.nodeName && vm.status.epoch == vm.spec.epoch;
  };
  if (controller_) {
    const auto& items = controller_->manager->cache().vms().items();
    return static_cast<size_t>(std::count_if(items.begin(), items.end(), count));
  }
  auto all = vms();
  return static_cast<size_t>(std::count_if(all.begin(), all.end(), count));
}

std::vector<std::string> SimCluster::node_names() const {
  std::vector<std::string> out;
  for (const auto& h : hosts_) out.push_back(h->spec.name);
  return out;
}

SimAgentState SimCluster::agent_state(const std::string& node) const { return host(node).state; }

agent::SimDriver& SimCluster::driver(const std::string& node) { return host(node).driver; }

loops::ControllerManager& SimCluster::manager() { return *controller_->manager; }
heartbeat::HeartbeatService& SimCluster::heartbeats() { return *controller_->heartbeats; }
metrics::Registry& SimCluster::controller_metrics() { return controller_->metrics; }

SimCluster::Host& SimCluster::host(const std::string& node) {
  return *hosts_.at(host_index_.at(node));
}
const SimCluster::Host& SimCluster::host(const std::string& node) const {
  return *hosts_.at(host_index_.at(node));
}

}  // namespace corral::testing
