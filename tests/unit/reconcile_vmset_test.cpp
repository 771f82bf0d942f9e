// The VMSet decision core: scale up and down, worst-first removal, restart
// policies, and the status counts and availability formula.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "controller/reconcile/vmset_reconcile.h"

namespace corral::reconcile {
namespace reconcile_vmset_test {

using ::testing::ElementsAre;

constexpr int64_t kGi = int64_t{1024} * 1024 * 1024;

VMSet make_set(int32_t replicas) {
  VMSet s;
  s.metadata.name = "web";
  s.metadata.uid = "uid-web";
  s.metadata.generation = 4;
  s.spec.pool = "pool";
  s.spec.replicas = replicas;
  s.spec.templ.metadata.labels = {{"app", "web"}};
  s.spec.templ.spec.resources.cpu = Quantity::from_milli(1000);
  s.spec.templ.spec.resources.memory = Quantity::from_bytes(kGi);
  s.spec.restartPriority = 7;
  s.spec.fencing = "selfFence";
  return s;
}

VM owned_vm(const std::string& name, const std::string& node, const std::string& phase,
            const std::string& created = "2026-11-25T10:00:00.000Z") {
  VM v = new_vm_for(make_set(1), name);
  v.metadata.creationTimestamp = created;
  v.spec.nodeName = node;
  v.status.phase = phase;
  return v;
}

Node make_node(const std::string& name, double load = 0, bool ready = true,
               double availability = 1) {
  Node n;
  n.metadata.name = name;
  n.status.phase = ready ? "Ready" : "NotReady";
  n.status.conditions.push_back(Condition{"Ready", ready ? "True" : "False", "", "", "", 0});
  n.status.allocatable.cpu = Quantity::from_milli(10000);
  n.status.allocatable.memory = Quantity::from_bytes(10 * kGi);
  n.status.usage.cpu = Quantity::from_milli(static_cast<int64_t>(load * 10000));
  n.status.availability = availability;
  return n;
}

VmSetPlan run(const VMSet& set, const std::vector<VM>& vms, const std::vector<Node>& nodes,
              uint64_t seed = 42) {
  VmSetInput in;
  in.vmset = &set;
  in.vms = pointers_to(vms);
  in.nodes = pointers_to(nodes);
  in.seed = seed;
  return reconcile_vmset(in);
}

std::vector<std::string> removed(const VmSetPlan& plan) {
  std::vector<std::string> out;
  for (const VmDeletion& d : plan.remove) out.push_back(d.vm);
  return out;
}

TEST(VmSetReconcile, ScaleUpCreatesNamedOwnedVMsFromTheTemplate) {
  const VMSet set = make_set(3);
  std::vector<VM> others = {owned_vm("unrelated", "", "Pending")};
  others[0].metadata.ownerReferences[0].uid = "uid-other";
  VmSetPlan plan = run(set, others, {});
  ASSERT_EQ(plan.create.size(), 3u);
  EXPECT_TRUE(plan.remove.empty());
  std::set<std::string> names;
  for (const VM& vm : plan.create) {
    EXPECT_TRUE(
        std::regex_match(vm.metadata.name, std::regex("web-[bcdfghjklmnpqrstvwxz2456789]{5}")))
        << vm.metadata.name;
    names.insert(vm.metadata.name);
    EXPECT_EQ(vm.metadata.labels.at("app"), "web");
    EXPECT_EQ(vm.metadata.labels.at("corral.io/vmset"), "web");
    ASSERT_EQ(vm.metadata.ownerReferences.size(), 1u);
    EXPECT_EQ(vm.metadata.ownerReferences[0].kind, "VMSet");
    EXPECT_EQ(vm.metadata.ownerReferences[0].name, "web");
    EXPECT_EQ(vm.metadata.ownerReferences[0].uid, "uid-web");
    EXPECT_TRUE(vm.metadata.ownerReferences[0].controller);
    EXPECT_EQ(vm.spec.priority, 7);
    EXPECT_EQ(vm.spec.fencing, "selfFence");
    EXPECT_EQ(vm.spec.resources.cpu.milli, 1000);
    EXPECT_TRUE(vm.spec.nodeName.empty());
  }
  EXPECT_EQ(names.size(), 3u);
  // Deterministic for a seed, different for another.
  VmSetPlan again = run(set, others, {});
  EXPECT_EQ(again.create[0].metadata.name, plan.create[0].metadata.name);
  EXPECT_NE(run(set, others, {}, 43).create[0].metadata.name, plan.create[0].metadata.name);
  // The unrelated VM is not the set's.
  EXPECT_EQ(plan.status.replicas, 0);
}

TEST(VmSetReconcile, NewNamesAvoidExistingOnes) {
  const VMSet set = make_set(1);
  const std::string first = run(set, {}, {}).create[0].metadata.name;
  std::vector<VM> vms = {owned_vm(first, "", "Pending")};
  vms[0].metadata.ownerReferences.clear();  // someone else's VM holding that name
  EXPECT_NE(run(set, vms, {}).create[0].metadata.name, first);
}

TEST(VmSetReconcile, ScaleDownRemovesTheWorstFirst) {
  const std::vector<Node> nodes = {make_node("n1", 0.2), make_node("n2", 0.9),
                                   make_node("n3", 0.1, /*ready=*/false)};
  const std::vector<VM> vms = {
      owned_vm("healthy-old", "n1", "Running", "2026-11-25T10:00:00.000Z"),
      owned_vm("healthy-new", "n1", "Running", "2026-11-25T11:00:00.000Z"),
      owned_vm("loaded", "n2", "Running", "2026-11-25T09:00:00.000Z"),
      owned_vm("on-notready", "n3", "Running"),
      owned_vm("on-unknown-node", "gone", "Running"),
      owned_vm("pending", "", "Pending"),
      owned_vm("failed", "n1", "Failed"),
      owned_vm("lost", "n3", "Lost"),
      owned_vm("leaving", "n1", "Terminating"),
  };
  VmSetPlan plan = run(make_set(1), vms, nodes);
  EXPECT_THAT(removed(plan), ElementsAre("lost", "failed", "pending", "on-notready",
                                         "on-unknown-node", "loaded", "healthy-new"));
  EXPECT_TRUE(plan.create.empty());
  EXPECT_EQ(plan.remove[0].reason, "scale-down 8 → 1: Lost");
  EXPECT_EQ(plan.status.replicas, 8);  // Terminating does not count
}

TEST(VmSetReconcile, RestartPoliciesDecideWhichFailedVMsAreReplaced) {
  std::vector<VM> vms = {owned_vm("always", "n1", "Failed"),
                         owned_vm("onfailure-crash", "n1", "Failed"),
                         owned_vm("onfailure-clean", "n1", "Failed"),
                         owned_vm("never", "n1", "Failed"), owned_vm("lost", "n1", "Lost")};
  vms[0].status.lastError = "command not found";
  vms[1].spec.restartPolicy = "OnFailure";
  vms[1].status.lastError = "exit code 1";
  vms[2].spec.restartPolicy = "OnFailure";  // clean exit: lastError empty
  vms[3].spec.restartPolicy = "Never";
  vms[3].status.lastError = "exit code 2";
  VmSetPlan plan = run(make_set(5), vms, {make_node("n1")});
  // In worst-first order (equal rank, load and age: by name, descending).
  EXPECT_THAT(removed(plan), ElementsAre("onfailure-crash", "always"));
  ASSERT_EQ(plan.replacements.size(), 2u);
  EXPECT_EQ(plan.replacements[0].failed_vm, "onfailure-crash");
  EXPECT_EQ(plan.replacements[1].failed_vm, "always");
  EXPECT_EQ(plan.replacements[1].reason,
            "replaced: Failed (command not found), restartPolicy Always");
  ASSERT_EQ(plan.create.size(), 2u);  // Lost is re-placed by the scheduler, not here
  EXPECT_EQ(plan.create[0].metadata.name, plan.replacements[0].new_vm);
  EXPECT_EQ(plan.create[1].metadata.name, plan.replacements[1].new_vm);

  EXPECT_TRUE(replaces_failed(vms[0]));
  EXPECT_TRUE(replaces_failed(vms[1]));
  EXPECT_FALSE(replaces_failed(vms[2]));
  EXPECT_FALSE(replaces_failed(vms[3]));
  EXPECT_FALSE(replaces_failed(vms[4]));
}

TEST(VmSetReconcile, ScaleDownPrefersDeletingFailedOverReplacingThem) {
  std::vector<VM> vms = {owned_vm("ok", "n1", "Running"), owned_vm("crashed", "n1", "Failed")};
  VmSetPlan plan = run(make_set(1), vms, {make_node("n1")});
  EXPECT_THAT(removed(plan), ElementsAre("crashed"));
  EXPECT_TRUE(plan.create.empty());
  EXPECT_TRUE(plan.replacements.empty());
}

TEST(VmSetReconcile, StatusCountsAndAvailability) {
  const std::vector<Node> nodes = {make_node("n1", 0, true, 0.9), make_node("n2", 0, true, 0.8),
                                   make_node("n3", 0, true, 0.5)};
  std::vector<VM> vms = {owned_vm("a", "n1", "Running"),         owned_vm("b", "n1", "Running"),
                         owned_vm("c", "n2", "Running"),         owned_vm("stale", "n3", "Running"),
                         owned_vm("starting", "n3", "Starting"), owned_vm("pending", "", "Pending"),
                         owned_vm("lost", "n3", "Lost")};
  for (VM& v : vms) v.spec.epoch = v.status.epoch = 2;
  vms[3].status.epoch = 1;  // an old copy still reporting: not running in its epoch
  vms[0].status.conditions.push_back(Condition{"Ready", "True", "", "", "", 0});
  vms[2].status.conditions.push_back(Condition{"Ready", "False", "", "", "", 0});
  VmSetPlan plan = run(make_set(7), vms, nodes);
  EXPECT_TRUE(plan.create.empty());
  EXPECT_TRUE(plan.remove.empty());
  EXPECT_EQ(plan.status.observedGeneration, 4);
  EXPECT_EQ(plan.status.replicas, 7);
  EXPECT_EQ(plan.status.scheduled, 5);  // not pending, not lost
  EXPECT_EQ(plan.status.running, 3);
  EXPECT_EQ(plan.status.ready, 1);
  // Distinct hosts n1 (0.9) and n2 (0.8): 1 − 0.1 × 0.2 = 0.98.
  EXPECT_DOUBLE_EQ(plan.status.availability, 1.0 - 0.1 * 0.2);
}

TEST(VmSetReconcile, AvailabilityFormula) {
  const std::vector<Node> nodes = {make_node("n1", 0, true, 0.99), make_node("n2", 0, true, 0.95)};
  VM a = owned_vm("a", "n1", "Running"), b = owned_vm("b", "n2", "Running"),
     c = owned_vm("c", "unknown", "Running");
  EXPECT_DOUBLE_EQ(vmset_availability({}, nodes), 0.0);
  EXPECT_DOUBLE_EQ(vmset_availability({&a}, nodes), 0.99);
  EXPECT_DOUBLE_EQ(vmset_availability({&a, &a}, nodes), 0.99);  // one host counts once
  EXPECT_DOUBLE_EQ(vmset_availability({&a, &b}, nodes), 1.0 - 0.01 * 0.05);
  EXPECT_DOUBLE_EQ(vmset_availability({&c}, nodes), 0.0);  // unknown host: Rᵢ = 0
}

}  // namespace reconcile_vmset_test
}  // namespace corral::reconcile
