// Issue 15 §3: one lying or wedged peer may delay a dead node's fail-over by
// at most one bounded interval (NodeLifecycleOptions::max_peer_hold: one more
// grace), never block it. The decision core on a FakeClock's steady time.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "base/clock.h"
#include "controller/reconcile/node_lifecycle.h"

namespace corral::reconcile {
namespace failover_lying_peer_test {

using std::chrono::milliseconds;

Node node(const std::string& name, const std::string& phase = "Ready") {
  Node n;
  n.metadata.name = name;
  n.metadata.labels = {{"role", "web"}};
  n.status.phase = phase;
  n.status.conditions.push_back(Condition{"Ready", phase == "Ready" ? "True" : "False", "", "", "", 0});
  n.status.address = name + ":7070";
  return n;
}

class LyingPeer : public ::testing::Test {
 protected:
  LyingPeer() {
    Pool p;
    p.metadata.name = "web";
    p.spec.nodeSelector = {{"role", "web"}};
    p.spec.failover.nodeGraceSeconds = 2;
    pools_.push_back(p);
    VM vm;
    vm.metadata.name = "vm-1";
    vm.spec.nodeName = "dead";
    vm.status.phase = "Running";
    vms_.push_back(vm);
  }
  NodeLifecycleResult decide(milliseconds at) {
    // The live nodes keep renewing; "dead" stopped at 0.
    leases_["a"] = leases_["b"] = {t0_ + at, true};
    NodeLifecycleInput in;
    in.nodes = &nodes_;
    in.pools = &pools_;
    in.vms = &vms_;
    in.lease_of = lookup_in(leases_);
    in.probes = &probes_;
    in.controller_started = t0_ - std::chrono::hours(1);
    in.now = t0_ + at;
    auto r = decide_node_lifecycle(in, options_);
    for (const auto& t : r.transitions) {
      for (auto& n : nodes_) {
        if (n.metadata.name == t.node) n.status.phase = health_name(t.to);
      }
    }
    return r;
  }

  FakeClock clock_;
  SteadyTime t0_ = clock_.steady_now();
  std::vector<Node> nodes_{node("a"), node("b"), node("dead")};
  std::vector<Pool> pools_;
  std::vector<VM> vms_;
  std::map<std::string, LeaseObservation> leases_{{"dead", {t0_, true}}};
  std::map<std::string, PeerProbe> probes_;
  NodeLifecycleOptions options_;
};

TEST_F(LyingPeer, APeerAnsweringReachableForeverDelaysFailoverByOneGraceAtMost) {
  // Grace 2 s: expired at 2 s. The lying peer answers "reachable" at every
  // probe, every 250 ms pass, for as long as it is asked (bounded: 40 passes).
  std::string failed_over_at;
  milliseconds verdict{-1};
  for (int pass = 1; pass <= 40 && verdict.count() < 0; ++pass) {
    const milliseconds at(2000 + 250 * pass);
    probes_["dead"] = PeerProbe{true, t0_ + at};
    NodeLifecycleResult r = decide(at);
    for (const auto& t : r.transitions) {
      if (t.node != "dead") continue;
      if (t.to == NodeHealth::kUnreachable) {
        EXPECT_LE(at.count(), 4000);
      }
      if (t.to == NodeHealth::kNotReady) {
        verdict = at;
        failed_over_at = t.message;
        ASSERT_EQ(r.lost.size(), 1u);
        EXPECT_EQ(r.lost[0].vm, "vm-1");
      }
    }
  }
  // Failed over once grace + one more grace had passed (4 s), at the next pass.
  EXPECT_EQ(verdict, milliseconds(4250)) << failed_over_at;
  EXPECT_NE(failed_over_at.find("failed over"), std::string::npos) << failed_over_at;
}

TEST_F(LyingPeer, ThePeerHoldIsAnOptionAndItsOwnBeatStillWins) {
  options_.max_peer_hold = milliseconds(5000);
  probes_["dead"] = PeerProbe{true, t0_ + milliseconds(2100)};
  EXPECT_EQ(decide(milliseconds(2100)).verdicts[2].health, NodeHealth::kUnreachable);
  probes_["dead"] = PeerProbe{true, t0_ + milliseconds(6900)};
  EXPECT_EQ(decide(milliseconds(6900)).verdicts[2].health, NodeHealth::kUnreachable);
  // Its own heartbeat comes back inside the hold: Ready, nothing moved.
  leases_["dead"] = {t0_ + milliseconds(7000), true};
  NodeLifecycleResult back = decide(milliseconds(7000));
  EXPECT_EQ(back.verdicts[2].health, NodeHealth::kReady);
  EXPECT_TRUE(back.lost.empty());
  // Silent again and held to the end: NotReady past grace + 5 s.
  probes_["dead"] = PeerProbe{true, t0_ + milliseconds(14100)};
  EXPECT_EQ(decide(milliseconds(14100)).verdicts[2].health, NodeHealth::kNotReady);
}

TEST_F(LyingPeer, APeerThatNeverAnswersDelaysFailoverByTheProbeTimeoutOnly) {
  milliseconds verdict{-1};
  for (int pass = 1; pass <= 40 && verdict.count() < 0; ++pass) {
    const milliseconds at(2000 + 250 * pass);
    NodeLifecycleResult r = decide(at);
    for (const auto& t : r.transitions) {
      if (t.node == "dead" && t.to == NodeHealth::kNotReady) verdict = at;
    }
  }
  EXPECT_EQ(verdict, milliseconds(2750));  // grace 2 s + probe timeout 0.5 s, next pass
}

}  // namespace failover_lying_peer_test
}  // namespace corral::reconcile
