// The VMSet and Pool status loops over a memory store: scale up and down,
// VMSet status counts, Pool capacity and allocation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/loops_fixtures.h"

namespace corral::loops::testing {
namespace {

using ::testing::SizeIs;

class LoopsVmSet : public LoopsTest {
 protected:
  void SetUp() override {
    LoopsTest::SetUp();
    add_pool("web");
    add_node("host-1", 4, 8);
    add_node("host-2", 4, 8);
    alive_ = {"host-1", "host-2"};
  }
  std::vector<std::string> alive_;
};

TEST_F(LoopsVmSet, CreatesReplicasThenScalesDownAndCountsInStatus) {
  add_vmset("app", 3);
  pass_renewing(alive_);
  std::vector<VM> vms = vms_of("app");
  ASSERT_THAT(vms, SizeIs(3));
  VMSet set = get<VMSet>("app");
  for (const VM& vm : vms) {
    EXPECT_EQ(vm.metadata.name.rfind("app-", 0), 0u) << vm.metadata.name;
    ASSERT_THAT(vm.metadata.ownerReferences, SizeIs(1));
    EXPECT_EQ(vm.metadata.ownerReferences[0].uid, set.metadata.uid);
    EXPECT_EQ(vm.spec.epoch, 1);  // placed in the same pass
  }
  // The status written in the next pass counts them bound.
  pass_renewing(alive_);
  set = get<VMSet>("app");
  EXPECT_EQ(set.status.replicas, 3);
  EXPECT_EQ(set.status.scheduled, 3);
  EXPECT_EQ(set.status.running, 0);
  EXPECT_EQ(set.status.observedGeneration, set.metadata.generation);

  scale("app", 1);
  pass_renewing(alive_);
  EXPECT_THAT(vms_of("app"), SizeIs(1));
  pass_renewing(alive_);
  set = get<VMSet>("app");
  EXPECT_EQ(set.status.replicas, 1);
  EXPECT_EQ(set.status.scheduled, 1);
  EXPECT_EQ(set.status.observedGeneration, set.metadata.generation);

  // Converged: nothing more is written.
  const int64_t revision = store_->revision();
  pass_renewing(alive_);
  pass_renewing(alive_);
  EXPECT_EQ(store_->revision(), revision);
}

TEST_F(LoopsVmSet, ReplacesADeletedReplica) {
  add_vmset("app", 2);
  pass_renewing(alive_);
  std::vector<VM> vms = vms_of("app");
  ASSERT_THAT(vms, SizeIs(2));
  ASSERT_TRUE(store_->remove("VM", vms[0].metadata.name).ok());
  pass_renewing(alive_);
  vms = vms_of("app");
  EXPECT_THAT(vms, SizeIs(2));
  for (const VM& vm : vms) EXPECT_FALSE(vm.spec.nodeName.empty());
}

TEST_F(LoopsVmSet, DeletingTheSetTakesItsVmsAndTheLoopDoesNotRecreateThem) {
  add_vmset("app", 2);
  pass_renewing(alive_);
  ASSERT_THAT(vms_of("app"), SizeIs(2));
  ASSERT_TRUE(store_->remove("VMSet", "app").ok());
  pass_renewing(alive_);
  pass_renewing(alive_);
  EXPECT_THAT(vms_of("app"), SizeIs(0));
}

TEST_F(LoopsVmSet, PoolStatusCountsCapacityAndAllocation) {
  add_vmset("app", 3, /*cpu=*/1, /*memory_gib=*/2);
  pass_renewing(alive_);
  pass_renewing(alive_);
  Pool pool = get<Pool>("web");
  EXPECT_EQ(pool.status.totalNodes, 2);
  EXPECT_EQ(pool.status.readyNodes, 2);
  EXPECT_EQ(pool.status.capacity.cpu.milli, 8'000);
  EXPECT_EQ(pool.status.capacity.memory.milli, 16 * kGi * 1000);
  EXPECT_EQ(pool.status.allocated.cpu.milli, 3'000);
  EXPECT_EQ(pool.status.allocated.memory.milli, 6 * kGi * 1000);
  EXPECT_EQ(pool.status.observedGeneration, pool.metadata.generation);
}

}  // namespace
}  // namespace corral::loops::testing
