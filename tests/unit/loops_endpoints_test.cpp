// The endpoints loop and the move loop's drain handshake through the whole
// ControllerManager on a memory store, with a FakeClock: a Balancer publishes
// the VMs of its set that run in their epoch on Ready nodes; a moved VM is
// deleted only after its endpoint drained (reported drained, or drainSeconds
// after draining was published). Agents and the data plane are played by the
// test (status writes); nothing sleeps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/annotations.h"
#include "tests/unit/loops_fixtures.h"

namespace corral::loops::testing {
namespace loops_endpoints_test {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class LoopsEndpoints : public MovesLoopTest {
 protected:
  void add_balancer(const std::string& name, const std::string& vmset, int drain_seconds = 30) {
    Balancer b;
    b.metadata.name = name;
    b.spec.vmSet = vmset;
    b.spec.listen = "0.0.0.0:8080";
    b.spec.timeouts.drainSeconds = drain_seconds;
    create(b);
  }
  std::vector<std::string> endpoints(const std::string& lb) {
    std::vector<std::string> out;
    for (const Endpoint& e : get<Balancer>(lb).status.endpoints) out.push_back(e.vm);
    return out;
  }
  Endpoint endpoint(const std::string& lb, const std::string& vm) {
    for (const Endpoint& e : get<Balancer>(lb).status.endpoints)
      if (e.vm == vm) return e;
    ADD_FAILURE() << "lb/" << lb << " does not publish vm/" << vm;
    return {};
  }
  Condition ready(const std::string& lb) {
    for (const Condition& c : get<Balancer>(lb).status.conditions)
      if (c.type == "Ready") return c;
    return {};
  }
  // The data plane: the endpoint has no connection left.
  void report_drained(const std::string& lb, const std::string& vm) {
    Balancer b = get<Balancer>(lb);
    for (Endpoint& e : b.status.endpoints)
      if (e.vm == vm) e.drained = true;
    b.status.reportedBy = "lb-1";
    ASSERT_TRUE(store_->update_status(Balancer::kKind, to_json(b)).ok());
  }
  // Events about the object other than its placements (Scheduled).
  std::vector<Event> told_about(const std::string& object) {
    std::vector<Event> out;
    for (Event& e : events_about(object))
      if (e.reason != "Scheduled") out.push_back(std::move(e));
    return out;
  }
  std::vector<std::string> reasons(const std::string& object) {
    std::vector<std::string> out;
    for (const Event& e : told_about(object)) out.push_back(e.reason);
    return out;
  }
  std::string vm_on(const std::string& node) {
    for (const VM& vm : list<VM>())
      if (vm.spec.nodeName == node) return vm.metadata.name;
    return "";
  }
  // Starts a drain of `node` and runs the replacement of its one VM until it
  // is Running and Ready. Returns {old VM, replacement}.
  std::pair<std::string, std::string> move_off(const std::string& node,
                                               const std::vector<std::string>& alive) {
    const std::string old = vm_on(node);
    Node n = get<Node>(node);
    n.spec.drain = true;
    n.spec.unschedulable = true;
    update(n);
    pass_renewing(alive);
    std::string replacement;
    for (const VM& vm : list<VM>())
      if (vm.metadata.annotations.count(std::string(kReplacesAnnotation)))
        replacement = vm.metadata.name;
    EXPECT_FALSE(replacement.empty());
    if (!replacement.empty()) report_running(replacement);
    return {old, replacement};
  }
  bool exists(const std::string& vm) { return store_->get(VM::kKind, vm).ok(); }
};

TEST_F(LoopsEndpoints, PublishesVmsRunningInTheirEpochAndDropsThoseOfADeadNode) {
  add_node("a");
  add_node("b");
  add_node("c");
  add_pool("web");
  add_vmset("app", 3);
  add_balancer("front", "app");
  pass_renewing({"a", "b", "c"});
  EXPECT_TRUE(endpoints("front").empty());
  EXPECT_EQ(ready("front").status, "False");
  EXPECT_EQ(ready("front").message,
            "3 VMs selected, none Running in its current epoch on a Ready node");
  // New, its VMSet's VMs on their way: the condition says so, no Warning.
  EXPECT_THAT(reasons("front"), ::testing::IsEmpty());

  report_all_running();
  pass_renewing({"a", "b", "c"});
  ASSERT_THAT(endpoints("front"), SizeIs(3));
  EXPECT_EQ(ready("front").status, "True");
  EXPECT_EQ(ready("front").message, "3 endpoints");
  const std::string on_c = vm_on("c");
  Endpoint e = endpoint("front", on_c);
  EXPECT_EQ(e.node, "c");
  EXPECT_EQ(e.address, "c:9000");
  EXPECT_EQ(e.health, "Unknown");
  EXPECT_DOUBLE_EQ(e.weight, 1.0);
  EXPECT_GT(counter("corral_balancer_status_writes_total"), 0);

  // Nothing changed: nothing written.
  const std::string version = get<Balancer>("front").metadata.resourceVersion;
  pass_renewing({"a", "b", "c"});
  EXPECT_EQ(get<Balancer>("front").metadata.resourceVersion, version);

  // c stops renewing; past the grace no peer reaches it: NotReady, and its
  // endpoint is gone in that same pass.
  for (auto t = 0ms; t < 2250ms; t += 250ms) {
    clock_.advance(250ms);
    pass_renewing({"a", "b"});
  }
  EXPECT_THAT(endpoints("front"), SizeIs(3)) << "not judged yet";
  ASSERT_TRUE(prober_.answer("c", false));
  clock_.advance(10ms);
  pass_renewing({"a", "b"});
  ASSERT_EQ(get<Node>("c").status.phase, "NotReady");
  EXPECT_THAT(endpoints("front"), SizeIs(2));
  for (const std::string& vm : endpoints("front")) EXPECT_NE(vm, on_c);
  EXPECT_EQ(ready("front").message, "2 endpoints");

  // Every endpoint gone (the set scaled to 0): now it is worth a warning.
  VMSet app = get<VMSet>("app");
  app.spec.replicas = 0;
  update(app);
  for (int i = 0; i < 5 && !endpoints("front").empty(); ++i) pass_renewing({"a", "b"});
  EXPECT_TRUE(endpoints("front").empty());
  EXPECT_THAT(reasons("front"), ElementsAre("NoEndpoints"));
}

TEST_F(LoopsEndpoints, ABalancerWhoseVmSetDoesNotExistIsAWarningAtOnce) {
  add_node("a");
  add_pool("web");
  add_balancer("lost", "no-such-set");
  pass_renewing({"a"});
  EXPECT_EQ(ready("lost").message, "vmSet no-such-set selects no VM");
  EXPECT_THAT(reasons("lost"), ElementsAre("NoEndpoints"));
}

TEST_F(LoopsEndpoints, MoveWaitsForTheDrainThenDeletesAfterDrainSeconds) {
  add_node("a");
  add_node("b");
  add_pool("web");
  add_vmset("app", 2);
  add_balancer("front", "app", 30);
  pass_renewing({"a", "b"});
  report_all_running();
  pass_renewing({"a", "b"});
  ASSERT_THAT(endpoints("front"), SizeIs(2));

  auto [old, replacement] = move_off("a", {"a", "b"});
  pass_renewing({"a", "b"});
  // The replacement runs and is Ready, but the old VM is published and was
  // not draining when the move loop looked: held; now draining.
  EXPECT_TRUE(exists(old));
  ASSERT_THAT(endpoints("front"), SizeIs(3));
  Endpoint x = endpoint("front", old);
  EXPECT_TRUE(x.draining);
  EXPECT_EQ(x.drainingSince, format_time(clock_.now()));
  EXPECT_FALSE(endpoint("front", replacement).draining);
  EXPECT_THAT(reasons(old), ElementsAre("EndpointDraining"));

  pass_renewing({"a", "b"});
  EXPECT_TRUE(exists(old));
  clock_.advance(29s);
  pass_renewing({"a", "b"});
  EXPECT_TRUE(exists(old)) << "29 s of a 30 s drain";
  std::vector<Event> told = told_about(old);
  ASSERT_THAT(told, SizeIs(2)) << "once per reason, not once per pass";
  std::vector<std::string> messages = {told[0].message, told[1].message};
  EXPECT_THAT(messages, ::testing::UnorderedElementsAre(
                            HasSubstr("waiting for its replacement to be published by lb/front"),
                            HasSubstr("draining from lb/front (until drained, at most 30s)")));

  clock_.advance(1s);
  pass_renewing({"a", "b"});
  EXPECT_FALSE(exists(old));
  EXPECT_TRUE(exists(replacement));
  EXPECT_THAT(reasons("app"), ::testing::Contains("Moved"));
  // The deleted VM left the Balancer in the same pass.
  EXPECT_THAT(endpoints("front"), SizeIs(2));
  for (const Endpoint& e : get<Balancer>("front").status.endpoints) EXPECT_FALSE(e.draining);
}

TEST_F(LoopsEndpoints, DrainedReportCompletesTheMoveAndALongDrainIsNotCancelled) {
  add_node("a");
  add_node("b");
  add_pool("web");
  add_vmset("app", 2);
  add_balancer("front", "app", 600);  // longer than the move's 300 s timeout
  pass_renewing({"a", "b"});
  report_all_running();
  pass_renewing({"a", "b"});

  auto [old, replacement] = move_off("a", {"a", "b"});
  pass_renewing({"a", "b"});
  ASSERT_TRUE(endpoint("front", old).draining);
  clock_.advance(310s);
  pass_renewing({"a", "b"});
  EXPECT_TRUE(exists(old));
  EXPECT_TRUE(exists(replacement)) << "waiting on a drain never cancels the move";
  EXPECT_THAT(reasons("app"), ::testing::Not(::testing::Contains("MoveFailed")));

  report_drained("front", old);
  pass_renewing({"a", "b"});
  EXPECT_FALSE(exists(old));
  EXPECT_TRUE(exists(replacement));
  EXPECT_EQ(get<Balancer>("front").status.reportedBy, "lb-1") << "the data plane's fields are kept";
}

TEST_F(LoopsEndpoints, BalancerThatDoesNotSelectTheVmDoesNotHoldTheMove) {
  add_node("a");
  add_node("b");
  add_pool("web");
  add_vmset("app", 2);
  add_vmset("other", 1);
  add_balancer("front", "other", 600);
  pass_renewing({"a", "b"});
  report_all_running();
  pass_renewing({"a", "b"});
  // Move app's VM off a: lb/front does not publish it (other's VM, if it is
  // on a too, is held; app's is not).
  std::string old;
  for (const VM& vm : vms_of("app"))
    if (vm.spec.nodeName == "a") old = vm.metadata.name;
  ASSERT_FALSE(old.empty());
  Node n = get<Node>("a");
  n.spec.drain = true;
  n.spec.unschedulable = true;
  update(n);
  pass_renewing({"a", "b"});
  for (const VM& vm : list<VM>())
    if (vm.metadata.annotations.count(std::string(kReplacesAnnotation)))
      report_running(vm.metadata.name);
  pass_renewing({"a", "b"});
  EXPECT_FALSE(exists(old));
  EXPECT_TRUE(told_about(old).empty());
}

}  // namespace loops_endpoints_test
}  // namespace corral::loops::testing
