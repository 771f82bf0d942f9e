// corralctl rebalance plan against the fake API: the controller's planner run
// client side on the listed objects, printed; nothing written.
#include <gtest/gtest.h>

#include "api/kinds.h"
#include "cli/rebalance_plan.h"
#include "controller/reconcile/vmset_reconcile.h"
#include "tests/unit/cli_test_context.h"

namespace corral::cli {
namespace rebalance_plan_command_test {

using testing::CliHarness;

Node node(const std::string& name, int64_t used_milli) {
  Node n;
  n.metadata.name = name;
  n.status.phase = "Ready";
  n.status.conditions.push_back(Condition{"Ready", "True", "", "", "", 0});
  n.status.allocatable.cpu = Quantity::from_milli(4000);
  n.status.allocatable.memory = Quantity::from_bytes(int64_t{8} << 30);
  n.status.capacity = n.status.allocatable;
  n.status.usage.cpu = Quantity::from_milli(used_milli);
  return n;
}

// Six VMs of 500m measured use on h1 (load 0.75), h2 empty: L 0.375.
void skewed_cluster(CliHarness& h, bool enabled) {
  h.client.put(to_json(node("h1", 3000)));
  h.client.put(to_json(node("h2", 0)));
  Pool p;
  p.metadata.name = "web";
  p.spec.rebalance.enabled = enabled;
  h.client.put(to_json(p));
  VMSet set;
  set.metadata.name = "app";
  set.metadata.uid = "uid-app";
  set.spec.pool = "web";
  set.spec.replicas = 6;
  set.spec.disruption.maxUnavailable = IntOrString{false, 6, ""};
  set.spec.templ.spec.resources.cpu = Quantity::from_milli(100);
  set.spec.templ.spec.resources.memory = Quantity::from_bytes(32 << 20);
  h.client.put(to_json(set));
  for (int i = 0; i < 6; ++i) {
    VM vm = reconcile::new_vm_for(set, "app-" + std::to_string(i));
    vm.spec.nodeName = "h1";
    vm.spec.epoch = 1;
    vm.status.phase = "Running";
    vm.status.epoch = 1;
    vm.status.nodeName = "h1";
    vm.status.usage.cpu = Quantity::from_milli(500);
    vm.status.conditions.push_back(Condition{"Ready", "True", "", "", "", 0});
    h.client.put(to_json(vm));
  }
}

TEST(RebalancePlan, PrintsTheMovesWithDeviationsAndWritesNothing) {
  CliHarness h;
  skewed_cluster(h, true);
  RebalancePlanOptions o;
  o.pool = "web";
  o.max_moves = kUnlimitedMoves;
  EXPECT_EQ(run_rebalance_plan(h.ctx, o), 0) << h.err.str();
  const std::string out = h.out.str();
  // Two moves of 0.125 bring 0.75/0 to 0.5/0.25: both inside ±0.2 of 0.375.
  EXPECT_NE(out.find("max deviation 0.375 -> 0.125; 2 moves (lower bound 2)"), std::string::npos)
      << out;
  EXPECT_NE(out.find("h1     h2   +0.375 -> +0.250"), std::string::npos) << out;
  EXPECT_EQ(out.find("rebalance is disabled"), std::string::npos);
  EXPECT_EQ(h.client.writes(), 0u);
}

TEST(RebalancePlan, MaxMovesAndADisabledPoolAreSaid) {
  CliHarness h;
  skewed_cluster(h, false);
  RebalancePlanOptions o;
  o.pool = "web";
  o.max_moves = 1;
  EXPECT_EQ(run_rebalance_plan(h.ctx, o), 0) << h.err.str();
  EXPECT_NE(h.out.str().find("rebalance is disabled for this pool"), std::string::npos);
  EXPECT_NE(h.out.str().find("1 move (lower bound 2)"), std::string::npos) << h.out.str();
}

TEST(RebalancePlan, AnUnknownPoolIsNotFound) {
  CliHarness h;
  RebalancePlanOptions o;
  o.pool = "nope";
  EXPECT_EQ(run_rebalance_plan(h.ctx, o), 1);
  EXPECT_NE(h.err.str().find("pools \"nope\" not found"), std::string::npos) << h.err.str();
}

}  // namespace rebalance_plan_command_test
}  // namespace corral::cli
