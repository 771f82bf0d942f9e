// The scheduler's decision → status mapping (controller/scheduler/outcome.h):
// what each VM of a pass gets written, whether it is parked, which Event.
#include <gtest/gtest.h>

#include "controller/scheduler/outcome.h"
#include "tests/unit/scheduler_fixtures.h"

namespace corral::scheduler::testing {
namespace scheduler_outcome_test {

Decision bound_to(const std::string& vm, const std::string& node, int64_t epoch) {
  Decision d;
  d.vm = vm;
  d.node = node;
  d.epoch = epoch;
  return d;
}

Decision unschedulable(const std::string& vm, const std::string& message) {
  Decision d;
  d.vm = vm;
  d.message = message;
  return d;
}

TEST(SchedulerOutcome, BindingWritesSpecAndStatusTogetherAndAScheduledEvent) {
  VM vm = make_vm("web-1", "web", 1, 1, "", "Lost");
  vm.spec.epoch = 3;
  vm.status.message = "0/2 nodes are available: 2 NotReady.";
  vm.status.nodeName = "dead";
  vm.status.epoch = 3;
  vm.status.address = "10.0.0.1:4000";
  vm.status.usage.cpu = Quantity::from_milli(500);
  vm.status.startTime = "2026-09-21T07:33:20.000Z";
  const DecisionOutcome out = decision_outcome(vm, bound_to("web-1", "host-2", 4));
  EXPECT_EQ(out.write, WriteKind::kSpecAndStatus);
  EXPECT_FALSE(out.park);
  ASSERT_TRUE(out.event.has_value());
  EXPECT_EQ(out.event->type, "Normal");
  EXPECT_EQ(out.event->reason, "Scheduled");
  EXPECT_EQ(out.event->message, "Successfully assigned vm/web-1 to node/host-2");
  EXPECT_EQ(out.next.spec.nodeName, "host-2");
  EXPECT_EQ(out.next.spec.epoch, 4);
  EXPECT_EQ(out.next.status.phase, "Scheduled");
  EXPECT_EQ(out.next.status.message, "");
  EXPECT_EQ(out.next.status.nodeName, "") << "the agent reports the new binding's";
  EXPECT_EQ(out.next.status.epoch, 0);
  EXPECT_EQ(out.next.status.address, "") << "the old copy's address is not the new one's";
  EXPECT_EQ(out.next.status.usage.cpu.milli, 0);
  EXPECT_EQ(out.next.status.startTime, "");
  EXPECT_EQ(out.next.metadata.name, "web-1");
}

TEST(SchedulerOutcome, UnschedulableIsParkedPendingWithWhyAndAFailedSchedulingEvent) {
  const VM vm = make_vm("web-1", "web", 1, 1);
  const std::string why = "0/2 nodes are available: 2 insufficient memory.";
  const DecisionOutcome out = decision_outcome(vm, unschedulable("web-1", why));
  EXPECT_EQ(out.write, WriteKind::kStatus);
  EXPECT_TRUE(out.park);
  EXPECT_EQ(out.next.status.phase, "Pending");
  EXPECT_EQ(out.next.status.message, why);
  EXPECT_EQ(out.next.spec.nodeName, "") << "spec untouched";
  ASSERT_TRUE(out.event.has_value());
  EXPECT_EQ(out.event->type, "Warning");
  EXPECT_EQ(out.event->reason, "FailedScheduling");
  EXPECT_EQ(out.event->message, why);
}

TEST(SchedulerOutcome, ALostVmStaysLostWhileItWaitsForANode) {
  const VM vm = make_vm("web-1", "web", 1, 1, "dead", "Lost");
  const DecisionOutcome out = decision_outcome(vm, unschedulable("web-1", "no room"));
  EXPECT_EQ(out.next.status.phase, "Lost");
  EXPECT_EQ(out.next.status.message, "no room");
  EXPECT_EQ(out.write, WriteKind::kStatus);
  EXPECT_TRUE(out.park);
}

TEST(SchedulerOutcome, TheSameMessageAgainWritesNothingButStillParks) {
  VM vm = make_vm("web-1", "web", 1, 1, "", "Pending");
  vm.status.message = "no room";
  const DecisionOutcome out = decision_outcome(vm, unschedulable("web-1", "no room"));
  EXPECT_EQ(out.write, WriteKind::kNone);
  EXPECT_TRUE(out.park);
  EXPECT_FALSE(out.event.has_value());
}

TEST(SchedulerOutcome, APhaseChangeAloneIsWrittenWithoutAnEvent) {
  VM vm = make_vm("web-1", "web", 1, 1, "", "Scheduled");
  vm.status.message = "no room";
  const DecisionOutcome out = decision_outcome(vm, unschedulable("web-1", "no room"));
  EXPECT_EQ(out.write, WriteKind::kStatus);
  EXPECT_EQ(out.next.status.phase, "Pending");
  EXPECT_FALSE(out.event.has_value()) << "the message was already told";
}

TEST(SchedulerOutcome, BatchGoesByPriorityThenNameAndIsCutToTheMaximum) {
  VM a = make_vm("a", "web", 1, 1);
  VM b = make_vm("b", "web", 1, 1);
  VM c = make_vm("c", "web", 1, 1);
  VM urgent = make_vm("z", "web", 1, 1);
  urgent.spec.priority = 10;
  const std::vector<const VM*> all = order_batch({&c, &a, &urgent, &b}, 10);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0], &urgent);
  EXPECT_EQ(all[1], &a);
  EXPECT_EQ(all[2], &b);
  EXPECT_EQ(all[3], &c);
  const std::vector<const VM*> cut = order_batch({&c, &a, &urgent, &b}, 2);
  ASSERT_EQ(cut.size(), 2u);
  EXPECT_EQ(cut[0], &urgent);
  EXPECT_EQ(cut[1], &a);
}

}  // namespace scheduler_outcome_test
}  // namespace corral::scheduler::testing
