// The node lifecycle loop over a memory store: a node whose lease stops being
// renewed is probed, then declared NotReady (its VMs Lost and re-placed with
// epoch + 1) or Unreachable (its VMs stay); a restarted controller judges no
// node during its first grace.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "api/conditions.h"
#include "tests/unit/loops_fixtures.h"

namespace corral::loops::testing {
namespace loops_node_lifecycle_test {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class LoopsNodeLifecycle : public LoopsTest {
 protected:
  void SetUp() override {
    LoopsTest::SetUp();
    add_pool("web");
    for (const char* n : {"host-1", "host-2", "host-3"}) add_node(n);
    all_ = {"host-1", "host-2", "host-3"};
    add_vmset("app", 3);
    // Spread: one replica per node.
    pass_renewing(all_);
    for (const VM& vm : vms_of("app")) {
      ASSERT_EQ(vm.spec.epoch, 1);
      node_of_[vm.metadata.name] = vm.spec.nodeName;
    }
    ASSERT_EQ(node_of_.size(), 3u);
  }

  // The VM placed on `node` in SetUp.
  std::string vm_on(const std::string& node) {
    for (const auto& [vm, n] : node_of_)
      if (n == node) return vm;
    return "";
  }
  // Advances in node-monitor steps, renewing `alive`, until `until` passed.
  void run_for(std::chrono::milliseconds until, const std::vector<std::string>& alive) {
    for (auto t = 0ms; t < until; t += 250ms) {
      clock_.advance(250ms);
      pass_renewing(alive);
    }
  }

  std::vector<std::string> all_;
  std::map<std::string, std::string> node_of_;
};

TEST_F(LoopsNodeLifecycle, DeadNodeIsProbedThenNotReadyAndItsVmsMoveWithNextEpoch) {
  const std::string victim = vm_on("host-1");
  // host-1 stops heartbeating; within the 2 s grace nothing happens.
  run_for(2000ms, {"host-2", "host-3"});
  EXPECT_TRUE(prober_.requests().empty());
  EXPECT_EQ(get<Node>("host-1").status.phase, "Ready");

  // Past the grace: the peers are asked, the node is not judged yet.
  run_for(250ms, {"host-2", "host-3"});
  ASSERT_THAT(prober_.requests(), SizeIs(1));
  const PeerProbeRequest req = prober_.requests()[0];
  EXPECT_EQ(req.node, "host-1");
  EXPECT_EQ(req.address, get<Node>("host-1").status.address);
  ASSERT_THAT(req.peers, SizeIs(2));
  for (const ProbePeer& p : req.peers) {
    EXPECT_NE(p.name, "host-1");
    EXPECT_EQ(p.address, get<Node>(p.name).status.address);
  }
  // One probe in flight per suspect, however many passes run meanwhile.
  clock_.advance(100ms);
  pass_renewing({"host-2", "host-3"});
  EXPECT_THAT(prober_.requests(), SizeIs(1));
  EXPECT_EQ(get<Node>("host-1").status.phase, "Ready");

  // No peer reaches it: NotReady, an Event, its VM Lost and re-placed.
  ASSERT_TRUE(prober_.answer("host-1", false));
  clock_.advance(10ms);
  pass_renewing({"host-2", "host-3"});
  Node node = get<Node>("host-1");
  EXPECT_EQ(node.status.phase, "NotReady");
  auto ready = std::find_if(node.status.conditions.begin(), node.status.conditions.end(),
                            [](const Condition& c) { return c.type == "Ready"; });
  ASSERT_NE(ready, node.status.conditions.end());
  EXPECT_EQ(ready->status, "False");
  EXPECT_EQ(ready->reason, "NodeNotReady");
  std::vector<Event> events = events_about("host-1");
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].type, "Warning");
  EXPECT_EQ(events[0].reason, "NodeNotReady");
  EXPECT_THAT(events[0].message, HasSubstr("no peer could reach it"));

  // The same pass (the scheduler runs after the lifecycle) or the next one
  // re-places the Lost VM elsewhere with epoch 2.
  pass_renewing({"host-2", "host-3"});
  VM moved = get<VM>(victim);
  EXPECT_NE(moved.spec.nodeName, "host-1");
  EXPECT_FALSE(moved.spec.nodeName.empty());
  EXPECT_EQ(moved.spec.epoch, 2);
  EXPECT_EQ(moved.status.phase, "Scheduled");
  bool lost_event = false;
  for (const Event& e : events_about(victim)) lost_event |= e.reason == "VMLost";
  EXPECT_TRUE(lost_event);
  // The others did not move.
  for (const auto& [vm, n] : node_of_) {
    if (vm == victim) continue;
    EXPECT_EQ(get<VM>(vm).spec.nodeName, n);
    EXPECT_EQ(get<VM>(vm).spec.epoch, 1);
  }

  // It comes back: Ready again (a Normal event), nothing moves back.
  clock_.advance(250ms);
  pass_renewing(all_);
  EXPECT_EQ(get<Node>("host-1").status.phase, "Ready");
  events = events_about("host-1");
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(get<VM>(victim).spec.epoch, 2);
}

TEST_F(LoopsNodeLifecycle, ALostVmShowsNoAddressOfItsDeadCopy) {
  const std::string victim = vm_on("host-1");
  VM running = get<VM>(victim);
  running.status.phase = "Running";
  running.status.epoch = 1;
  running.status.nodeName = "host-1";
  running.status.address = "127.0.0.1:4000";
  ASSERT_TRUE(store_->update_status(VM::kKind, to_json(running)).ok());
  // Nowhere to go: the other nodes are cordoned, so it stays Lost.
  for (const char* n : {"host-2", "host-3"}) {
    Node node = get<Node>(n);
    node.spec.unschedulable = true;
    update(node);
  }
  run_for(2250ms, {"host-2", "host-3"});
  ASSERT_THAT(prober_.requests(), SizeIs(1));
  ASSERT_TRUE(prober_.answer("host-1", false));
  clock_.advance(10ms);
  pass_renewing({"host-2", "host-3"});
  pass_renewing({"host-2", "host-3"});
  const VM lost = get<VM>(victim);
  EXPECT_EQ(lost.status.phase, "Lost");
  EXPECT_EQ(lost.status.address, "");
}

TEST_F(LoopsNodeLifecycle, ReachableByAPeerIsUnreachableAndVmsStay) {
  const std::string vm = vm_on("host-2");
  run_for(2250ms, {"host-1", "host-3"});
  ASSERT_THAT(prober_.requests(), SizeIs(1));
  ASSERT_TRUE(prober_.answer("host-2", true));
  clock_.advance(10ms);
  pass_renewing({"host-1", "host-3"});

  EXPECT_EQ(get<Node>("host-2").status.phase, "Unreachable");
  VM still = get<VM>(vm);
  EXPECT_EQ(still.spec.nodeName, "host-2");
  EXPECT_EQ(still.spec.epoch, 1);
  EXPECT_NE(still.status.phase, "Lost");
  std::vector<Event> events = events_about("host-2");
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].reason, "NodeUnreachable");
}

TEST_F(LoopsNodeLifecycle, SelfFenceVmWaitsOutTheFenceTimeWithOneEventThenMoves) {
  const std::string guarded = vm_on("host-3");
  VM vm = get<VM>(guarded);
  vm.spec.fencing = "selfFence";  // as its VMSet would have stamped it
  update(vm);
  const std::string plain = vm_on("host-1");
  // host-1 stops renewing at t = 0, host-3 at t = 3 s: each NotReady once no
  // peer answers. (Together, two of three would be held by the mass-failure
  // guard: a test of its own.)
  run_for(3000ms, {"host-2", "host-3"});
  EXPECT_EQ(get<Node>("host-1").status.phase, "NotReady");
  EXPECT_EQ(get<VM>(plain).spec.epoch, 2) << "fencing none: re-placed at once";
  run_for(3000ms, {"host-2"});
  EXPECT_EQ(get<Node>("host-3").status.phase, "NotReady");
  VM waiting = get<VM>(guarded);
  EXPECT_EQ(waiting.spec.nodeName, "host-3");
  EXPECT_EQ(waiting.spec.epoch, 1);
  EXPECT_NE(waiting.status.phase, "Lost");
  auto fence_events = [&] {
    std::vector<Event> out;
    for (const Event& e : events_about(guarded))
      if (e.reason == "WaitingForFence") out.push_back(e);
    return out;
  };
  ASSERT_THAT(fence_events(), SizeIs(1));
  EXPECT_THAT(fence_events()[0].message,
              HasSubstr("waiting 12s for node/host-3 to fence vm/" + guarded +
                        " before re-placing"));

  // Lease expiry (5 s) + 12 s: still waiting at 16.75 s, with no second Event.
  run_for(10750ms, {"host-2"});
  EXPECT_EQ(get<VM>(guarded).spec.epoch, 1);
  EXPECT_NE(get<VM>(guarded).status.phase, "Lost");
  EXPECT_THAT(fence_events(), SizeIs(1));
  EXPECT_EQ(fence_events()[0].count, 1);
  run_for(500ms, {"host-2"});
  VM moved = get<VM>(guarded);
  EXPECT_EQ(moved.spec.epoch, 2);
  EXPECT_EQ(moved.spec.nodeName, "host-2");
}

TEST_F(LoopsNodeLifecycle, NoPeerAnswerWithinTimeoutIsNotReady) {
  run_for(2250ms, {"host-1", "host-2"});
  ASSERT_THAT(prober_.requests(), SizeIs(1));
  run_for(750ms, {"host-1", "host-2"});  // > probe_timeout (500 ms), no answer
  EXPECT_EQ(get<Node>("host-3").status.phase, "NotReady");
  EXPECT_EQ(get<VM>(vm_on("host-3")).spec.epoch, 2);
}

TEST_F(LoopsNodeLifecycle, RestartedControllerJudgesNobodyDuringItsFirstGraceAndMovesNothing) {
  const int64_t bindings_before = store_->revision();
  (void)bindings_before;
  // The controller goes away; a new one (empty lease table) starts over the
  // same store while the agents are briefly silent.
  manager_.reset();
  heartbeat::LeaseTable fresh_leases;
  ControllerManager restarted(*store_, clock_, fresh_leases, prober_, options());
  for (auto t = 0ms; t < 1750ms; t += 250ms) {
    clock_.advance(250ms);
    ASSERT_TRUE(restarted.run_once().ok());
  }
  EXPECT_TRUE(prober_.requests().empty());
  // Then the agents' heartbeats reach the new controller.
  for (auto t = 0ms; t < 3000ms; t += 250ms) {
    clock_.advance(250ms);
    for (const auto& n : all_) fresh_leases.renew(n, n + "/2-def", clock_.steady_now());
    ASSERT_TRUE(restarted.run_once().ok());
  }
  EXPECT_TRUE(prober_.requests().empty());
  for (const auto& n : all_) {
    EXPECT_EQ(get<Node>(n).status.phase, "Ready");
    EXPECT_TRUE(events_about(n).empty()) << n;
  }
  for (const auto& [vm, n] : node_of_) {
    VM now = get<VM>(vm);
    EXPECT_EQ(now.spec.nodeName, n);
    EXPECT_EQ(now.spec.epoch, 1);
    EXPECT_NE(now.status.phase, "Lost");
  }
}

TEST_F(LoopsNodeLifecycle, WhenThePoolGoesQuietTogetherThePoolSaysSoAndNothingMoves) {
  // Every lease stops at once (the controller's own link): past the grace
  // the guard holds the pool — nodes Unreachable, VMs where they are.
  run_for(3000ms, {});
  for (const auto& n : all_) EXPECT_EQ(get<Node>(n).status.phase, "Unreachable") << n;
  Pool pool = get<Pool>("web");
  const Condition* disrupted = find_condition(pool.status.conditions, "Disrupted");
  ASSERT_NE(disrupted, nullptr);
  EXPECT_EQ(disrupted->status, "True");
  EXPECT_EQ(disrupted->reason, "MassNodeFailure");
  EXPECT_THAT(disrupted->message, HasSubstr("3 of 3 nodes of pool/web stopped reporting together"));
  std::vector<Event> events = events_about("web");
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].type, "Warning");
  EXPECT_EQ(events[0].reason, "MassNodeFailure");
  EXPECT_TRUE(prober_.requests().empty());
  for (const auto& [vm, n] : node_of_) {
    EXPECT_EQ(get<VM>(vm).spec.nodeName, n);
    EXPECT_NE(get<VM>(vm).status.phase, "Lost");
  }

  // Two report again: the guard lifts, and host-3, still silent, is judged
  // by the usual rules — probed, and NotReady when no peer reaches it.
  run_for(250ms, {"host-1", "host-2"});
  pool = get<Pool>("web");
  disrupted = find_condition(pool.status.conditions, "Disrupted");
  ASSERT_NE(disrupted, nullptr);
  EXPECT_EQ(disrupted->status, "False");
  events = events_about("web");
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_TRUE(events[0].reason == "MassNodeFailureEnded" || events[1].reason == "MassNodeFailureEnded");
  EXPECT_EQ(get<Node>("host-3").status.phase, "Unreachable") << "its peers get their probe time first";
  ASSERT_THAT(prober_.requests(), SizeIs(1));
  EXPECT_EQ(prober_.requests()[0].node, "host-3");
  ASSERT_TRUE(prober_.answer("host-3", false));
  clock_.advance(10ms);
  pass_renewing({"host-1", "host-2"});
  EXPECT_EQ(get<Node>("host-3").status.phase, "NotReady");
  pass_renewing({"host-1", "host-2"});
  EXPECT_EQ(get<VM>(vm_on("host-3")).spec.epoch, 2);
}

TEST_F(LoopsNodeLifecycle, AvailabilityFallsWhileTheLeaseIsStale) {
  // host-3 is silent for 60 s of a 1 h window (a NotReady node is sampled as
  // not fresh): its Rᵢ drops well past the 0.001 write threshold, the others stay at 1.
  run_for(2250ms, {"host-1", "host-2"});
  ASSERT_TRUE(prober_.answer("host-3", false));
  run_for(60s, {"host-1", "host-2"});
  EXPECT_LT(get<Node>("host-3").status.availability, 0.99);
  EXPECT_EQ(get<Node>("host-1").status.availability, 1.0);
}

// A recovering node's Rᵢ creeps up on every pass; written on every pass, that
// is 4 writes/s per node (20,000/s after 5,000 nodes missed beats together).
// Without a transition it is written at most every 10 s.
TEST_F(LoopsNodeLifecycle, RecoveringAvailabilityIsWrittenAtMostEveryTenSeconds) {
  run_for(2250ms, {"host-1", "host-2"});
  ASSERT_TRUE(prober_.answer("host-3", false));
  run_for(20s, {"host-1", "host-2"});
  run_for(1s, all_);  // host-3 is back: Ready (a transition: written with it)
  ASSERT_EQ(get<Node>("host-3").status.phase, "Ready");
  std::vector<double> seen{get<Node>("host-3").status.availability};
  for (int s = 0; s < 30; ++s) {
    run_for(1s, all_);
    const double a = get<Node>("host-3").status.availability;
    if (a != seen.back()) seen.push_back(a);
  }
  EXPECT_GE(seen.size(), 3u) << "Rᵢ kept being written as it recovered";
  EXPECT_LE(seen.size(), 5u) << "written more often than every 10 s";
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_GT(seen[i], seen[i - 1]);
}

}  // namespace loops_node_lifecycle_test
}  // namespace corral::loops::testing
