// Balancer endpoints: which VMs a Balancer publishes, their weights and
// draining marks, what the data plane reported carried over, the Ready
// condition; and the drain gate the move loop asks before deleting a moved VM.
// Pure functions; time is passed in.
#include "api/json.h"
#include "controller/reconcile/endpoints.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api/annotations.h"
#include "base/clock.h"
#include "api/kinds.h"

namespace corral::reconcile {
namespace reconcile_endpoints_test {

using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

WallTime at(const std::string& rfc3339) {
  WallTime t{};
  EXPECT_TRUE(parse_time(rfc3339, &t)) << rfc3339;
  return t;
}
const WallTime kNow = at("2026-11-27T10:00:00.000Z");

// A Ready node with 4 CPUs, `cpu_used` of them in use.
Node node(const std::string& name, double cpu_used = 0, bool ready = true) {
  Node n;
  n.metadata.name = name;
  n.status.allocatable.cpu = Quantity::from_milli(4000);
  n.status.usage.cpu = Quantity::from_milli(static_cast<int64_t>(cpu_used * 1000));
  n.status.phase = ready ? "Ready" : "NotReady";
  n.status.conditions.push_back(Condition{"Ready", ready ? "True" : "False", "", "", "", 0});
  return n;
}

// A VM of VMSet `set` Running in epoch 2 on `node_name`.
VM vm(const std::string& name, const std::string& node_name, const std::string& set = "web") {
  VM v;
  v.metadata.name = name;
  v.metadata.labels = {{"corral.io/vmset", set}, {"app", set}};
  v.spec.nodeName = node_name;
  v.spec.epoch = 2;
  v.status.phase = "Running";
  v.status.epoch = 2;
  v.status.nodeName = node_name;
  v.status.address = "10.0.0.1:" + std::to_string(8000 + name.size());
  return v;
}

Balancer lb_of_set(const std::string& set = "web") {
  Balancer b;
  b.metadata.name = "front";
  b.metadata.generation = 3;
  b.spec.vmSet = set;
  b.spec.listen = "0.0.0.0:80";
  return b;
}

std::vector<std::string> names(const BalancerStatus& st) {
  std::vector<std::string> out;
  for (const Endpoint& e : st.endpoints) out.push_back(e.vm);
  return out;
}

const Endpoint* endpoint(const BalancerStatus& st, const std::string& vm_name) {
  for (const Endpoint& e : st.endpoints)
    if (e.vm == vm_name) return &e;
  return nullptr;
}

TEST(BalancerEndpoints, PublishesOnlyVmsRunningInTheirCurrentEpoch) {
  std::vector<Node> nodes = {node("h1"), node("h2")};
  VM ok = vm("web-a", "h1");
  VM stale = vm("web-b", "h1");
  stale.spec.epoch = 3;  // re-placed: the report is from the old copy
  VM starting = vm("web-c", "h2");
  starting.status.phase = "Starting";
  VM no_address = vm("web-d", "h2");
  no_address.status.address.clear();
  VM terminating = vm("web-e", "h2");
  terminating.status.phase = "Terminating";
  VM other_set = vm("db-a", "h2", "db");
  BalancerStatus st = compute_balancer_status(
      lb_of_set(), {terminating, starting, ok, stale, no_address, other_set}, nodes, kNow);
  EXPECT_THAT(names(st), ElementsAre("web-a"));
  const Endpoint& e = st.endpoints.front();
  EXPECT_EQ(e.node, "h1");
  EXPECT_EQ(e.address, ok.status.address);
  EXPECT_EQ(e.epoch, 2);
  EXPECT_EQ(e.labels, ok.metadata.labels);
  EXPECT_EQ(e.health, "Unknown");
  EXPECT_FALSE(e.draining);
  EXPECT_EQ(st.observedGeneration, 3);
}

TEST(BalancerEndpoints, LeavesTheSetWhenItsNodeTurnsNotReadyOrItsVmIsLost) {
  std::vector<VM> vms = {vm("web-a", "h1"), vm("web-b", "h2")};
  Balancer b = lb_of_set();
  b.status = compute_balancer_status(b, vms, {node("h1"), node("h2")}, kNow);
  ASSERT_THAT(names(b.status), ElementsAre("web-a", "web-b"));

  BalancerStatus st = compute_balancer_status(b, vms, {node("h1"), node("h2", 0, false)}, kNow);
  EXPECT_THAT(names(st), ElementsAre("web-a"));

  vms[0].status.phase = "Lost";
  st = compute_balancer_status(b, vms, {node("h1"), node("h2")}, kNow);
  EXPECT_THAT(names(st), ElementsAre("web-b"));

  // A node the cache does not know is not Ready.
  st = compute_balancer_status(b, vms, {node("h1")}, kNow);
  EXPECT_TRUE(st.endpoints.empty());
}

TEST(BalancerEndpoints, SelectsByVmSetOrByLabelSelector) {
  std::vector<Node> nodes = {node("h1")};
  VM a = vm("web-a", "h1");
  VM b = vm("web-b", "h1");
  b.metadata.labels["tier"] = "gold";
  VM c = vm("db-a", "h1", "db");
  c.metadata.labels["tier"] = "gold";

  EXPECT_THAT(names(compute_balancer_status(lb_of_set("web"), {c, b, a}, nodes, kNow)),
              ElementsAre("web-a", "web-b"));
  Balancer by_label = lb_of_set();
  by_label.spec.vmSet.clear();
  by_label.spec.selector.matchLabels = {{"tier", "gold"}};
  EXPECT_THAT(names(compute_balancer_status(by_label, {c, b, a}, nodes, kNow)),
              ElementsAre("db-a", "web-b"));
  by_label.spec.selector.matchLabels.clear();
  by_label.spec.selector.matchExpressions.push_back(
      SelectorRequirement{"app", "In", {"db", "cache"}});
  EXPECT_THAT(names(compute_balancer_status(by_label, {c, b, a}, nodes, kNow)),
              ElementsAre("db-a"));
  EXPECT_TRUE(balancer_selects(by_label, c));
  EXPECT_FALSE(balancer_selects(by_label, a));
}

TEST(BalancerEndpoints, WeightIsTheNodesHeadroomClippedAndLoadIsOverDistinctNodes) {
  // h1 at 25 %, h2 at 75 %, h3 at 100 % (clipped to 0.05), h4 over-used.
  std::vector<Node> nodes = {node("h1", 1), node("h2", 3), node("h3", 4), node("h4", 5)};
  std::vector<VM> vms = {vm("web-a", "h1"), vm("web-b", "h1"), vm("web-c", "h2"),
                         vm("web-d", "h3"), vm("web-e", "h4")};
  BalancerStatus st = compute_balancer_status(lb_of_set(), vms, nodes, kNow);
  ASSERT_EQ(st.endpoints.size(), 5u);
  EXPECT_DOUBLE_EQ(endpoint(st, "web-a")->weight, 0.75);
  EXPECT_DOUBLE_EQ(endpoint(st, "web-b")->weight, 0.75);
  EXPECT_DOUBLE_EQ(endpoint(st, "web-c")->weight, 0.25);
  EXPECT_DOUBLE_EQ(endpoint(st, "web-d")->weight, kMinEndpointWeight);
  EXPECT_DOUBLE_EQ(endpoint(st, "web-e")->weight, kMinEndpointWeight);
  // L over h1..h4 (each once, though h1 has two endpoints): (0.25+0.75+1+1.25)/4.
  EXPECT_DOUBLE_EQ(st.meanLoad, 0.8125);
  EXPECT_DOUBLE_EQ(st.loadSpread, 0.5625);

  // An idle node: full weight.
  st = compute_balancer_status(lb_of_set(), {vm("web-a", "h0")}, {node("h0")}, kNow);
  EXPECT_DOUBLE_EQ(st.endpoints.front().weight, 1.0);
  EXPECT_DOUBLE_EQ(st.meanLoad, 0);
  EXPECT_DOUBLE_EQ(st.loadSpread, 0);
}

VM replacement_of(const std::string& name, const std::string& old, const std::string& node_name) {
  VM r = vm(name, node_name);
  r.metadata.annotations[std::string(kReplacesAnnotation)] = old;
  return r;
}

TEST(BalancerEndpoints, DrainsAVmOnceItsReplacementIsPublishedAndKeepsTheStart) {
  std::vector<Node> nodes = {node("h1"), node("h2")};
  VM x = vm("web-x", "h1");
  VM r = replacement_of("web-r", "web-x", "h2");
  r.status.phase = "Starting";
  Balancer b = lb_of_set();
  b.status = compute_balancer_status(b, {x, r}, nodes, kNow);
  ASSERT_THAT(names(b.status), ElementsAre("web-x"));
  EXPECT_FALSE(b.status.endpoints[0].draining) << "the replacement is not published yet";

  r.status.phase = "Running";
  b.status = compute_balancer_status(b, {x, r}, nodes, kNow);
  ASSERT_THAT(names(b.status), ElementsAre("web-r", "web-x"));
  EXPECT_FALSE(endpoint(b.status, "web-r")->draining);
  const Endpoint* e = endpoint(b.status, "web-x");
  EXPECT_TRUE(e->draining);
  EXPECT_EQ(e->drainingSince, "2026-11-27T10:00:00.000Z");

  // Later passes keep when it started, and what the data plane reported.
  b.status.endpoints[1].drained = true;
  b.status.endpoints[1].activeConnections = 0;
  BalancerStatus later = compute_balancer_status(b, {x, r}, nodes, kNow + seconds(12));
  e = endpoint(later, "web-x");
  EXPECT_TRUE(e->draining);
  EXPECT_EQ(e->drainingSince, "2026-11-27T10:00:00.000Z");
  EXPECT_TRUE(e->drained);

  // The replacement's node dies: X is no longer draining; drained starts over.
  b.status = compute_balancer_status(b, {x, r}, {node("h1"), node("h2", 0, false)},
                                     kNow + seconds(20));
  e = endpoint(b.status, "web-x");
  EXPECT_FALSE(e->draining);
  EXPECT_TRUE(e->drainingSince.empty());
  EXPECT_FALSE(e->drained);
  b.status.endpoints[0].drained = true;  // a stale report in between
  b.status = compute_balancer_status(b, {x, r}, nodes, kNow + seconds(30));
  e = endpoint(b.status, "web-x");
  EXPECT_TRUE(e->draining);
  EXPECT_EQ(e->drainingSince, "2026-11-27T10:00:30.000Z");
  EXPECT_FALSE(e->drained) << "drained is reset when draining starts";
}

TEST(BalancerEndpoints, ReplacementOutsideTheBalancerDoesNotDrain) {
  VM x = vm("web-x", "h1");
  VM r = replacement_of("web-r", "web-x", "h2");
  r.metadata.labels["corral.io/vmset"] = "other";
  BalancerStatus st = compute_balancer_status(lb_of_set(), {x, r}, {node("h1"), node("h2")}, kNow);
  ASSERT_THAT(names(st), ElementsAre("web-x"));
  EXPECT_FALSE(st.endpoints[0].draining);
}

TEST(BalancerEndpoints, DataPlaneFieldsCarryOverOnlyForTheSameVmAndEpoch) {
  std::vector<Node> nodes = {node("h1"), node("h2")};
  std::vector<VM> vms = {vm("web-a", "h1"), vm("web-b", "h2")};
  Balancer b = lb_of_set();
  b.status = compute_balancer_status(b, vms, nodes, kNow);
  for (Endpoint& e : b.status.endpoints) {
    e.health = "Healthy";
    e.activeConnections = 7;
  }
  b.status.lastReportTime = "2026-11-27T09:59:59.000Z";
  b.status.reportedBy = "lb-1";

  vms[1].spec.epoch = 3;  // web-b re-placed: a new copy
  vms[1].status.epoch = 3;
  BalancerStatus st = compute_balancer_status(b, vms, nodes, kNow);
  EXPECT_EQ(endpoint(st, "web-a")->health, "Healthy");
  EXPECT_EQ(endpoint(st, "web-a")->activeConnections, 7);
  EXPECT_EQ(endpoint(st, "web-b")->health, "Unknown");
  EXPECT_EQ(endpoint(st, "web-b")->activeConnections, 0);
  EXPECT_EQ(endpoint(st, "web-b")->epoch, 3);
  EXPECT_EQ(st.lastReportTime, "2026-11-27T09:59:59.000Z");
  EXPECT_EQ(st.reportedBy, "lb-1");
}

TEST(BalancerEndpoints, ReadyConditionSaysWhyThereAreNoEndpoints) {
  Balancer b = lb_of_set();
  b.status.conditions.push_back(
      Condition{"Serving", "True", "Listening", "on :80", "2026-11-27T09:00:00.000Z", 3});
  BalancerStatus st = compute_balancer_status(b, {}, {node("h1")}, kNow);
  ASSERT_EQ(st.conditions.size(), 2u);
  EXPECT_EQ(st.conditions[0].type, "Serving") << "conditions of other types are kept";
  const Condition* ready = balancer_ready_condition(st);
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->status, "False");
  EXPECT_EQ(ready->reason, "NoEndpoints");
  EXPECT_EQ(ready->message, "vmSet web selects no VM");
  EXPECT_EQ(ready->lastTransitionTime, "2026-11-27T10:00:00.000Z");
  EXPECT_EQ(ready->observedGeneration, 3);

  // Selected, but none running: the message changes, the transition time does not.
  b.status = st;
  VM a = vm("web-a", "h1"), c = vm("web-c", "h1"), d = vm("web-d", "h1");
  a.status.phase = c.status.phase = "Starting";
  d.spec.epoch = 3;
  st = compute_balancer_status(b, {a, c, d}, {node("h1")}, kNow + seconds(5));
  ready = balancer_ready_condition(st);
  EXPECT_EQ(ready->message, "3 VMs selected, none Running in its current epoch on a Ready node");
  EXPECT_EQ(ready->lastTransitionTime, "2026-11-27T10:00:00.000Z");

  b.status = st;
  a.status.phase = c.status.phase = "Running";
  st = compute_balancer_status(b, {a, c, d}, {node("h1")}, kNow + seconds(9));
  ready = balancer_ready_condition(st);
  EXPECT_EQ(ready->status, "True");
  EXPECT_EQ(ready->reason, "EndpointsPublished");
  EXPECT_EQ(ready->message, "2 endpoints");
  EXPECT_EQ(ready->lastTransitionTime, "2026-11-27T10:00:09.000Z");

  Balancer by_label = lb_of_set();
  by_label.spec.vmSet.clear();
  by_label.spec.selector.matchLabels = {{"app", "none"}};
  st = compute_balancer_status(by_label, {a}, {node("h1")}, kNow);
  EXPECT_EQ(balancer_ready_condition(st)->message, "selector app=none selects no VM");
}

TEST(BalancerEndpoints, NothingChangedGivesAnIdenticalStatus) {
  std::vector<Node> nodes = {node("h2", 2), node("h1", 1)};
  std::vector<VM> vms = {vm("web-c", "h2"), vm("web-a", "h1"), replacement_of("web-b", "web-c", "h1")};
  Balancer b = lb_of_set();
  b.status = compute_balancer_status(b, vms, nodes, kNow);
  ASSERT_THAT(names(b.status), ElementsAre("web-a", "web-b", "web-c"));
  // Later, with the inputs in another order: equal, to the byte.
  std::vector<VM> shuffled = {vms[2], vms[0], vms[1]};
  BalancerStatus again =
      compute_balancer_status(b, shuffled, {nodes[1], nodes[0]}, kNow + seconds(60));
  EXPECT_EQ(to_json(Balancer{b.metadata, b.spec, again}).dump(), to_json(b).dump());
}

// ---- drain gate -------------------------------------------------------------------

Balancer publishing(const std::string& name, const std::string& vm_name, bool draining,
                    const std::string& since = "", bool drained = false, int drain_seconds = 30) {
  Balancer b = lb_of_set();
  b.metadata.name = name;
  b.spec.timeouts.drainSeconds = drain_seconds;
  Endpoint e;
  e.vm = vm_name;
  e.draining = draining;
  e.drainingSince = since;
  e.drained = drained;
  b.status.endpoints.push_back(e);
  return b;
}

TEST(DrainGate, BalancersThatDoNotPublishTheVmDoNotHoldTheMove) {
  DrainGate g = drain_gate("web-x", {publishing("a", "web-y", false)}, kNow, kNow);
  EXPECT_TRUE(g.may_delete);
  EXPECT_TRUE(g.holding.empty());
  EXPECT_TRUE(drain_gate("web-x", {}, kNow, kNow).may_delete);
}

TEST(DrainGate, WaitsForTheReplacementToBePublished) {
  DrainGate g = drain_gate("web-x", {publishing("a", "web-x", false)}, kNow + seconds(29), kNow);
  EXPECT_FALSE(g.may_delete);
  EXPECT_THAT(g.holding, ElementsAre("a"));
  EXPECT_EQ(g.message, "waiting for its replacement to be published by lb/a (at most 30s)");
  // A replacement never published holds the move for drainSeconds, no more.
  EXPECT_TRUE(drain_gate("web-x", {publishing("a", "web-x", false)}, kNow + seconds(30), kNow).may_delete);
}

TEST(DrainGate, DeletesAfterDrainSecondsOrOnceDrained) {
  const std::string since = "2026-11-27T10:00:00.000Z";
  Balancer b = publishing("a", "web-x", true, since);
  DrainGate g = drain_gate("web-x", {b}, kNow + seconds(29), kNow);
  EXPECT_FALSE(g.may_delete);
  EXPECT_EQ(g.message, "draining from lb/a (until drained, at most 30s)");
  EXPECT_TRUE(drain_gate("web-x", {b}, kNow + seconds(30), kNow).may_delete);
  EXPECT_TRUE(drain_gate("web-x", {publishing("a", "web-x", true, since, true)}, kNow, kNow).may_delete);
  EXPECT_TRUE(drain_gate("web-x", {publishing("a", "web-x", true, since, false, 0)}, kNow, kNow).may_delete);
  EXPECT_TRUE(drain_gate("web-x", {publishing("a", "web-x", true, "garbage")}, kNow, kNow).may_delete);
}

TEST(DrainGate, EveryPublishingBalancerMustAgree) {
  const std::string since = "2026-11-27T10:00:00.000Z";
  std::vector<Balancer> lbs = {publishing("b", "web-x", true, since, false, 60),
                               publishing("a", "web-x", true, since, true),
                               publishing("c", "web-x", false)};
  DrainGate g = drain_gate("web-x", lbs, kNow + seconds(45), kNow + seconds(20));
  EXPECT_FALSE(g.may_delete);
  EXPECT_THAT(g.holding, ElementsAre("b", "c"));
  EXPECT_THAT(g.message, HasSubstr("draining from lb/b (until drained, at most 60s); waiting for "
                                   "its replacement to be published by lb/c (at most 30s)"));
}

}  // namespace reconcile_endpoints_test
}  // namespace corral::reconcile
