// DisruptionBudgetKeeper: budgets kept from the VMs named as changed equal
// disruption_budgets() over every object, whatever changed in between
// (random changes, many passes), and a quiet pass reads no VM.
#include <gtest/gtest.h>

#include <array>
#include <random>
#include <string>
#include <vector>

#include "api/annotations.h"
#include "controller/reconcile/budget_keeper.h"
#include "controller/reconcile/disruption.h"

namespace corral::reconcile {
namespace {

std::string describe(const std::map<std::string, DisruptionBudget>& budgets) {
  std::string out;
  for (const auto& [name, b] : budgets)
    out += name + ": replicas " + std::to_string(b.replicas) + " max " +
           std::to_string(b.max_unavailable) + " in service " + std::to_string(b.in_service) +
           " unavailable " + std::to_string(b.unavailable) + " in flight " +
           std::to_string(b.in_flight) + "\n";
  return out;
}

class World {
 public:
  World() {
    for (const char* name : {"a", "b", "c"}) {
      VMSet s;
      s.metadata.name = name;
      s.metadata.uid = std::string("uid-") + name;
      s.spec.replicas = 6;
      sets_.push_back(s);
    }
    sets_[1].spec.disruption.maxUnavailable = IntOrString{true, 0, "50%"};
    for (int i = 0; i < 24; ++i) add();
  }

  std::mt19937& rng() { return rng_; }
  std::vector<VM>& vms() { return vms_; }

  // The kept budgets with the changes told, and the ones counted afresh.
  void compare(DisruptionBudgetKeeper& keeper) {
    for (const std::string& name : changed_) keeper.vm_changed(name);
    changed_.clear();
    reads_ = 0;
    const auto fresh = disruption_budgets(sets_, vms_);
    for (const auto& [name, b] : fresh)
      if (b.in_flight > 0) {
        ++passes_with_moves_;
        break;
      }
    ASSERT_EQ(describe(keeper.budgets(sets_, source())), describe(fresh));
  }
  int passes_with_moves_ = 0;  // compared while some set had a move in flight
  DisruptionBudgetKeeper::Source source() {
    return DisruptionBudgetKeeper::Source{
        [this](std::string_view name) -> const VM* {
          ++reads_;
          for (const VM& vm : vms_)
            if (vm.metadata.name == name) return &vm;
          return nullptr;
        },
        [this]() -> const std::vector<VM>& {
          reads_ += vms_.size();
          return vms_;
        }};
  }
  size_t reads() const { return reads_; }
  const std::vector<VMSet>& sets() const { return sets_; }
  std::map<std::string, DisruptionBudget> kept(DisruptionBudgetKeeper& keeper) {
    return keeper.budgets(sets_, source());
  }

  void change() {
    const int kind = std::uniform_int_distribution<int>(0, 11)(rng_);
    if (kind >= 9 || vms_.empty()) return add();
    if (kind == 8) {  // rarely, a set deleted and made again: a new uid
      if (pick(8) == 0) sets_[pick(sets_.size())].metadata.uid += "x";
      return;
    }
    const size_t i = pick(vms_.size());
    VM& vm = vms_[i];
    changed_.push_back(vm.metadata.name);
    switch (kind) {
      case 0:
        vms_.erase(vms_.begin() + static_cast<std::ptrdiff_t>(i));
        return;
      case 1:  // Ready or not
        vm.status.conditions = {Condition{"Ready", pick(3) ? "True" : "False", "", "", "", 0}};
        return;
      case 2:
        vm.status.phase = std::array<const char*, 5>{"Running", "Running", "Terminating", "Lost", "Pending"}[pick(5)];
        return;
      case 3: {  // becomes a replacement: mostly of a VM of its own set, else of anything
        std::vector<const VM*> same;
        for (const VM& other : vms_)
          if (&other != &vm && other.metadata.ownerReferences.size() == 1 &&
              vm.metadata.ownerReferences.size() == 1 &&
              other.metadata.ownerReferences[0].uid == vm.metadata.ownerReferences[0].uid)
            same.push_back(&other);
        std::string target = "gone";
        if (!same.empty() && pick(4)) target = same[pick(same.size())]->metadata.name;
        else if (pick(2)) target = vms_[pick(vms_.size())].metadata.name;
        vm.metadata.annotations[std::string(kReplacesAnnotation)] = target;
        return;
      }
      case 4:  // its move ends: the mark is stripped
        vm.metadata.annotations.erase(std::string(kReplacesAnnotation));
        return;
      case 5:  // a new epoch it does not run in yet, or it catches up
        if (pick(2)) vm.spec.epoch += 1;
        else vm.status.epoch = vm.spec.epoch;
        return;
      case 6:  // owned by another of the sets
        vm.metadata.ownerReferences = {
            OwnerReference{kApiVersion, "VMSet", "", sets_[pick(sets_.size())].metadata.uid, true}};
        return;
      default:  // Running and Ready again
        vm.status.phase = "Running";
        vm.status.conditions = {Condition{"Ready", "True", "", "", "", 0}};
        return;
    }
  }

 private:
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  void add() {
    const VMSet& set = sets_[pick(sets_.size())];
    VM vm;
    vm.metadata.name = set.metadata.name + "-" + std::to_string(next_++);
    vm.metadata.ownerReferences.push_back(
        OwnerReference{kApiVersion, "VMSet", set.metadata.name, set.metadata.uid, true});
    vm.spec.nodeName = "n" + std::to_string(pick(3));
    vm.status.nodeName = vm.spec.nodeName;
    vm.status.phase = "Running";
    vm.status.conditions = {Condition{"Ready", "True", "", "", "", 0}};
    changed_.push_back(vm.metadata.name);
    vms_.push_back(std::move(vm));
  }

  std::vector<VMSet> sets_;
  std::vector<VM> vms_;
  std::vector<std::string> changed_;
  std::mt19937 rng_{42};
  size_t reads_ = 0;
  int next_ = 0;
};

TEST(DisruptionBudgetKeeper, KeptFromTheChangesItEqualsCountingEveryVm) {
  World w;
  DisruptionBudgetKeeper keeper;
  for (int pass = 0; pass < 400; ++pass) {
    const int changes = std::uniform_int_distribution<int>(0, 5)(w.rng());
    for (int c = 0; c < changes; ++c) w.change();
    ASSERT_NO_FATAL_FAILURE(w.compare(keeper)) << "pass " << pass;
  }
  EXPECT_GT(w.passes_with_moves_, 100) << "the changes must make moves in flight, or the test checks little";
}

TEST(DisruptionBudgetKeeper, AReplacementAndTheVmItReplacesAreOneSlot) {
  World w;
  w.vms().resize(2);  // two VMs of one set, both Running and Ready
  VM& old = w.vms()[0];
  VM& replacement = w.vms()[1];
  replacement.metadata.ownerReferences = old.metadata.ownerReferences;
  replacement.metadata.annotations[std::string(kReplacesAnnotation)] = old.metadata.name;
  DisruptionBudgetKeeper keeper;
  ASSERT_NO_FATAL_FAILURE(w.compare(keeper));
  const VMSet* set = nullptr;
  for (const VMSet& s : w.sets())
    if (s.metadata.uid == old.metadata.ownerReferences[0].uid) set = &s;
  ASSERT_NE(set, nullptr);
  const DisruptionBudget b = w.kept(keeper).at(set->metadata.name);
  EXPECT_EQ(b.in_service, 1);
  EXPECT_EQ(b.in_flight, 1);
}

TEST(DisruptionBudgetKeeper, AQuietPassReadsNoVm) {
  World w;
  DisruptionBudgetKeeper keeper;
  ASSERT_NO_FATAL_FAILURE(w.compare(keeper));
  EXPECT_EQ(w.reads(), w.vms().size());
  ASSERT_NO_FATAL_FAILURE(w.compare(keeper));
  EXPECT_EQ(w.reads(), 0u);
  w.vms()[0].status.conditions.clear();
  keeper.vm_changed(w.vms()[0].metadata.name);
  ASSERT_NO_FATAL_FAILURE(w.compare(keeper));
  EXPECT_EQ(w.reads(), 1u);
}

}  // namespace
}  // namespace corral::reconcile
