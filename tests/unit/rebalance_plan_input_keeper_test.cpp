// PlanInputKeeper: a round's input kept up to date from the VMs named as
// changed equals the input built afresh from every object, whatever changed
// in between (random changes, many rounds); and it reads only what changed.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <random>
#include <string>
#include <vector>

#include "api/annotations.h"
#include "api/conditions.h"
#include "controller/rebalance/annotations.h"
#include "controller/rebalance/plan_input.h"
#include "tests/unit/rebalance_fixtures.h"

namespace corral::rebalance::testing {
namespace {

// Everything the planner reads of a VmState, as one line (a mismatch shows which).
std::string describe(const VmState& v) {
  return v.name + " set=" + v.vmset + " node=" + v.node + "#" + std::to_string(v.node_index) +
         " usage=" + std::to_string(v.usage_cpu) + "/" + std::to_string(v.usage_memory) +
         " measured=" + std::to_string(v.measured_cpu) + "/" + std::to_string(v.measured_memory) +
         " request=" + v.request.name + "," + v.request.vmset + "," + v.request.pool + "," +
         std::to_string(v.request.cpu) + "," + std::to_string(v.request.memory) + "," +
         std::to_string(v.request.priority) + "," + std::to_string(v.request.epoch) +
         " movable=" + (v.movable ? "yes" : "no (" + v.not_movable_reason + ")");
}

std::vector<std::string> describe(const PlanInput& in) {
  std::vector<std::string> out;
  for (const NodeState& n : in.nodes)
    out.push_back("node " + n.name + " " + std::to_string(n.usage_cpu) + "/" +
                  std::to_string(n.allocatable_cpu));
  for (const VmState& v : in.vms) out.push_back(describe(v));
  return out;
}

class Keeping {
 public:
  Keeping() {
    w_.pool = rebalance_pool("p");
    for (int i = 0; i < 6; ++i)
      w_.nodes.push_back(loaded_node("h" + std::to_string(i), 16, 64, 4, 8));
    for (const char* s : {"a", "b", "c"}) {
      VMSet set = scheduler::testing::make_vmset(s, "p");
      w_.sets.push_back(set);
    }
    for (int i = 0; i < 40; ++i) add_vm();
  }

  World& world() { return w_; }
  std::mt19937& rng() { return rng_; }

  // The keeper's input with the changed names told, and the one built afresh.
  void compare(PlanInputKeeper& keeper, std::chrono::system_clock::time_point now) {
    for (const std::string& name : changed_) keeper.vm_changed(name);
    changed_.clear();
    const PlanInputKeeper::Source source{
        w_.nodes, w_.sets,
        [this](std::string_view name) -> const VM* {
          for (const VM& vm : w_.vms)
            if (vm.metadata.name == name) return &vm;
          return nullptr;
        },
        [this] {
          std::vector<const VM*> all;
          for (const VM& vm : w_.vms) all.push_back(&vm);
          std::sort(all.begin(), all.end(), [](const VM* a, const VM* b) {
            return a->metadata.name < b->metadata.name;
          });
          return all;
        }};
    const PlanInput& kept = keeper.build(w_.pool, source, now, {}, {});
    const PlanInput fresh = build_plan_input(w_.pool, w_.nodes, w_.sets, w_.vms, now, {}, {});
    ASSERT_EQ(describe(kept), describe(fresh));
  }

  // One random change to the world (told to the keeper at the next compare).
  void change(std::chrono::system_clock::time_point now) {
    std::uniform_int_distribution<int> what(0, 9);
    const int kind = what(rng_);
    if (kind == 9) {  // a node turns NotReady or Ready again
      Node& n = w_.nodes[pick(w_.nodes.size())];
      const bool ready = node_ready(n);
      n.status.phase = ready ? "NotReady" : "Ready";
      n.status.conditions.clear();
      n.status.conditions.push_back(Condition{"Ready", ready ? "False" : "True", "", "", "", 0});
      return;
    }
    if (kind == 8) {  // node usage only
      w_.nodes[pick(w_.nodes.size())].status.usage.cpu = scheduler::testing::cores(pick(12));
      return;
    }
    if (kind == 7 || w_.vms.empty()) {
      add_vm();
      return;
    }
    const size_t i = pick(w_.vms.size());
    VM& vm = w_.vms[i];
    changed_.push_back(vm.metadata.name);
    switch (kind) {
      case 0:  // deleted
        w_.vms.erase(w_.vms.begin() + static_cast<std::ptrdiff_t>(i));
        return;
      case 1:  // re-measured
        vm.status.usage.cpu = scheduler::testing::cores(0.1 * static_cast<double>(pick(20)));
        return;
      case 2:  // lost, failed, or back to Running
        vm.status.phase = std::array<const char*, 3>{"Lost", "Failed", "Running"}[pick(3)];
        return;
      case 3:  // bound elsewhere, or unbound
        vm.spec.nodeName = pick(4) == 0 ? "" : "h" + std::to_string(pick(w_.nodes.size()));
        return;
      case 4:  // becomes a replacement of another VM (that one is now being moved)
        vm.metadata.annotations[std::string(kReplacesAnnotation)] =
            w_.vms[pick(w_.vms.size())].metadata.name;
        vm.status.phase = pick(2) ? "Running" : "Starting";
        return;
      case 5:  // moved a while ago: in cooldown, or not
        vm.metadata.annotations[std::string(kMovedAtAnnotation)] =
            format_time(now - std::chrono::seconds(pick(600)));
        return;
      default:  // a new epoch it does not run in yet
        vm.spec.epoch += 1;
        return;
    }
  }

 private:
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  void add_vm() {
    const std::string set = std::string(1, static_cast<char>('a' + pick(3)));
    const std::string name = set + "-" + std::to_string(next_++);
    const bool bound = pick(5) != 0;
    VM vm = bound ? running_vm(name, set, 1, 1, "h" + std::to_string(pick(w_.nodes.size())),
                               0.1 * static_cast<double>(pick(10)))
                  : scheduler::testing::make_vm(name, set, 1, 1);
    w_.vms.push_back(std::move(vm));
    changed_.push_back(name);
  }

  World w_;
  std::mt19937 rng_{20261204};
  std::vector<std::string> changed_;
  int next_ = 0;
};

TEST(PlanInputKeeper, KeptFromTheChangesItEqualsTheInputBuiltAfresh) {
  Keeping k;
  PlanInputKeeper keeper;
  auto now = test_now();
  for (int round = 0; round < 300; ++round) {
    const int changes = std::uniform_int_distribution<int>(0, 6)(k.rng());
    for (int c = 0; c < changes; ++c) k.change(now);
    now += std::chrono::seconds(7);  // cooldowns end between rounds
    ASSERT_NO_FATAL_FAILURE(k.compare(keeper, now)) << "round " << round;
  }
}

TEST(PlanInputKeeper, AQuietRoundReadsNoVmAndAChangedVmAloneIsRead) {
  Keeping k;
  PlanInputKeeper keeper;
  ASSERT_NO_FATAL_FAILURE(k.compare(keeper, test_now()));
  EXPECT_EQ(keeper.last_read(), k.world().vms.size()) << "the first build reads every VM";
  ASSERT_NO_FATAL_FAILURE(k.compare(keeper, test_now()));
  EXPECT_EQ(keeper.last_read(), 0u);
  k.world().vms[3].status.usage.cpu = scheduler::testing::cores(3);
  keeper.vm_changed(k.world().vms[3].metadata.name);
  ASSERT_NO_FATAL_FAILURE(k.compare(keeper, test_now()));
  EXPECT_EQ(keeper.last_read(), 1u);
  keeper.invalidate();
  ASSERT_NO_FATAL_FAILURE(k.compare(keeper, test_now()));
  EXPECT_EQ(keeper.last_read(), k.world().vms.size());
}

}  // namespace
}  // namespace corral::rebalance::testing
