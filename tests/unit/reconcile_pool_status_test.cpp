// Pool status (V, allocated, used, L, spread, tolerable failures) and HA
// admission control, with exact numbers.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "controller/reconcile/pool_status.h"

namespace corral::reconcile {
namespace reconcile_pool_status_test {

constexpr int64_t kGi = int64_t{1024} * 1024 * 1024;
constexpr int64_t kMilliPerByte = 1000;

Quantity cpu(double cores) { return Quantity::from_milli(static_cast<int64_t>(cores * 1000)); }
Quantity gib(double n) { return Quantity::from_bytes(static_cast<int64_t>(n * kGi)); }

Node make_node(const std::string& name, double cores, double mem_gib, double used_cores,
               double used_gib, const std::string& role = "web", bool ready = true) {
  Node n;
  n.metadata.name = name;
  n.metadata.labels = {{"role", role}};
  n.status.phase = ready ? "Ready" : "NotReady";
  n.status.conditions.push_back(Condition{"Ready", ready ? "True" : "False", "", "", "", 0});
  n.status.allocatable = {cpu(cores), gib(mem_gib)};
  n.status.usage = {cpu(used_cores), gib(used_gib)};
  return n;
}

VM make_vm(const std::string& name, const std::string& node, double cores, double mem_gib,
           const std::string& phase = "Running", const std::string& set = "") {
  VM v;
  v.metadata.name = name;
  if (!set.empty()) v.metadata.labels["corral.io/vmset"] = set;
  v.spec.nodeName = node;
  v.spec.resources = {cpu(cores), gib(mem_gib)};
  v.status.phase = phase;
  return v;
}

Pool make_pool(double cpu_overcommit, int32_t tolerate = 0) {
  Pool p;
  p.metadata.name = "web";
  p.metadata.generation = 3;
  p.spec.nodeSelector = {{"role", "web"}};
  p.spec.overcommit = {cpu_overcommit, 1.0};
  p.spec.failover.tolerateNodeFailures = tolerate;
  return p;
}

TEST(PoolStatus, CapacityAllocationLoadAndSpread) {
  const std::vector<Node> nodes = {
      make_node("n1", 4, 8, 2, 2),    // load max(0.5, 0.25) = 0.5
      make_node("n2", 4, 8, 1, 6),    // load max(0.25, 0.75) = 0.75
      make_node("n3", 2, 4, 0.5, 1),  // load 0.25
      make_node("n4", 4, 8, 4, 8, "web", /*ready=*/false),
      make_node("db1", 16, 64, 8, 8, "db"),
  };
  const std::vector<VM> vms = {
      make_vm("a", "n1", 2, 2),           make_vm("b", "n2", 4, 4),
      make_vm("c", "n4", 1, 1),            // on a NotReady member: still allocated
      make_vm("d", "n1", 1, 1, "Failed"),  // holds nothing
      make_vm("e", "n2", 1, 1, "Lost"),    // being re-placed
      make_vm("f", "db1", 8, 8),           // another pool
      make_vm("g", "", 1, 1, "Pending"),   // not bound
  };
  const PoolStatus st = compute_pool_status(make_pool(2.0), nodes, vms);
  EXPECT_EQ(st.observedGeneration, 3);
  // V = Σ Pᵢ is what the Ready nodes have; overcommit is in schedulable.
  EXPECT_EQ(st.capacity.cpu.milli, 10000);  // 4 + 4 + 2
  EXPECT_EQ(st.capacity.memory.milli, 20 * kGi * kMilliPerByte);  // 8 + 8 + 4
  EXPECT_EQ(st.capacity.memory.text, "20Gi");
  EXPECT_EQ(st.schedulable.cpu.milli, 20000);  // (4 + 4 + 2) × 2
  EXPECT_EQ(st.schedulable.memory.milli, 20 * kGi * kMilliPerByte);
  EXPECT_EQ(st.allocated.cpu.milli, 7000);
  EXPECT_EQ(st.allocated.memory.milli, 7 * kGi * kMilliPerByte);
  EXPECT_EQ(st.used.cpu.milli, 3500);
  EXPECT_EQ(st.used.memory.milli, 9 * kGi * kMilliPerByte);
  EXPECT_EQ(st.readyNodes, 3);
  EXPECT_EQ(st.totalNodes, 4);
  EXPECT_DOUBLE_EQ(st.meanLoad, 0.5);
  EXPECT_DOUBLE_EQ(st.loadSpread, 0.25);
  ASSERT_EQ(st.nodeLoads.size(), 3u);
  EXPECT_EQ(st.nodeLoads[1].name, "n2");
  EXPECT_DOUBLE_EQ(st.nodeLoads[1].load, 0.75);
  EXPECT_DOUBLE_EQ(st.nodeLoads[1].deviation, 0.25);
  EXPECT_DOUBLE_EQ(st.nodeLoads[2].deviation, -0.25);
  // P = 8, 8, 4 CPU and 8, 8, 4 Gi for 7 CPU / 7 Gi allocated: losing the
  // largest leaves 12 ≥ 7; losing two leaves 4 < 7.
  EXPECT_EQ(st.tolerableFailures, 1);
}

TEST(PoolStatus, TolerableFailuresChecksCpuAndMemorySeparately) {
  const std::vector<Node> nodes = {make_node("n1", 8, 2, 0, 0), make_node("n2", 2, 8, 0, 0),
                                   make_node("n3", 2, 2, 0, 0)};
  // 3 CPU, 3 Gi allocated. Worst single loss for CPU: n1 → 4 CPU left (ok);
  // for memory: n2 → 4 Gi left (ok). Two losses: 2 CPU < 3.
  const std::vector<VM> vms = {make_vm("a", "n3", 3, 3)};
  EXPECT_EQ(compute_pool_status(make_pool(1.0), nodes, vms).tolerableFailures, 1);
  const std::vector<VM> heavy = {make_vm("a", "n3", 3, 5)};  // 5 Gi: losing n2 leaves 4 Gi
  EXPECT_EQ(compute_pool_status(make_pool(1.0), nodes, heavy).tolerableFailures, 0);
}

class HaAdmission : public ::testing::Test {
 protected:
  VMSet frontend(int32_t replicas) const {
    VMSet s;
    s.metadata.name = "frontend";
    s.metadata.uid = "uid-frontend";
    s.spec.pool = "web";
    s.spec.replicas = replicas;
    s.spec.templ.spec.resources = {cpu(2), gib(1)};
    return s;
  }
  // V = 4 + 4 + 2 = 10 CPU; losing the largest node leaves 6.
  std::vector<Node> nodes_ = {make_node("n1", 4, 64, 0, 0), make_node("n2", 4, 64, 0, 0),
                              make_node("n3", 2, 64, 0, 0)};
  std::vector<VM> vms_ = {make_vm("frontend-a", "n1", 2, 1, "Running", "frontend"),
                          make_vm("frontend-b", "n2", 2, 1, "Running", "frontend")};
};

TEST_F(HaAdmission, RefusesAChangeThatLeavesTooLittleSpare) {
  Result<void> r = check_ha_admission(make_pool(1.0, 1), nodes_, vms_, frontend(4));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(r.error().message,
            "pool web tolerates 1 node failure(s): after losing the 1 largest node(s), "
            "6 CPU would remain for 8 CPU requested");
  ASSERT_EQ(r.error().causes.size(), 1u);
  EXPECT_EQ(r.error().causes[0].field, "spec.replicas");
}

TEST_F(HaAdmission, AdmitsWhatStillFits) {
  EXPECT_TRUE(check_ha_admission(make_pool(1.0, 1), nodes_, vms_, frontend(3)).ok());  // 6 ≤ 6
  EXPECT_TRUE(check_ha_admission(make_pool(1.0, 0), nodes_, vms_, frontend(5)).ok());  // no HA ask
  VMSet elsewhere = frontend(9);
  elsewhere.spec.pool = "db";
  EXPECT_TRUE(check_ha_admission(make_pool(1.0, 1), nodes_, vms_, elsewhere).ok());
}

TEST_F(HaAdmission, ScalingDownIsAllowedEvenWhenThePoolIsShort) {
  // Tolerating two failures leaves 2 CPU for the 4 already allocated.
  EXPECT_FALSE(check_ha_admission(make_pool(1.0, 2), nodes_, vms_, frontend(3)).ok());
  EXPECT_TRUE(check_ha_admission(make_pool(1.0, 2), nodes_, vms_, frontend(1)).ok());
}

TEST_F(HaAdmission, NamesMemoryWhenMemoryIsShort) {
  VMSet big = frontend(4);  // 4 × 0.5 CPU fits; 4 × 40 Gi does not fit in 192 − 64 Gi
  big.spec.templ.spec.resources = {cpu(0.5), gib(40)};
  Result<void> r = check_ha_admission(make_pool(1.0, 1), nodes_, vms_, big);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "pool web tolerates 1 node failure(s): after losing the 1 largest node(s), "
            "128Gi memory would remain for 160Gi requested");
}

}  // namespace reconcile_pool_status_test
}  // namespace corral::reconcile
