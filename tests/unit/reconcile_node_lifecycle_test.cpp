// The node lifecycle decision core: grace, peer probes, restart grace, Lost
// VMs, and the availability tracker's window arithmetic. Time is a FakeClock's
// steady time, advanced by hand.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "base/clock.h"
#include "controller/reconcile/node_lifecycle.h"

namespace corral::reconcile {
namespace reconcile_node_lifecycle_test {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

Node make_node(const std::string& name, Labels labels = {{"role", "web"}},
               const std::string& phase = "Ready") {
  Node n;
  n.metadata.name = name;
  n.metadata.labels = std::move(labels);
  n.status.phase = phase;
  n.status.conditions.push_back(
      Condition{"Ready", phase == "Ready" ? "True" : "False", "", "", "", 0});
  n.status.address = name + ":7070";
  return n;
}

Pool make_pool(const std::string& name, Labels selector, int32_t grace_seconds) {
  Pool p;
  p.metadata.name = name;
  p.spec.nodeSelector = std::move(selector);
  p.spec.failover.nodeGraceSeconds = grace_seconds;
  return p;
}

VM make_vm(const std::string& name, const std::string& node, const std::string& phase) {
  VM v;
  v.metadata.name = name;
  v.spec.nodeName = node;
  v.status.phase = phase;
  return v;
}

class NodeLifecycle : public ::testing::Test {
 protected:
  NodeLifecycleResult decide(SteadyTime now) {
    NodeLifecycleInput in;
    in.nodes = &nodes_;
    in.pools = &pools_;
    in.vms = &vms_;
    in.lease_of = lookup_in(leases_);
    in.probes = &probes_;
    in.controller_started = started_;
    in.now = now;
    return decide_node_lifecycle(in, options_);
  }
  SteadyTime at(milliseconds offset) const { return t0_ + offset; }

  FakeClock clock_;
  SteadyTime t0_ = clock_.steady_now();
  SteadyTime started_ = t0_ - std::chrono::hours(1);  // a long-running controller
  std::vector<Node> nodes_{make_node("a"), make_node("b"), make_node("c")};
  std::vector<Pool> pools_{make_pool("web", {{"role", "web"}}, 2)};
  std::vector<VM> vms_;
  std::map<std::string, LeaseObservation> leases_;
  std::map<std::string, PeerProbe> probes_;
  NodeLifecycleOptions options_;
};

TEST_F(NodeLifecycle, NoFailoverStormAfterRestart) {
  started_ = t0_;  // the controller just (re)started; nothing seen yet
  vms_ = {make_vm("vm-1", "c", "Running")};

  NodeLifecycleResult r = decide(at(milliseconds(1900)));
  EXPECT_TRUE(r.transitions.empty());
  EXPECT_TRUE(r.probes.empty());
  EXPECT_TRUE(r.lost.empty());
  for (const NodeVerdict& v : r.verdicts) EXPECT_FALSE(v.judged) << v.node;

  // The tracker sees every node at once, then a and b renew; c never does.
  LeaseTracker tracker;
  for (Node& n : nodes_) {
    n.status.lease.renewTime = "2026-11-25T10:00:00.000Z";
    tracker.observe(n, at(milliseconds(0)));
  }
  for (Node* n : {&nodes_[0], &nodes_[1]}) {
    n->status.lease.renewTime = "2026-11-25T10:00:01.000Z";
    tracker.observe(*n, at(milliseconds(1000)));
  }
  leases_ = tracker.observations();
  EXPECT_TRUE(leases_.at("a").renewed);
  EXPECT_FALSE(leases_.at("c").renewed);

  // c, not heard from since the start, is judged by the startup grace (10 s),
  // not the pool's 2 s: an agent retrying once a second reaches us by then,
  // however long we were away.
  r = decide(at(milliseconds(2100)));
  EXPECT_TRUE(r.transitions.empty());
  EXPECT_TRUE(r.probes.empty());
  leases_["a"] = leases_["b"] = {at(milliseconds(9500)), true};  // a and b beat on
  r = decide(at(milliseconds(10'000)));
  EXPECT_TRUE(r.transitions.empty());
  EXPECT_TRUE(r.probes.empty());
  // ... just after it, only c is suspected, and only peers are asked: no move.
  r = decide(at(milliseconds(10'100)));
  EXPECT_TRUE(r.transitions.empty());
  EXPECT_TRUE(r.lost.empty());
  ASSERT_EQ(r.probes.size(), 1u);
  EXPECT_EQ(r.probes[0].node, "c");
  EXPECT_EQ(r.probes[0].address, "c:7070");
  EXPECT_THAT(r.probes[0].peers, UnorderedElementsAre("a", "b"));
}

TEST_F(NodeLifecycle, ALongControllerOutageJudgesNoNodeBeforeItsAgentsCouldReport) {
  // The controller restarts after an hour away; agents beat again within a
  // second or two of its start, one of them 4 s late (a beat stuck in its
  // call timeout). With the pool's 2 s grace that one was judged; with the
  // startup grace no node is.
  started_ = t0_;
  vms_ = {make_vm("vm-1", "c", "Running")};
  for (int ms = 0; ms <= 4000; ms += 100) {
    // a and b beat every second from 0.8 s and 1.2 s on; c is silent.
    if (ms >= 800) leases_["a"] = {at(milliseconds(800 + (ms - 800) / 1000 * 1000)), true};
    if (ms >= 1200) leases_["b"] = {at(milliseconds(1200 + (ms - 1200) / 1000 * 1000)), true};
    NodeLifecycleResult r = decide(at(milliseconds(ms)));
    EXPECT_TRUE(r.transitions.empty()) << ms << " ms: " << r.transitions[0].message;
    EXPECT_TRUE(r.probes.empty()) << ms;
    EXPECT_TRUE(r.lost.empty()) << ms;
  }
  leases_["a"] = {at(milliseconds(3800)), true};
  leases_["b"] = {at(milliseconds(4000)), true};
  leases_["c"] = {at(milliseconds(4100)), true};
  NodeLifecycleResult r = decide(at(milliseconds(4200)));
  EXPECT_TRUE(r.lost.empty());
  for (const NodeVerdict& v : r.verdicts) EXPECT_EQ(v.health, NodeHealth::kReady) << v.node;
}

TEST_F(NodeLifecycle, MostOfAPoolSilentTogetherKeepsItsVMsAndSaysSo) {
  nodes_ = {make_node("a"), make_node("b"), make_node("c"), make_node("d")};
  vms_ = {make_vm("vm-a", "a", "Running"), make_vm("vm-b", "b", "Running"),
          make_vm("vm-c", "c", "Running")};
  // a, b and c went quiet together at 0 (the controller's link to them); d beats.
  for (const char* n : {"a", "b", "c"}) leases_[n] = {at(milliseconds(0)), true};
  leases_["d"] = {at(milliseconds(4900)), true};
  probes_["a"] = probes_["b"] = probes_["c"] = PeerProbe{false, at(milliseconds(4900))};
  NodeLifecycleResult r = decide(at(milliseconds(5000)));
  EXPECT_TRUE(r.lost.empty()) << r.lost[0].message;
  EXPECT_TRUE(r.probes.empty());
  ASSERT_EQ(r.transitions.size(), 3u);
  for (const NodeTransition& t : r.transitions) {
    EXPECT_EQ(t.to, NodeHealth::kUnreachable) << t.node;
    EXPECT_THAT(t.message, HasSubstr("3 of 4 nodes of pool/web stopped reporting together"));
    EXPECT_THAT(t.message, HasSubstr("mass-failure guard"));
  }
  ASSERT_EQ(r.disruptions.size(), 1u);
  EXPECT_EQ(r.disruptions[0].pool, "web");
  EXPECT_EQ(r.disruptions[0].expired, 3u);
  EXPECT_EQ(r.disruptions[0].total, 4u);

  // a and b report again; c, which really died meanwhile, is now judged by
  // the usual rules: its peers cannot reach it, it is NotReady, its VM Lost.
  for (Node& n : nodes_)
    if (n.metadata.name != "d") n.status.phase = "Unreachable";
  leases_["a"] = leases_["b"] = leases_["d"] = {at(milliseconds(9900)), true};
  probes_["c"] = PeerProbe{false, at(milliseconds(9950))};
  r = decide(at(milliseconds(10'000)));
  EXPECT_TRUE(r.disruptions.empty());
  ASSERT_EQ(r.lost.size(), 1u);
  EXPECT_EQ(r.lost[0].vm, "vm-c");
  EXPECT_THAT(r.lost[0].message, HasSubstr("no peer could reach it"));
}

TEST_F(NodeLifecycle, OneDeadHostOrAlreadyDeadOnesAreNoMassFailure) {
  nodes_ = {make_node("a"), make_node("b"), make_node("c"), make_node("d"),
            make_node("e", {{"role", "web"}}, "NotReady"), make_node("f", {{"role", "web"}}, "NotReady")};
  vms_ = {make_vm("vm-c", "c", "Running"), make_vm("vm-d", "d", "Running")};
  leases_["a"] = leases_["b"] = {at(milliseconds(4900)), true};
  for (const char* n : {"c", "d", "e", "f"}) leases_[n] = {at(milliseconds(0)), true};
  probes_["c"] = probes_["d"] = PeerProbe{false, at(milliseconds(4950))};
  // 4 of 6 leases are expired, but e and f were dead already: of the 4 live
  // nodes, 2 went silent — half, not most. Both fail over.
  NodeLifecycleResult r = decide(at(milliseconds(5000)));
  EXPECT_TRUE(r.disruptions.empty());
  EXPECT_EQ(r.lost.size(), 2u);
}

TEST_F(NodeLifecycle, AnAgentStoppedForARestartKeepsItsVMsForItsWindowOnly) {
  vms_ = {make_vm("vm-1", "c", "Running")};
  leases_["a"] = leases_["b"] = {at(milliseconds(2000)), true};
  leases_["c"] = {at(milliseconds(0)), true};  // its last beat said: restarting
  nodes_[2].status.lease.holderIdentity = "c/41-ab";
  nodes_[2].status.lease.restartWindowSeconds = 60;
  pools_[0].spec.failover.restartWindowSeconds = 300;
  NodeLifecycleResult r = decide(at(milliseconds(2100)));
  ASSERT_EQ(r.transitions.size(), 1u);
  EXPECT_EQ(r.transitions[0].to, NodeHealth::kRestarting);
  EXPECT_EQ(r.transitions[0].reason, "NodeRestarting");
  EXPECT_THAT(r.transitions[0].message, HasSubstr("agent c/41-ab stopped for a restart"));
  EXPECT_EQ(ready_condition(r.transitions[0], "").status, "Unknown");
  EXPECT_TRUE(r.probes.empty());
  EXPECT_TRUE(r.lost.empty());
  EXPECT_TRUE(r.disruptions.empty());

  // Still held just before the window ends, with the others' leases fresh.
  nodes_[2].status.phase = "Restarting";
  leases_["a"] = leases_["b"] = {at(milliseconds(59'500)), true};
  r = decide(at(milliseconds(59'900)));
  EXPECT_TRUE(r.transitions.empty());
  EXPECT_EQ(r.verdicts[2].health, NodeHealth::kRestarting);
  // Past it, the usual rules: peers asked, nobody reaches it, NotReady, Lost.
  probes_["c"] = PeerProbe{false, at(milliseconds(60'050))};
  r = decide(at(milliseconds(60'100)));
  ASSERT_EQ(r.transitions.size(), 1u);
  EXPECT_EQ(r.transitions[0].to, NodeHealth::kNotReady);
  EXPECT_THAT(r.transitions[0].message, HasSubstr("did not return within 1m"));
  EXPECT_EQ(r.lost.size(), 1u);

  // The pool may grant less than was asked (or nothing: 0).
  nodes_[2].status.phase = "Ready";
  pools_[0].spec.failover.restartWindowSeconds = 0;
  probes_.clear();
  leases_["a"] = leases_["b"] = {at(milliseconds(2000)), true};
  r = decide(at(milliseconds(2100)));
  EXPECT_TRUE(r.transitions.empty());
  ASSERT_EQ(r.probes.size(), 1u) << "judged as if its agent had died";
}

TEST_F(NodeLifecycle, FirstSightingDoesNotResurrectADeadNode) {
  started_ = t0_;
  nodes_[2] = make_node("c", {{"role", "web"}}, "NotReady");
  leases_["c"] = LeaseObservation{t0_, false};
  NodeLifecycleResult r = decide(at(milliseconds(500)));
  EXPECT_TRUE(r.transitions.empty());
  EXPECT_EQ(r.verdicts[2].health, NodeHealth::kNotReady);
}

TEST_F(NodeLifecycle, NotReadyAfterGrace) {
  leases_["a"] = {at(milliseconds(1500)), true};
  leases_["b"] = {at(milliseconds(1800)), true};
  leases_["c"] = {at(milliseconds(0)), true};
  vms_ = {make_vm("vm-1", "c", "Running")};

  NodeLifecycleResult r = decide(at(milliseconds(2000)));  // age 2.0 s = grace: still fresh
  EXPECT_TRUE(r.probes.empty());
  EXPECT_TRUE(r.verdicts[2].lease_fresh);

  r = decide(at(milliseconds(2100)));
  ASSERT_EQ(r.probes.size(), 1u);
  EXPECT_TRUE(r.transitions.empty());
  EXPECT_FALSE(r.verdicts[2].lease_fresh);
  EXPECT_EQ(r.verdicts[2].health, NodeHealth::kReady);  // waiting for peers

  // Both peers answer: nobody reaches it.
  probes_["c"] = PeerProbe{false, at(milliseconds(2150))};
  r = decide(at(milliseconds(2200)));
  ASSERT_EQ(r.transitions.size(), 1u);
  const NodeTransition& t = r.transitions[0];
  EXPECT_EQ(t.node, "c");
  EXPECT_EQ(t.from, NodeHealth::kReady);
  EXPECT_EQ(t.to, NodeHealth::kNotReady);
  EXPECT_EQ(t.reason, "NodeNotReady");
  EXPECT_EQ(t.message, "lease not renewed for 2.2s (grace 2s); no peer could reach it");
  EXPECT_TRUE(r.probes.empty());
  Condition c = ready_condition(t, "2026-11-25T10:00:02.200Z");
  EXPECT_EQ(c.status, "False");
  EXPECT_EQ(c.reason, "NodeNotReady");
}

TEST_F(NodeLifecycle, NotReadyWhenNoPeerAnswersInTime) {
  leases_["a"] = {at(milliseconds(1500)), true};
  leases_["b"] = {at(milliseconds(1500)), true};
  leases_["c"] = {at(milliseconds(0)), true};
  // Expired at 2.0 s; the probe timeout is 0.5 s.
  EXPECT_TRUE(decide(at(milliseconds(2500))).transitions.empty());
  NodeLifecycleResult r = decide(at(milliseconds(2501)));
  ASSERT_EQ(r.transitions.size(), 1u);
  EXPECT_EQ(r.transitions[0].to, NodeHealth::kNotReady);
  EXPECT_THAT(r.transitions[0].message, HasSubstr("no peer answered within 0.5s"));
}

TEST_F(NodeLifecycle, PeerReachableMeansUnreachableNotDead) {
  leases_["a"] = {at(milliseconds(1500)), true};
  leases_["b"] = {at(milliseconds(1500)), true};
  leases_["c"] = {at(milliseconds(0)), true};
  vms_ = {make_vm("vm-1", "c", "Running")};
  probes_["c"] = PeerProbe{true, at(milliseconds(2200))};

  NodeLifecycleResult r = decide(at(milliseconds(2200)));
  ASSERT_EQ(r.transitions.size(), 1u);
  EXPECT_EQ(r.transitions[0].to, NodeHealth::kUnreachable);
  EXPECT_EQ(r.transitions[0].reason, "NodeUnreachable");
  EXPECT_THAT(r.transitions[0].message, HasSubstr("a peer still reaches it"));
  EXPECT_EQ(ready_condition(r.transitions[0], "").status, "Unknown");
  EXPECT_TRUE(r.lost.empty());
  EXPECT_TRUE(r.probes.empty());  // the answer is fresh

  nodes_[2].status.phase = "Unreachable";
  leases_["a"] = leases_["b"] = {at(milliseconds(3000)), true};
  // One probe interval later it is asked again, and stays Unreachable meanwhile.
  r = decide(at(milliseconds(3200)));
  EXPECT_TRUE(r.transitions.empty());
  ASSERT_EQ(r.probes.size(), 1u);
  EXPECT_EQ(r.verdicts[2].health, NodeHealth::kUnreachable);
  // No fresh answer by interval + timeout: peers lost it too → NotReady.
  r = decide(at(milliseconds(3701)));
  ASSERT_EQ(r.transitions.size(), 1u);
  EXPECT_EQ(r.transitions[0].from, NodeHealth::kUnreachable);
  EXPECT_EQ(r.transitions[0].to, NodeHealth::kNotReady);
  EXPECT_THAT(r.lost, ::testing::SizeIs(1));
}

TEST_F(NodeLifecycle, VMsOfDeadNodeTurnLost) {
  // c is alone in its pool: no second path, so it is NotReady right after grace.
  nodes_ = {make_node("a", {{"role", "db"}}), make_node("c", {{"role", "web"}})};
  pools_ = {make_pool("db", {{"role", "db"}}, 2), make_pool("web", {{"role", "web"}}, 2)};
  leases_["a"] = {at(milliseconds(2000)), true};
  leases_["c"] = {at(milliseconds(0)), true};
  vms_ = {make_vm("vm-3", "c", "Running"), make_vm("vm-1", "c", "Starting"),
          make_vm("vm-2", "c", "Lost"),    make_vm("vm-4", "c", "Failed"),
          make_vm("vm-5", "a", "Running"), make_vm("vm-6", "", "Pending")};

  NodeLifecycleResult r = decide(at(milliseconds(2001)));
  ASSERT_EQ(r.transitions.size(), 1u);
  EXPECT_THAT(r.transitions[0].message, HasSubstr("no Ready peer in its pools"));
  ASSERT_EQ(r.lost.size(), 2u);
  EXPECT_EQ(r.lost[0].vm, "vm-1");
  EXPECT_EQ(r.lost[1].vm, "vm-3");
  EXPECT_EQ(r.lost[1].node, "c");
  EXPECT_THAT(r.lost[1].message, HasSubstr("node c is NotReady"));

  // Level-triggered: the node already NotReady still lists VMs not yet Lost,
  // but no second transition.
  nodes_[1].status.phase = "NotReady";
  leases_["a"] = {at(milliseconds(4500)), true};
  r = decide(at(milliseconds(5000)));
  EXPECT_TRUE(r.transitions.empty());
  EXPECT_EQ(r.lost.size(), 2u);

  // The lease is seen renewed again: Ready, nothing Lost.
  leases_["c"] = {at(milliseconds(5500)), true};
  r = decide(at(milliseconds(6000)));
  ASSERT_EQ(r.transitions.size(), 1u);
  EXPECT_EQ(r.transitions[0].to, NodeHealth::kReady);
  EXPECT_EQ(r.transitions[0].reason, "NodeReady");
  EXPECT_TRUE(r.lost.empty());
}

TEST_F(NodeLifecycle, SelfFenceVMsWaitForTheFenceTimeFencingNoneOnesTurnLostAtOnce) {
  EXPECT_EQ(FenceOptions{}.total(), seconds(12)) << "10 s stop (once) + 1 s notice + 1 s margin";
  options_.fence.stop_timeout = seconds(1);  // 1 + 1 + 1 = 3 s
  nodes_ = {make_node("a", {{"role", "db"}}), make_node("c", {{"role", "web"}})};
  pools_ = {make_pool("db", {{"role", "db"}}, 2), make_pool("web", {{"role", "web"}}, 2)};
  leases_["a"] = {at(milliseconds(2000)), true};
  leases_["c"] = {at(milliseconds(0)), true};  // expires at 2 s
  VM fenced = make_vm("vm-fence", "c", "Running");
  fenced.spec.fencing = "selfFence";
  fenced.spec.epoch = 4;
  vms_ = {make_vm("vm-plain", "c", "Running"), fenced};

  NodeLifecycleResult r = decide(at(milliseconds(2001)));
  ASSERT_EQ(r.transitions.size(), 1u);
  EXPECT_EQ(r.transitions[0].to, NodeHealth::kNotReady);
  ASSERT_EQ(r.lost.size(), 1u);
  EXPECT_EQ(r.lost[0].vm, "vm-plain") << "fencing none: Lost at once, as before";
  ASSERT_EQ(r.fencing.size(), 1u);
  EXPECT_EQ(r.fencing[0].vm, "vm-fence");
  EXPECT_EQ(r.fencing[0].node, "c");
  EXPECT_EQ(r.fencing[0].epoch, 4);
  EXPECT_EQ(r.fencing[0].until, at(milliseconds(5000))) << "lease + grace + fence time";
  EXPECT_THAT(r.fencing[0].message,
              HasSubstr("waiting 3s for node/c to fence vm/vm-fence before re-placing"));

  // Still waiting just before the end, on the sticky NotReady passes.
  nodes_[1].status.phase = "NotReady";
  vms_[0].status.phase = "Lost";
  leases_["a"] = {at(milliseconds(4900)), true};
  r = decide(at(milliseconds(4999)));
  EXPECT_TRUE(r.lost.empty());
  ASSERT_EQ(r.fencing.size(), 1u);

  r = decide(at(milliseconds(5000)));
  EXPECT_TRUE(r.fencing.empty());
  ASSERT_EQ(r.lost.size(), 1u);
  EXPECT_EQ(r.lost[0].vm, "vm-fence");
  EXPECT_THAT(r.lost[0].message, HasSubstr("its agent had 3s to fence it (selfFence)"));

  // The lease renewed during the wait: Ready again, nothing Lost or waiting.
  leases_["c"] = {at(milliseconds(5500)), true};
  r = decide(at(milliseconds(5600)));
  EXPECT_TRUE(r.lost.empty());
  EXPECT_TRUE(r.fencing.empty());
}

TEST_F(NodeLifecycle, FenceWaitCountsFromTheLeaseNotFromASlowVerdict) {
  options_.fence.stop_timeout = seconds(1);  // fence time 6 s
  // Peers' answers may hold it past the fence time here (by default they
  // hold a node one more grace only: LyingPeer in tests/security).
  options_.max_peer_hold = seconds(10);
  leases_["a"] = {at(milliseconds(9000)), true};
  leases_["b"] = {at(milliseconds(9000)), true};
  leases_["c"] = {at(milliseconds(0)), true};
  VM fenced = make_vm("vm-fence", "c", "Running");
  fenced.spec.fencing = "selfFence";
  vms_ = {fenced};
  // Peers kept reaching c (Unreachable): its VMs stay, no wait is announced.
  nodes_[2].status.phase = "Unreachable";
  probes_["c"] = PeerProbe{true, at(milliseconds(8900))};
  NodeLifecycleResult r = decide(at(milliseconds(9000)));
  EXPECT_TRUE(r.lost.empty());
  EXPECT_TRUE(r.fencing.empty());
  // Then they lose it too, 9.1 s after the lease: the fence time (expiry at
  // 2 s + 6 s) is long over, so it turns Lost at once.
  probes_["c"] = PeerProbe{false, at(milliseconds(9100))};
  r = decide(at(milliseconds(9100)));
  ASSERT_EQ(r.transitions.size(), 1u);
  EXPECT_EQ(r.transitions[0].to, NodeHealth::kNotReady);
  ASSERT_EQ(r.lost.size(), 1u);
  EXPECT_TRUE(r.fencing.empty());
}

TEST_F(NodeLifecycle, SmallestGraceOfItsPoolsAndDefaultOutsideAny) {
  nodes_ = {make_node("both", {{"role", "web"}, {"zone", "a"}}),
            make_node("loose", {{"role", "x"}})};
  pools_ = {make_pool("web", {{"role", "web"}}, 5), make_pool("fast", {{"zone", "a"}}, 3)};
  leases_["both"] = {at(milliseconds(0)), true};
  leases_["loose"] = {at(milliseconds(0)), true};
  nodes_[1].status.address.clear();  // no endpoint to probe: judged on its lease alone
  NodeLifecycleResult r = decide(at(milliseconds(2001)));  // default 2 s for "loose"
  ASSERT_EQ(r.transitions.size(), 1u);
  EXPECT_EQ(r.transitions[0].node, "loose");
  EXPECT_EQ(r.verdicts.size(), 2u);    // a NotReady node without VMs still has its verdict
  r = decide(at(milliseconds(3001)));  // 3 s for "both", not 5
  EXPECT_FALSE(r.verdicts[0].lease_fresh);
  ASSERT_EQ(r.transitions.size(), 2u);
  EXPECT_EQ(r.transitions[0].node, "both");
}

TEST_F(NodeLifecycle, PeersAreChosenDeterministicallyFromFreshNodesOfThePool) {
  nodes_ = {make_node("a"), make_node("b"), make_node("c"),
            make_node("d"), make_node("e"), make_node("other", {{"role", "db"}})};
  pools_.push_back(make_pool("db", {{"role", "db"}}, 2));
  for (const char* n : {"a", "b", "c", "d", "other"}) leases_[n] = {at(milliseconds(1500)), true};
  leases_["e"] = {at(milliseconds(0)), true};
  nodes_[3].status.address.clear();  // d cannot be asked: no known endpoint
  NodeLifecycleResult r = decide(at(milliseconds(2100)));
  ASSERT_EQ(r.probes.size(), 1u);
  ASSERT_EQ(r.probes[0].peers.size(), 2u);
  for (const std::string& p : r.probes[0].peers) EXPECT_THAT(p, ::testing::AnyOf("a", "b", "c"));
  EXPECT_EQ(decide(at(milliseconds(2200))).probes[0].peers, r.probes[0].peers);
}

TEST(AvailabilityTracker, FractionOfTheWindowWithAFreshLease) {
  FakeClock clock;
  const SteadyTime t0 = clock.steady_now();
  AvailabilityTracker tracker(seconds(60), 6);      // six 10 s buckets
  EXPECT_DOUBLE_EQ(tracker.availability(t0), 1.0);  // nothing observed: no evidence against it
  tracker.sample(t0, true);
  for (int s = 1; s <= 30; ++s) tracker.sample(t0 + seconds(s), true);
  for (int s = 31; s <= 45; ++s) tracker.sample(t0 + seconds(s), false);
  EXPECT_DOUBLE_EQ(tracker.availability(t0 + seconds(45)), 30.0 / 45.0);
  for (int s = 46; s <= 59; ++s) tracker.sample(t0 + seconds(s), true);
  EXPECT_DOUBLE_EQ(tracker.availability(t0 + seconds(59)), 44.0 / 59.0);
  // Bucket 0 (0–9 s) has left the window: samples 10..60 remain.
  tracker.sample(t0 + seconds(60), true);
  EXPECT_DOUBLE_EQ(tracker.availability(t0 + seconds(60)), 36.0 / 51.0);
  for (int s = 61; s <= 100; ++s) tracker.sample(t0 + seconds(s), true);
  EXPECT_DOUBLE_EQ(tracker.availability(t0 + seconds(100)), 1.0);  // the outage aged out
}

TEST(AvailabilityTracker, UnobservedGapsCountAtMostOneBucket) {
  FakeClock clock;
  const SteadyTime t0 = clock.steady_now();
  AvailabilityTracker tracker(seconds(3600));  // 60 one-minute buckets
  tracker.sample(t0, true);
  tracker.sample(t0 + seconds(30), true);
  // The controller was down for 20 minutes: only one bucket width is counted.
  tracker.sample(t0 + std::chrono::minutes(20) + seconds(30), false);
  EXPECT_DOUBLE_EQ(tracker.availability(t0 + std::chrono::minutes(20) + seconds(30)), 30.0 / 90.0);
}

}  // namespace reconcile_node_lifecycle_test
}  // namespace corral::reconcile
