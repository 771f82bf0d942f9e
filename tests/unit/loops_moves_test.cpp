// The move loop through the whole ControllerManager on a memory store, with a
// FakeClock: a drain and a rebalance made before broken — the replacement is
// created and bound first, the old VM deleted only once the replacement runs
// and is Ready — with their Events. Agents are played by the test (status
// writes); nothing sleeps.
#include <gtest/gtest.h>

#include "api/annotations.h"
#include "tests/unit/loops_fixtures.h"

namespace corral::loops::testing {
namespace loops_moves_test {

class LoopsMoves : public MovesLoopTest {
 protected:
  void set_usage(const std::string& node, double cpu) {
    Node n = get<Node>(node);
    n.status.usage.cpu = Quantity::from_milli(static_cast<int64_t>(cpu * 1000));
    ASSERT_TRUE(store_->update_status(Node::kKind, to_json(n)).ok());
  }
  std::map<std::string, std::string> placement() {
    std::map<std::string, std::string> out;
    for (const VM& vm : list<VM>()) out[vm.metadata.name] = vm.spec.nodeName;
    return out;
  }
  bool has_event(const std::string& object, const std::string& reason) {
    for (const Event& e : events_about(object))
      if (e.reason == reason) return true;
    return false;
  }
};

TEST_F(LoopsMoves, DrainReplacesEachVmBeforeDeletingIt) {
  add_node("a");
  add_node("b");
  add_pool("web");
  add_vmset("app", 2);
  pass_renewing({"a", "b"});
  report_all_running();
  pass_renewing({"a", "b"});
  auto before = placement();
  ASSERT_EQ(before.size(), 2u);
  std::string on_a;
  for (const auto& [vm, node] : before)
    if (node == "a") on_a = vm;
  ASSERT_FALSE(on_a.empty());

  Node a = get<Node>("a");
  a.spec.drain = true;
  a.spec.unschedulable = true;
  update(a);
  pass_renewing({"a", "b"});
  // The replacement exists and is bound to b; the old VM still runs on a.
  auto during = placement();
  ASSERT_EQ(during.size(), 3u);
  EXPECT_EQ(during[on_a], "a");
  std::string replacement;
  for (const VM& vm : list<VM>())
    if (vm.metadata.annotations.count(std::string(kReplacesAnnotation))) replacement = vm.metadata.name;
  ASSERT_FALSE(replacement.empty());
  EXPECT_EQ(during[replacement], "b");
  EXPECT_TRUE(has_event("app", "MoveStarted"));
  // Not Ready yet: nothing is deleted, however many passes.
  pass_renewing({"a", "b"});
  EXPECT_EQ(placement().size(), 3u);

  report_running(replacement);
  pass_renewing({"a", "b"});
  auto after = placement();
  EXPECT_EQ(after.size(), 2u);
  EXPECT_EQ(after.count(on_a), 0u) << "the old VM is deleted";
  EXPECT_EQ(after[replacement], "b");
  VM r = get<VM>(replacement);
  EXPECT_EQ(r.metadata.annotations.count(std::string(kReplacesAnnotation)), 0u)
      << "a finished move's marks are stripped";
  EXPECT_EQ(r.metadata.annotations.count(std::string(kMovedAtAnnotation)), 1u);
  EXPECT_TRUE(has_event("app", "Moved"));
  pass_renewing({"a", "b"});
  EXPECT_TRUE(has_event("a", "Drained"));
  EXPECT_EQ(get<VMSet>("app").status.replicas, 2);
}

// maxUnavailable 1: a drain of a node with two of the set's VMs moves one,
// and the second only once the first move is over — the budget the loop
// keeps between passes follows the VMs' changes.
TEST_F(LoopsMoves, ADrainMovesOneVmAtATimeAsTheBudgetFreesUp) {
  add_node("a");
  add_pool("web");
  add_vmset("app", 2);
  pass_renewing({"a"});
  report_all_running();
  pass_renewing({"a"});
  add_node("b");
  pass_renewing({"a", "b"});
  ASSERT_EQ(placement().size(), 2u);
  for (const auto& [vm, node] : placement()) ASSERT_EQ(node, "a") << vm;

  Node a = get<Node>("a");
  a.spec.drain = true;
  a.spec.unschedulable = true;
  update(a);
  auto replacements = [&] {
    std::vector<std::string> out;
    for (const VM& vm : list<VM>())
      if (vm.metadata.annotations.count(std::string(kReplacesAnnotation))) out.push_back(vm.metadata.name);
    return out;
  };
  pass_renewing({"a", "b"});
  auto first = replacements();
  ASSERT_EQ(first.size(), 1u);
  pass_renewing({"a", "b"});
  pass_renewing({"a", "b"});
  EXPECT_EQ(replacements().size(), 1u) << "the budget allows one VM in motion";

  report_running(first[0]);
  pass_renewing({"a", "b"});  // the first move completes
  pass_renewing({"a", "b"});  // and the budget it held is free again
  auto second = replacements();
  ASSERT_EQ(second.size(), 1u) << "the second VM moves once the first move is over";
  EXPECT_NE(second[0], first[0]);
  report_running(second[0]);
  pass_renewing({"a", "b"});
  pass_renewing({"a", "b"});
  for (const auto& [vm, node] : placement()) EXPECT_EQ(node, "b") << vm;
  EXPECT_EQ(placement().size(), 2u);
}

TEST_F(LoopsMoves, RebalanceWaitsOutTheHoldThenMovesToTheEmptyNode) {
  add_node("a");
  add_node("b");
  Pool p;
  p.metadata.name = "web";
  p.spec.nodeSelector = {{"role", "web"}};
  p.spec.rebalance.enabled = true;
  p.spec.rebalance.maxImbalance = 0.2;
  p.spec.rebalance.holdSeconds = 10;
  p.spec.rebalance.intervalSeconds = 1;
  p.spec.rebalance.maxMovesPerRound = 1;
  create(p);
  // Everything on a: b cordoned while the set is placed.
  Node b = get<Node>("b");
  b.spec.unschedulable = true;
  update(b);
  add_vmset("app", 2);
  pass_renewing({"a", "b"});
  report_all_running();
  b = get<Node>("b");
  b.spec.unschedulable = false;
  update(b);
  set_usage("a", 2);  // 0.5 vs 0: both 0.25 off the mean, out of a 0.2 band
  set_usage("b", 0);
  pass_renewing({"a", "b"});
  EXPECT_EQ(placement().size(), 2u) << "out of band, but not for holdSeconds yet";
  clock_.advance(5s);
  pass_renewing({"a", "b"});
  EXPECT_EQ(placement().size(), 2u);
  clock_.advance(6s);
  pass_renewing({"a", "b"});
  auto during = placement();
  ASSERT_EQ(during.size(), 3u);
  std::string replacement;
  for (const VM& vm : list<VM>())
    if (vm.metadata.annotations.count(std::string(kReplacesAnnotation))) {
      replacement = vm.metadata.name;
      EXPECT_EQ(vm.metadata.annotations.at(std::string(kTargetNodeAnnotation)), "b");
      EXPECT_NE(vm.metadata.annotations.at(std::string(kMoveReasonAnnotation)).find("rebalance"),
                std::string::npos);
    }
  ASSERT_FALSE(replacement.empty());
  EXPECT_EQ(during[replacement], "b");
  clock_.advance(1s);
  pass_renewing({"a", "b"});
  EXPECT_EQ(placement().size(), 3u) << "maxMovesPerRound 1: one move in flight at most";

  report_running(replacement);
  pass_renewing({"a", "b"});
  auto after = placement();
  ASSERT_EQ(after.size(), 2u);
  int on_a = 0, on_b = 0;
  for (const auto& [vm, node] : after) (node == "a" ? on_a : on_b)++;
  EXPECT_EQ(on_a, 1);
  EXPECT_EQ(on_b, 1);
  EXPECT_EQ(counter("corral_rebalance_rounds_total"), 1);
}

}  // namespace loops_moves_test
}  // namespace corral::loops::testing
