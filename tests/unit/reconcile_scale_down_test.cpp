// Scale-down victims (controller/reconcile/scale_down.h) and the VMSet's
// SpreadSatisfied condition (spread_condition.h), through reconcile_vmset:
// spread holds, then health, then crowded domains, co-location, load, age.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "api/conditions.h"
#include "controller/reconcile/scale_down.h"
#include "controller/reconcile/spread_condition.h"
#include "controller/reconcile/vmset_reconcile.h"

namespace corral::reconcile {
namespace reconcile_scale_down_test {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::UnorderedElementsAre;

constexpr int64_t kGi = int64_t{1024} * 1024 * 1024;

VMSet zone_set(int32_t replicas, int32_t max_skew = 1) {
  VMSet s;
  s.metadata.name = "web";
  s.metadata.uid = "uid-web";
  s.metadata.generation = 2;
  s.spec.pool = "pool";
  s.spec.replicas = replicas;
  s.spec.templ.spec.resources.cpu = Quantity::from_milli(1000);
  s.spec.templ.spec.resources.memory = Quantity::from_bytes(kGi);
  if (max_skew > 0) s.spec.spread = SpreadPolicy{"zone", max_skew};
  return s;
}

Pool pool() {
  Pool p;
  p.metadata.name = "pool";
  return p;  // an empty nodeSelector selects every node
}

Node node(const std::string& name, const std::string& zone, double load = 0, bool ready = true) {
  Node n;
  n.metadata.name = name;
  n.metadata.labels = {{"zone", zone}};
  n.status.phase = ready ? "Ready" : "NotReady";
  n.status.conditions.push_back(Condition{"Ready", ready ? "True" : "False", "", "", "", 0});
  n.status.allocatable.cpu = Quantity::from_milli(10000);
  n.status.allocatable.memory = Quantity::from_bytes(10 * kGi);
  n.status.usage.cpu = Quantity::from_milli(static_cast<int64_t>(load * 10000));
  return n;
}

// A replica of zone_set(): Running in its epoch and Ready unless told otherwise.
VM replica(const std::string& name, const std::string& node_name, const std::string& created,
           const std::string& phase = "Running", bool ready = true) {
  VM v = new_vm_for(zone_set(1), name);
  v.metadata.creationTimestamp = created;
  v.spec.nodeName = node_name;
  v.spec.epoch = v.status.epoch = node_name.empty() ? 0 : 1;
  v.status.phase = phase;
  if (phase == "Running")
    v.status.conditions.push_back(Condition{"Ready", ready ? "True" : "False", "", "", "", 0});
  return v;
}

struct Outcome {
  VmSetPlan plan;
  std::vector<std::string> removed;
  std::vector<std::string> reasons;
};

Outcome run(const VMSet& set, const std::vector<VM>& vms, const std::vector<Node>& nodes,
            const Pool* p, const std::string& now = "2026-12-02T10:00:00.000Z") {
  VmSetInput in;
  in.vmset = &set;
  in.vms = pointers_to(vms);
  in.nodes = pointers_to(nodes);
  in.pool = p;
  in.now = now;
  in.seed = 1;
  Outcome r{reconcile_vmset(in), {}, {}};
  for (const VmDeletion& d : r.plan.remove) {
    r.removed.push_back(d.vm);
    r.reasons.push_back(d.reason);
  }
  return r;
}

// The zone of each VM left after the plan.
std::map<std::string, int> zones_left(const std::vector<VM>& vms, const std::vector<Node>& nodes,
                                      const std::vector<std::string>& removed) {
  std::map<std::string, int> out;
  for (const VM& vm : vms) {
    if (std::count(removed.begin(), removed.end(), vm.metadata.name)) continue;
    for (const Node& n : nodes)
      if (n.metadata.name == vm.spec.nodeName) ++out[n.metadata.labels.at("zone")];
  }
  return out;
}

// ---- the victim table ------------------------------------------------------------

struct VictimCase {
  const char* name;
  VMSet set;
  std::vector<Node> nodes;
  std::vector<VM> vms;
  std::vector<std::string> want_removed;  // in the order chosen
};

std::vector<VictimCase> victim_cases() {
  const std::vector<Node> zones = {node("a1", "a"), node("a2", "a"), node("b1", "b"),
                                   node("b2", "b"), node("c1", "c")};
  std::vector<VictimCase> cases;

  // Issue 14: a:2 b:2 c:1, 5 → 3. The newest are c's and then b's: by age
  // alone c would be emptied (a:2 b:1 c:0). Spread keeps one per zone.
  cases.push_back({"Issue14FiveToThreeKeepsOnePerZone",
                   zone_set(3),
                   zones,
                   {replica("web-a1", "a1", "2026-12-01T10:00:00.000Z"),
                    replica("web-a2", "a2", "2026-12-01T10:01:00.000Z"),
                    replica("web-b1", "b1", "2026-12-01T10:02:00.000Z"),
                    replica("web-b2", "b2", "2026-12-01T10:03:00.000Z"),
                    replica("web-c1", "c1", "2026-12-01T10:04:00.000Z")},
                   {"web-b2", "web-a2"}});

  // The same when zone c's node is the most loaded: load never beats spread.
  {
    std::vector<Node> loaded = zones;
    loaded[4] = node("c1", "c", 0.95);
    cases.push_back({"SpreadBeatsNodeLoad",
                     zone_set(3),
                     loaded,
                     {replica("web-a1", "a1", "2026-12-01T10:04:00.000Z"),
                      replica("web-a2", "a2", "2026-12-01T10:03:00.000Z"),
                      replica("web-b1", "b1", "2026-12-01T10:02:00.000Z"),
                      replica("web-b2", "b2", "2026-12-01T10:01:00.000Z"),
                      replica("web-c1", "c1", "2026-12-01T10:00:00.000Z")},
                     {"web-a1", "web-b1"}});
  }

  // Health first (Kubernetes' ReplicaSet order) as long as spread holds:
  // unscheduled, then bound but not Running yet, then Running but not Ready.
  cases.push_back({"HealthOrderUnscheduledThenStartingThenNotReady",
                   zone_set(3),
                   zones,
                   {replica("web-a1", "a1", "2026-12-01T10:05:00.000Z"),
                    replica("web-a2", "a2", "2026-12-01T10:00:00.000Z", "Running", false),
                    replica("web-b1", "b1", "2026-12-01T10:01:00.000Z", "Scheduled"),
                    replica("web-b2", "b2", "2026-12-01T10:06:00.000Z"),
                    replica("web-c1", "c1", "2026-12-01T10:07:00.000Z"),
                    replica("web-p", "", "2026-12-01T10:02:00.000Z", "Pending")},
                   {"web-p", "web-b1", "web-a2"}});

  // Lost and Failed go before anything healthy; a Lost replica holds no place.
  cases.push_back({"LostAndFailedFirst",
                   zone_set(2, 0),
                   zones,
                   {replica("web-ok1", "a1", "2026-12-01T10:05:00.000Z"),
                    replica("web-ok2", "b1", "2026-12-01T10:06:00.000Z"),
                    replica("web-failed", "c1", "2026-12-01T10:00:00.000Z", "Failed"),
                    replica("web-lost", "a2", "2026-12-01T10:00:00.000Z", "Lost")},
                   {"web-lost", "web-failed"}});

  // Never the one replica of a zone, not even a not-Ready one, while taking
  // another keeps the skew: a:2 b:1 c:1 (c's not Ready), 4 → 3.
  cases.push_back({"ANotReadyReplicaAloneInItsZoneIsKept",
                   zone_set(3),
                   zones,
                   {replica("web-a1", "a1", "2026-12-01T10:00:00.000Z"),
                    replica("web-a2", "a2", "2026-12-01T10:01:00.000Z"),
                    replica("web-b1", "b1", "2026-12-01T10:02:00.000Z"),
                    replica("web-c1", "c1", "2026-12-01T10:03:00.000Z", "Running", false)},
                   {"web-a2"}});

  // Already skewed (a:3 b:1 c:0, c empty but eligible): from the most crowded.
  cases.push_back({"AlreadySkewedTakesFromTheMostCrowded",
                   zone_set(3),
                   zones,
                   {replica("web-a1", "a1", "2026-12-01T10:00:00.000Z"),
                    replica("web-a2", "a2", "2026-12-01T10:01:00.000Z"),
                    replica("web-a3", "a2", "2026-12-01T10:02:00.000Z"),
                    replica("web-b1", "b1", "2026-12-01T10:03:00.000Z")},
                   {"web-a3"}});

  // Anti-affinity (preferred, per host): a co-located replica goes first, even
  // when another is newer or on a more loaded node.
  {
    VMSet set = zone_set(3, 0);
    set.spec.antiAffinity = AntiAffinity{"corral.io/hostname", "preferred"};
    cases.push_back({"CoLocatedReplicasGoFirst",
                     set,
                     {node("n1", "a", 0.1), node("n2", "a", 0.9), node("n3", "b", 0.5)},
                     {replica("web-1", "n1", "2026-12-01T10:00:00.000Z"),
                      replica("web-2", "n1", "2026-12-01T10:01:00.000Z"),
                      replica("web-3", "n2", "2026-12-01T10:09:00.000Z"),
                      replica("web-4", "n3", "2026-12-01T10:08:00.000Z")},
                     {"web-2"}});
  }

  // Without spread or anti-affinity: the more loaded node, then the newest.
  cases.push_back({"NoPolicyMostLoadedThenNewest",
                   zone_set(1, 0),
                   {node("n1", "a", 0.2), node("n2", "b", 0.7)},
                   {replica("web-old", "n1", "2026-12-01T10:00:00.000Z"),
                    replica("web-new", "n1", "2026-12-01T10:05:00.000Z"),
                    replica("web-hot", "n2", "2026-12-01T09:00:00.000Z")},
                   {"web-hot", "web-new"}});
  return cases;
}

TEST(ScaleDownVictims, Table) {
  const Pool p = pool();
  for (const VictimCase& c : victim_cases()) {
    SCOPED_TRACE(c.name);
    const Outcome r = run(c.set, c.vms, c.nodes, &p);
    EXPECT_THAT(r.removed, ElementsAreArray(c.want_removed)) << ::testing::PrintToString(r.reasons);
  }
}

TEST(ScaleDownVictims, Issue14LeavesOnePerZoneWithReasons) {
  const Pool p = pool();
  const VictimCase c = victim_cases()[0];
  const Outcome r = run(c.set, c.vms, c.nodes, &p);
  EXPECT_THAT(zones_left(c.vms, c.nodes, r.removed),
              ElementsAre(std::pair<const std::string, int>{"a", 1},
                          std::pair<const std::string, int>{"b", 1},
                          std::pair<const std::string, int>{"c", 1}));
  ASSERT_EQ(r.reasons.size(), 2u);
  EXPECT_EQ(r.reasons[0],
            "scale-down 5 → 3: in zone=b (2 replicas, the most)");  // a, b tie: newest
  EXPECT_EQ(r.reasons[1], "scale-down 5 → 3: in zone=a (2 replicas, the most)");
}

TEST(ScaleDownVictims, SpreadIsNotJudgedWithoutThePool) {
  // Without the pool there are no domains: the order falls back to health,
  // load and age (the newest, web-c1, goes).
  const VictimCase c = victim_cases()[0];
  const Outcome r = run(zone_set(4), c.vms, c.nodes, nullptr);
  EXPECT_THAT(r.removed, ElementsAre("web-c1"));
}

// ---- SpreadSatisfied ---------------------------------------------------------------

const Condition* spread_of(const VmSetPlan& plan) {
  return find_condition(plan.status.conditions, kSpreadSatisfied);
}

TEST(SpreadCondition, FalseSkewExceededNamesTheCrowdedAndTheEmptyDomain) {
  const Pool p = pool();
  const std::vector<Node> nodes = {node("a1", "a"), node("b1", "b"), node("c1", "c")};
  const std::vector<VM> vms = {replica("web-1", "a1", "2026-12-01T10:00:00.000Z"),
                               replica("web-2", "a1", "2026-12-01T10:00:00.000Z"),
                               replica("web-3", "a1", "2026-12-01T10:00:00.000Z"),
                               replica("web-4", "b1", "2026-12-01T10:00:00.000Z")};
  const Outcome r = run(zone_set(4), vms, nodes, &p);
  const Condition* c = spread_of(r.plan);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, "False");
  EXPECT_EQ(c->reason, "SkewExceeded");
  EXPECT_EQ(c->message, "zone: a=3 c=0, maxSkew 1");
  EXPECT_EQ(c->lastTransitionTime, "2026-12-02T10:00:00.000Z");
  EXPECT_EQ(c->observedGeneration, 2);
  EXPECT_TRUE(r.plan.remove.empty());
}

TEST(SpreadCondition, TrueWithinMaxSkewKeepsItsTransitionTime) {
  const Pool p = pool();
  const std::vector<Node> nodes = {node("a1", "a"), node("b1", "b"), node("c1", "c")};
  const std::vector<VM> vms = {replica("web-1", "a1", "2026-12-01T10:00:00.000Z"),
                               replica("web-2", "a1", "2026-12-01T10:00:00.000Z"),
                               replica("web-3", "b1", "2026-12-01T10:00:00.000Z"),
                               replica("web-4", "c1", "2026-12-01T10:00:00.000Z")};
  VMSet set = zone_set(4);
  Outcome r = run(set, vms, nodes, &p);
  const Condition* c = spread_of(r.plan);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, "True");
  EXPECT_EQ(c->reason, "WithinMaxSkew");
  EXPECT_EQ(c->message, "zone: skew 1, maxSkew 1 (a=2 b=1 c=1)");

  // Later, unchanged: the transition time stays.
  set.status = r.plan.status;
  r = run(set, vms, nodes, &p, "2026-12-02T11:00:00.000Z");
  EXPECT_EQ(spread_of(r.plan)->lastTransitionTime, "2026-12-02T10:00:00.000Z");
}

TEST(SpreadCondition, ADeadZoneIsNotEligibleAndDoesNotCountAsEmpty) {
  // Zone c's only node is NotReady: the scheduler cannot use it, so its
  // emptiness is no skew (as TopologySpreadFilter judges).
  const Pool p = pool();
  const std::vector<Node> nodes = {node("a1", "a"), node("b1", "b"), node("c1", "c", 0, false)};
  const std::vector<VM> vms = {replica("web-1", "a1", "2026-12-01T10:00:00.000Z"),
                               replica("web-2", "b1", "2026-12-01T10:00:00.000Z")};
  const Outcome r = run(zone_set(2), vms, nodes, &p);
  ASSERT_NE(spread_of(r.plan), nullptr);
  EXPECT_EQ(spread_of(r.plan)->status, "True");
}

TEST(SpreadCondition, NoSpreadNoConditionAndAStaleOneIsDropped) {
  const Pool p = pool();
  const std::vector<Node> nodes = {node("a1", "a")};
  const std::vector<VM> vms = {replica("web-1", "a1", "2026-12-01T10:00:00.000Z")};
  VMSet set = zone_set(1, 0);
  set.status.conditions.push_back(
      Condition{kSpreadSatisfied, "False", "SkewExceeded", "zone: a=3 c=0, maxSkew 1", "", 1});
  const Outcome r = run(set, vms, nodes, &p);
  EXPECT_EQ(spread_of(r.plan), nullptr);
}

}  // namespace reconcile_scale_down_test
}  // namespace corral::reconcile
