// Shared pieces of the control-loop tests: a memory store and a FakeClock, a
// fake PeerProber that answers when told, builders that write Nodes, Pools and
// VMSets through the store, and readers of what the loops wrote. Nothing
// sleeps: time moves by FakeClock::advance and loops by run_once().
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"
#include "api/kinds.h"
#include "base/metrics.h"
#include "controller/heartbeat/lease_table.h"
#include "controller/loops/controller_manager.h"
#include "controller/loops/peer_prober.h"
#include "controller/store/store.h"

namespace corral::loops::testing {

using namespace std::chrono_literals;

inline constexpr int64_t kGi = int64_t{1024} * 1024 * 1024;

// Records every request; answers only when the test says so.
class FakeProber final : public PeerProber {
 public:
  void request(const PeerProbeRequest& request, ProbeDone done) override {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    waiting_[request.node] = std::move(done);
  }
  // Answers the probe in flight for `node`; false when there is none.
  bool answer(const std::string& node, bool reachable) {
    ProbeDone done;
    {
      std::lock_guard lock(mu_);
      auto it = waiting_.find(node);
      if (it == waiting_.end()) return false;
      done = std::move(it->second);
      waiting_.erase(it);
    }
    done(node, reachable);
    return true;
  }
  std::vector<PeerProbeRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<PeerProbeRequest> requests_;
  std::map<std::string, ProbeDone> waiting_;
};

class LoopsTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = store::open_memory_store(clock_); }

  virtual ControllerManagerOptions options() {
    ControllerManagerOptions o;
    o.writer_threads = 4;
    o.metrics = &metrics_;
    // Pool status on every pass: a test reads it right after the pass.
    o.pool_status_period = std::chrono::milliseconds(0);
    // Fixed seeds: names are the same on every run.
    o.vmset.seed = 42;
    o.moves.seed = 43;
    o.events.seed = 44;
    return o;
  }
  ControllerManager& manager() {
    if (!manager_)
      manager_ = std::make_unique<ControllerManager>(*store_, clock_, leases_, prober_, options());
    return *manager_;
  }
  void pass() { ASSERT_TRUE(manager().run_once().ok()); }
  // A pass after renewing every lease in `alive`.
  void pass_renewing(const std::vector<std::string>& alive) {
    for (const auto& n : alive) renew(n);
    pass();
  }
  void renew(const std::string& node) { leases_.renew(node, node + "/1-abc", clock_.steady_now()); }

  template <class T>
  void create(const T& object) {
    auto normalized = normalize_object(to_json(object));
    ASSERT_TRUE(normalized.ok()) << normalized.error().to_string();
    auto created = store_->create(T::kKind, std::move(*normalized));
    ASSERT_TRUE(created.ok()) << created.error().message;
  }
  template <class T>
  T get(const std::string& name) {
    auto r = store_->get(T::kKind, name);
    EXPECT_TRUE(r.ok()) << T::kKind << "/" << name;
    if (!r.ok()) return T{};
    return from_json<T>((*r)->parse()).value();
  }
  template <class T>
  std::vector<T> list() {
    std::vector<T> out;
    auto r = store_->list(T::kKind, {});
    for (const auto& rec : r->items) out.push_back(from_json<T>(rec->parse()).value());
    return out;
  }
  template <class T>
  void update(const T& object) {
    auto r = store_->update(T::kKind, to_json(object));
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  void add_node(const std::string& name, double cpu = 4, int64_t memory_gib = 8,
                Labels labels = {{"role", "web"}}) {
    Node n;
    n.metadata.name = name;
    n.metadata.labels = std::move(labels);
    n.status.allocatable.cpu = Quantity::from_milli(static_cast<int64_t>(cpu * 1000));
    n.status.allocatable.memory = Quantity::from_bytes(memory_gib * kGi);
    n.status.capacity = n.status.allocatable;
    n.status.phase = "Ready";
    n.status.conditions.push_back(Condition{"Ready", "True", "NodeReady", "", "", 0});
    n.status.address = "10.0.0." + std::to_string(++addresses_) + ":7070";
    create(n);
  }
  void add_pool(const std::string& name, Labels selector = {{"role", "web"}}) {
    Pool p;
    p.metadata.name = name;
    p.spec.nodeSelector = std::move(selector);
    create(p);
  }
  void add_vmset(const std::string& name, int32_t replicas, double cpu = 1, int64_t memory_gib = 1,
                 const std::string& pool = "web") {
    VMSet s;
    s.metadata.name = name;
    s.spec.pool = pool;
    s.spec.replicas = replicas;
    s.spec.templ.spec.resources.cpu = Quantity::from_milli(static_cast<int64_t>(cpu * 1000));
    s.spec.templ.spec.resources.memory = Quantity::from_bytes(memory_gib * kGi);
    s.spec.templ.spec.runtime.driver = "sim";
    create(s);
  }
  void scale(const std::string& vmset, int32_t replicas) {
    VMSet s = get<VMSet>(vmset);
    s.spec.replicas = replicas;
    update(s);
  }
  std::vector<VM> vms_of(const std::string& vmset) {
    std::vector<VM> out;
    for (VM& vm : list<VM>()) {
      auto it = vm.metadata.labels.find("corral.io/vmset");
      if (it != vm.metadata.labels.end() && it->second == vmset) out.push_back(std::move(vm));
    }
    return out;
  }
  std::vector<Event> events_about(const std::string& name) {
    std::vector<Event> out;
    for (Event& e : list<Event>())
      if (e.involvedObject.name == name) out.push_back(std::move(e));
    return out;
  }
  double counter(const std::string& name) {
    // The rendered text has "name value" lines for label-less counters.
    std::string text = metrics_.render();
    auto at = text.find("\n" + name + " ");
    if (at == std::string::npos) return 0;
    return std::stod(text.substr(at + name.size() + 2));
  }

  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  heartbeat::LeaseTable leases_;
  FakeProber prober_;
  metrics::Registry metrics_;
  std::unique_ptr<ControllerManager> manager_;
  std::atomic<int> addresses_{0};
};

// For tests of moves (drains, rebalancing, the drain handshake): the move
// loop looks on every pass, and the test plays the agents.
class MovesLoopTest : public LoopsTest {
 protected:
  ControllerManagerOptions options() override {
    ControllerManagerOptions o = LoopsTest::options();
    o.moves.min_period = 0ms;  // every pass looks, with no time passing
    return o;
  }
  // What an agent reports for a VM that runs in its epoch and serves.
  void report_running(const std::string& name) {
    VM vm = get<VM>(name);
    vm.status.phase = "Running";
    vm.status.epoch = vm.spec.epoch;
    vm.status.nodeName = vm.spec.nodeName;
    vm.status.address = vm.spec.nodeName + ":9000";
    vm.status.usage = vm.spec.resources;
    vm.status.conditions = {Condition{"Ready", "True", "Running", "", "", 0}};
    ASSERT_TRUE(store_->update_status(VM::kKind, to_json(vm)).ok());
  }
  void report_all_running() {
    for (const VM& vm : list<VM>())
      if (!vm.spec.nodeName.empty() && vm.status.phase != "Running") report_running(vm.metadata.name);
  }
};

}  // namespace corral::loops::testing
