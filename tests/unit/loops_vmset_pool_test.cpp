// The VMSet and Pool status loops over a memory store: scale up and down,
// VMSet status counts, Pool capacity and allocation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/json.h"
#include "controller/store/forwarding_store.h"
#include "tests/unit/loops_fixtures.h"

namespace corral::loops::testing {
namespace loops_vmset_pool_test {

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

TEST_F(LoopsVmSet, AfterAPassTheCacheHoldsEveryVmAsTheStoreDoes) {
  // The loops put what they wrote into the cache from what they sent plus
  // what the store set (no parse of the store's answer): each copy must be
  // the stored object, field for field, as a parse of it would give.
  add_vmset("app", 3, /*cpu=*/1, /*memory_gib=*/2);
  pass_renewing(alive_);
  auto stored = store_->list("VM", {});
  ASSERT_TRUE(stored.ok());
  ASSERT_THAT(stored->items, SizeIs(3));
  for (const auto& record : stored->items) {
    const VM* cached = manager().cache().vm(record->name);
    ASSERT_NE(cached, nullptr) << record->name;
    Json expected = to_json(from_json<VM>(record->parse()).value());
    EXPECT_EQ(to_json(*cached), expected) << record->name;
    EXPECT_FALSE(cached->metadata.uid.empty());
    EXPECT_FALSE(cached->metadata.creationTimestamp.empty());
  }
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

// Fails VM creates and Pool status writes while told to, counting attempts.
class FaultyStore final : public store::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<store::RecordPtr> create(const std::string& kind, Json object) override {
    if (kind == "VM" && fail_vm_creates) {
      ++vm_create_attempts;
      return make_error(ErrorCode::kUnavailable, "disk full");
    }
    return ForwardingStore::create(kind, std::move(object));
  }
  // The VMSet loop creates its VMs in store batches: each VM entry fails as
  // a create would, the others go through.
  std::vector<Result<store::RecordPtr>> write_batch(std::vector<store::BatchWrite> writes) override {
    std::vector<Result<store::RecordPtr>> out(writes.size(), make_error(ErrorCode::kUnavailable, "disk full"));
    std::vector<store::BatchWrite> pass;
    std::vector<size_t> index_of;  // pass[k] is writes[index_of[k]]
    for (size_t i = 0; i < writes.size(); ++i) {
      if (writes[i].part == store::BatchWrite::Part::kCreate && writes[i].kind == "VM" && fail_vm_creates) {
        ++vm_create_attempts;
        continue;
      }
      pass.push_back(std::move(writes[i]));
      index_of.push_back(i);
    }
    if (!pass.empty()) {
      auto results = ForwardingStore::write_batch(std::move(pass));
      for (size_t k = 0; k < results.size(); ++k) out[index_of[k]] = std::move(results[k]);
    }
    return out;
  }
  Result<store::RecordPtr> update_status(const std::string& kind, Json object) override {
    if (kind == "Pool" && fail_pool_status) {
      ++pool_status_attempts;
      return make_error(ErrorCode::kUnavailable, "disk full");
    }
    return ForwardingStore::update_status(kind, std::move(object));
  }
  std::atomic<bool> fail_vm_creates{false};
  std::atomic<bool> fail_pool_status{false};
  std::atomic<int> vm_create_attempts{0};
  std::atomic<int> pool_status_attempts{0};
};

// A write that keeps failing is tried again when its back-off is due (5 ms
// doubling to 30 s), not on every pass.
class LoopsWriteBackoff : public LoopsTest {
 protected:
  void SetUp() override {
    inner_ = store::open_memory_store(clock_);
    auto faulty = std::make_unique<FaultyStore>(*inner_);
    faulty_ = faulty.get();
    store_ = std::move(faulty);
    add_pool("web");
    add_node("host-1", 4, 8);
  }
  // The manager and the wrapper go before the store they wrap.
  void TearDown() override {
    manager_.reset();
    store_.reset();
  }
  // Passes of a 100 ms loop for `duration`.
  void run_for(std::chrono::milliseconds duration) {
    for (auto t = 0ms; t < duration; t += 100ms) {
      pass_renewing({"host-1"});
      clock_.advance(100ms);
    }
  }
  std::unique_ptr<store::Store> inner_;
  FaultyStore* faulty_ = nullptr;
};

TEST_F(LoopsWriteBackoff, AFailingPoolStatusWriteIsRetriedOnItsBackOffNotEveryPass) {
  faulty_->fail_pool_status = true;
  run_for(20s);  // 200 passes
  EXPECT_GE(faulty_->pool_status_attempts, 5);
  EXPECT_LE(faulty_->pool_status_attempts, 15) << "5 ms doubling: about log2(20 s / 5 ms) tries";
  faulty_->fail_pool_status = false;
  run_for(31s);  // the longest wait is 30 s
  EXPECT_EQ(get<Pool>("web").status.totalNodes, 1) << "written once the store took it";
}

TEST_F(LoopsWriteBackoff, AVmSetWhoseCreatesFailIsReconciledAgainOnItsBackOff) {
  faulty_->fail_vm_creates = true;
  add_vmset("app", 2);
  run_for(20s);
  // Each try creates both replicas (two attempts per try).
  EXPECT_GE(faulty_->vm_create_attempts, 2 * 5);
  EXPECT_LE(faulty_->vm_create_attempts, 2 * 15);
  EXPECT_THAT(vms_of("app"), SizeIs(0));
  faulty_->fail_vm_creates = false;
  run_for(31s);
  EXPECT_THAT(vms_of("app"), SizeIs(2));
}

}  // namespace loops_vmset_pool_test
}  // namespace corral::loops::testing
