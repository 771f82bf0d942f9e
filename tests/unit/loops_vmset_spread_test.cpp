// The VMSet loop with spread over zones, on a memory store and a fake clock:
// scale-down keeps one replica per zone, the SpreadSatisfied condition sees
// zones without replicas, and each create, delete and placement is an Event.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "api/conditions.h"
#include "api/json.h"
#include "tests/unit/loops_fixtures.h"

namespace corral::loops::testing {
namespace loops_vmset_spread_test {

using ::testing::SizeIs;
using ::testing::StartsWith;

class LoopsVmSetSpread : public LoopsTest {
 protected:
  void SetUp() override {
    LoopsTest::SetUp();
    add_pool("web");
    for (const char* zone : {"a", "b", "c"})
      add_node(std::string("host-") + zone, 8, 16, {{"role", "web"}, {"zone", zone}});
    alive_ = {"host-a", "host-b", "host-c"};
  }
  void add_spread_set(const std::string& name, int32_t replicas) {
    add_vmset(name, replicas);
    VMSet s = get<VMSet>(name);
    s.spec.spread = SpreadPolicy{"zone", 1};
    update(s);
  }
  std::map<std::string, int> per_zone(const std::string& set) {
    std::map<std::string, int> out;
    for (const VM& vm : vms_of(set)) ++out[vm.spec.nodeName];
    return out;
  }
  std::vector<Event> events_with(const std::string& object, const std::string& reason) {
    std::vector<Event> out;
    for (Event& e : events_about(object))
      if (e.reason == reason) out.push_back(std::move(e));
    return out;
  }
  std::vector<std::string> alive_;
};

TEST_F(LoopsVmSetSpread, ScaleDownFiveToThreeKeepsOneReplicaPerZoneAndSaysSo) {
  add_spread_set("app", 5);
  pass_renewing(alive_);
  ASSERT_THAT(vms_of("app"), SizeIs(5));
  std::map<std::string, int> zones = per_zone("app");
  ASSERT_THAT(zones, SizeIs(3));  // 2, 2, 1 in some order

  scale("app", 3);
  pass_renewing(alive_);
  EXPECT_EQ(per_zone("app"),
            (std::map<std::string, int>{{"host-a", 1}, {"host-b", 1}, {"host-c", 1}}));

  // Five creates, two deletes, on the VMSet, naming the VMs and why.
  std::vector<Event> created = events_with("app", "SuccessfulCreate");
  ASSERT_THAT(created, SizeIs(5));
  EXPECT_EQ(created[0].type, "Normal");
  EXPECT_EQ(created[0].involvedObject.kind, "VMSet");
  EXPECT_THAT(created[0].message, StartsWith("Created vm: app-"));
  EXPECT_NE(created[0].message.find("(scale-up 0 → 5)"), std::string::npos) << created[0].message;
  std::vector<Event> deleted = events_with("app", "SuccessfulDelete");
  ASSERT_THAT(deleted, SizeIs(2));
  EXPECT_THAT(deleted[0].message, StartsWith("Deleted vm: app-"));
  EXPECT_NE(deleted[0].message.find("(scale-down 5 → 3: "), std::string::npos)
      << deleted[0].message;

  // Each placement: Scheduled on the VM.
  for (const VM& vm : vms_of("app")) {
    std::vector<Event> scheduled = events_with(vm.metadata.name, "Scheduled");
    ASSERT_THAT(scheduled, SizeIs(1)) << vm.metadata.name;
    EXPECT_EQ(scheduled[0].type, "Normal");
    EXPECT_EQ(scheduled[0].message,
              "Successfully assigned vm/" + vm.metadata.name + " to node/" + vm.spec.nodeName);
  }

  pass_renewing(alive_);
  const VMSet set = get<VMSet>("app");
  const Condition* c = find_condition(set.status.conditions, "SpreadSatisfied");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, "True");
  EXPECT_EQ(c->message, "zone: skew 0, maxSkew 1 (a=1 b=1 c=1)");
}

TEST_F(LoopsVmSetSpread, AZoneWithoutReplicasMakesTheConditionFalse) {
  // Zone c is cordoned while the set is placed: a:2 b:2. Once it is back,
  // it is an eligible domain with no replica — the loop must see its node
  // although no replica is bound there.
  Node c = get<Node>("host-c");
  c.spec.unschedulable = true;
  update(c);
  add_spread_set("app", 4);
  pass_renewing(alive_);
  pass_renewing(alive_);
  const VMSet placed = get<VMSet>("app");
  const Condition* cond = find_condition(placed.status.conditions, "SpreadSatisfied");
  ASSERT_NE(cond, nullptr);
  EXPECT_EQ(cond->status, "True");
  EXPECT_EQ(cond->message, "zone: skew 0, maxSkew 1 (a=2 b=2 c=0)");

  c = get<Node>("host-c");
  c.spec.unschedulable = false;
  update(c);
  clock_.advance(11s);  // the VMSet loop's resync
  pass_renewing(alive_);
  const VMSet set = get<VMSet>("app");
  cond = find_condition(set.status.conditions, "SpreadSatisfied");
  ASSERT_NE(cond, nullptr);
  EXPECT_EQ(cond->status, "False");
  EXPECT_EQ(cond->reason, "SkewExceeded");
  EXPECT_EQ(cond->message, "zone: a=2 c=0, maxSkew 1");
}

}  // namespace loops_vmset_spread_test
}  // namespace corral::loops::testing
