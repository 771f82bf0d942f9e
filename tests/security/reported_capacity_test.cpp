// Issue 15 §2: a node may report any capacity → pool sums overflow. Absurd
// reports are refused (422 naming the field) and store nothing; sums that
// would pass int64 saturate.
#include <cstdint>

#include "api/types.h"
#include "controller/reconcile/pool_status.h"
#include "tests/security/node_restriction_fixture.h"

namespace corral::testing::security {
namespace reported_capacity_test {

using ReportedCapacity = SecurityTest;

TEST_F(ReportedCapacity, AbsurdReportsAre422NamingTheFieldAndStoreNothing) {
  struct Case {
    const char* group;
    const char* resource;
    const char* value;
    const char* field;
  };
  const Case cases[] = {
      {"capacity", "cpu", "1025", "capacity.cpu"},
      {"capacity", "memory", "65Ti", "capacity.memory"},
      {"capacity", "memory", "4Ei", "capacity.memory"},
      {"capacity", "cpu", "-4", "capacity.cpu"},
      {"allocatable", "cpu", "8", "allocatable.cpu"},  // above capacity (4)
      {"usage", "memory", "1Pi", "usage.memory"},
  };
  const std::string before = snapshot();
  for (const Case& c : cases) {
    Json body = heartbeat_body("host-a/1-aa");
    body[c.group][c.resource] = c.value;
    Json s = refused(post(*node_a_, "nodes/host-a/heartbeat", body), 422, "Invalid", before);
    bool named = false;
    for (const Json& cause : s["details"].value("causes", Json::array()))
      named = named || cause.value("field", "") == c.field;
    EXPECT_TRUE(named) << c.field << ": " << s.dump();
  }
  // A VM's reported usage is bounded too.
  Json body = heartbeat_body("host-a/1-aa");
  body["vms"] = {{{"name", "x"}, {"phase", "Running"}, {"usage", {{"cpu", "2000"}}}}};
  Json s = refused(post(*node_a_, "nodes/host-a/heartbeat", body), 422, "Invalid", before);
  EXPECT_NE(s.value("message", "").find("vms[0].usage.cpu"), std::string::npos) << s.dump();
  // The largest sane host is taken.
  body = heartbeat_body("host-a/1-aa");
  body["capacity"] = {{"cpu", "1024"}, {"memory", "64Ti"}};
  body["allocatable"] = body["capacity"];
  auto ok = post(*node_a_, "nodes/host-a/heartbeat", body);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}

Node ready_node(const std::string& name, int64_t cpu_milli, int64_t memory_milli) {
  Node n;
  n.metadata.name = name;
  n.metadata.labels = {{"role", "web"}};
  n.status.phase = node_phase::kReady;
  n.status.allocatable.cpu = Quantity::from_milli(cpu_milli);
  n.status.allocatable.memory = Quantity::from_milli(memory_milli);
  n.status.capacity = n.status.allocatable;
  n.status.usage = n.status.allocatable;
  n.status.conditions.push_back({"Ready", "True", "", "", "", 0});
  return n;
}

// Values as large as a Quantity may hold (an admin's PUT /status, or a store
// written before the bound): the sums stop at the int64 limit, never wrap.
TEST(PoolSums, SaturateInsteadOfOverflowing) {
  Pool pool;
  pool.metadata.name = "web";
  pool.spec.nodeSelector = {{"role", "web"}};
  pool.spec.overcommit.cpu = 4;
  const int64_t huge = INT64_MAX / 2;
  std::vector<Node> nodes;
  for (int i = 0; i < 4; ++i) nodes.push_back(ready_node("n" + std::to_string(i), huge, huge));
  PoolStatus st = reconcile::compute_pool_status(pool, nodes, {});
  EXPECT_EQ(st.capacity.cpu.milli, INT64_MAX);
  EXPECT_EQ(st.schedulable.cpu.milli, INT64_MAX);
  EXPECT_GE(st.capacity.memory.milli, 0);
  EXPECT_GE(st.used.cpu.milli, 0);
  EXPECT_GE(st.used.memory.milli, 0);
}

TEST(PoolSums, SaturatingHelpers) {
  EXPECT_EQ(saturating_add(INT64_MAX, 1), INT64_MAX);
  EXPECT_EQ(saturating_add(INT64_MIN, -1), INT64_MIN);
  EXPECT_EQ(saturating_add(2, 3), 5);
  EXPECT_EQ(saturating_mul(INT64_MAX / 2, 3), INT64_MAX);
  EXPECT_EQ(saturating_mul(-(INT64_MAX / 2), 3), INT64_MIN);
  EXPECT_EQ(saturating_mul(4, 5), 20);
}

}  // namespace reported_capacity_test
}  // namespace corral::testing::security
