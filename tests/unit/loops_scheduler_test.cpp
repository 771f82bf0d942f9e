// The scheduler loop over a memory store: bindings, unschedulable messages and
// their Events, conflicts on bind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "api/json.h"
#include "controller/store/batch_write.h"
#include "controller/store/forwarding_store.h"
#include "tests/unit/loops_fixtures.h"

namespace corral::loops::testing {
namespace loops_scheduler_test {

using ::testing::HasSubstr;
using ::testing::SizeIs;

class LoopsScheduler : public LoopsTest {
 protected:
  void SetUp() override {
    LoopsTest::SetUp();
    add_pool("web");
    add_node("host-1");
    add_node("host-2");
  }
};

TEST_F(LoopsScheduler, BindsPendingVmWithEpochOneAndStatusScheduled) {
  add_vmset("app", 1);
  pass_renewing({"host-1", "host-2"});

  std::vector<VM> vms = vms_of("app");
  ASSERT_THAT(vms, SizeIs(1));
  const VM& vm = vms[0];
  EXPECT_THAT(vm.spec.nodeName, ::testing::AnyOf("host-1", "host-2"));
  EXPECT_EQ(vm.spec.epoch, 1);
  EXPECT_EQ(vm.status.phase, "Scheduled");
  EXPECT_EQ(vm.status.message, "");
  EXPECT_EQ(counter("corral_scheduler_bindings_total"), 1);
  // One Normal Event Scheduled on the VM, as kube-scheduler writes.
  std::vector<Event> events = events_about(vm.metadata.name);
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].type, "Normal");
  EXPECT_EQ(events[0].reason, "Scheduled");
  EXPECT_EQ(events[0].message,
            "Successfully assigned vm/" + vm.metadata.name + " to node/" + vm.spec.nodeName);
  EXPECT_EQ(events[0].involvedObject.uid, vm.metadata.uid);
  EXPECT_EQ(events[0].source.host, vm.spec.nodeName);

  // The next pass writes the statuses that counted it; then nothing is left to do.
  pass_renewing({"host-1", "host-2"});
  const int64_t revision = store_->revision();
  pass_renewing({"host-1", "host-2"});
  EXPECT_EQ(store_->revision(), revision);
}

// Records nudges instead of sending them.
class FakeNotifier final : public AgentNotifier {
 public:
  void notify(const std::string& node, const std::string& address) override {
    nudged.push_back(node + "@" + address);
  }
  std::vector<std::string> nudged;
};

TEST_F(LoopsScheduler, NudgesTheAgentOfTheNodeItBoundTo) {
  FakeNotifier notifier;
  manager().scheduler().set_notifier(&notifier);
  add_vmset("app", 1);
  pass_renewing({"host-1", "host-2"});
  std::vector<VM> vms = vms_of("app");
  ASSERT_THAT(vms, SizeIs(1));
  ASSERT_THAT(notifier.nudged, SizeIs(1));
  EXPECT_THAT(notifier.nudged[0], ::testing::StartsWith(vms[0].spec.nodeName + "@10.0.0."));
  manager().scheduler().set_notifier(nullptr);
}

TEST_F(LoopsScheduler, UnschedulableVmGetsMessageAndOneEvent) {
  add_vmset("big", 1, /*cpu=*/64);
  pass_renewing({"host-1", "host-2"});

  std::vector<VM> vms = vms_of("big");
  ASSERT_THAT(vms, SizeIs(1));
  EXPECT_EQ(vms[0].spec.nodeName, "");
  EXPECT_EQ(vms[0].status.phase, "Pending");
  EXPECT_EQ(vms[0].status.message, "0/2 nodes are available: 2 insufficient cpu.");
  std::vector<Event> events = events_about(vms[0].metadata.name);
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].reason, "FailedScheduling");
  EXPECT_EQ(events[0].type, "Warning");
  EXPECT_EQ(events[0].message, vms[0].status.message);
  EXPECT_EQ(events[0].involvedObject.kind, "VM");
  EXPECT_EQ(events[0].involvedObject.uid, vms[0].metadata.uid);
  EXPECT_FALSE(vms[0].metadata.uid.empty());

  // Retried later (a node changed, or the retry period): the same message
  // writes nothing and records no second Event.
  clock_.advance(6s);
  add_node("host-3", 4, 8);
  pass_renewing({"host-1", "host-2", "host-3"});
  vms = vms_of("big");
  EXPECT_EQ(vms[0].status.message, "0/3 nodes are available: 3 insufficient cpu.");
  EXPECT_THAT(events_about(vms[0].metadata.name), SizeIs(2));  // the message changed
  pass_renewing({"host-1", "host-2", "host-3"});
  EXPECT_THAT(events_about(vms[0].metadata.name), SizeIs(2));
}

TEST_F(LoopsScheduler, NewRoomPlacesAParkedVm) {
  add_vmset("big", 1, /*cpu=*/6);
  pass_renewing({"host-1", "host-2"});
  ASSERT_EQ(vms_of("big")[0].spec.nodeName, "");

  add_node("host-big", 8, 16);
  pass_renewing({"host-1", "host-2", "host-big"});
  VM vm = vms_of("big")[0];
  EXPECT_EQ(vm.spec.nodeName, "host-big");
  EXPECT_EQ(vm.status.phase, "Scheduled");
  EXPECT_EQ(vm.status.message, "");
}

// A Store that, once armed, writes a concurrent status change to a VM just
// before the loop's own binding of it reaches the store: the loop's
// resourceVersion is then stale (409).
class InterferingStore final : public store::ForwardingStore {
 public:
  explicit InterferingStore(store::Store& inner) : ForwardingStore(inner) {}
  void arm() { armed_ = true; }
  int interfered() const { return interfered_; }

  std::vector<Result<store::RecordPtr>> write_batch(
      std::vector<store::BatchWrite> writes) override {
    for (const store::BatchWrite& w : writes) {
      if (w.kind != "VM" || w.part != store::BatchWrite::Part::kSpecAndStatus) continue;
      if (!armed_.exchange(false)) break;
      Json other = (*inner().get(w.kind, w.object["metadata"]["name"]))->parse();
      other["status"]["message"] = "written by someone else";
      EXPECT_TRUE(inner().update_status(w.kind, other).ok());
      ++interfered_;
    }
    return inner().write_batch(std::move(writes));
  }

 private:
  std::atomic<bool> armed_{false};
  std::atomic<int> interfered_{0};
};

TEST_F(LoopsScheduler, ConflictOnBindIsReReadAndRetriedNextPass) {
  InterferingStore interfering(*store_);
  ControllerManagerOptions o = options();
  ControllerManager mgr(interfering, clock_, leases_, prober_, o);
  add_vmset("app", 1);
  // First pass: the VMSet loop creates the VM; the bind then meets a conflict.
  renew("host-1");
  renew("host-2");
  interfering.arm();
  ASSERT_TRUE(mgr.run_once().ok());
  EXPECT_EQ(interfering.interfered(), 1);
  EXPECT_EQ(counter("corral_scheduler_conflicts_total"), 1);
  VM vm = vms_of("app")[0];
  EXPECT_EQ(vm.spec.nodeName, "");
  EXPECT_EQ(vm.status.message, "written by someone else");

  // Next pass: re-read, bound.
  ASSERT_TRUE(mgr.run_once().ok());
  vm = vms_of("app")[0];
  EXPECT_NE(vm.spec.nodeName, "");
  EXPECT_EQ(vm.spec.epoch, 1);
  EXPECT_EQ(vm.status.phase, "Scheduled");
  EXPECT_EQ(counter("corral_scheduler_bindings_total"), 1);
}

}  // namespace loops_scheduler_test
}  // namespace corral::loops::testing
