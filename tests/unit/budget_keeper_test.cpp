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
#include "tests/unit/vm_churn.h"

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

// The budgets kept with the changes told, compared with those counted afresh.
class World : public testing::VmChurn {
 public:
  void compare(DisruptionBudgetKeeper& keeper) {
    for (const std::string& name : take_changed()) keeper.vm_changed(name);
    reset_reads();
    const auto fresh = disruption_budgets(sets(), vms());
    for (const auto& [name, b] : fresh)
      if (b.in_flight > 0) {
        ++passes_with_moves_;
        break;
      }
    ASSERT_EQ(describe(keeper.budgets(sets(), source())), describe(fresh));
  }
  int passes_with_moves_ = 0;  // compared while some set had a move in flight
  DisruptionBudgetKeeper::Source source() {
    return DisruptionBudgetKeeper::Source{[this](std::string_view name) { return find(name); },
                                          [this]() -> const std::vector<VM>& { return all(); }};
  }
  std::map<std::string, DisruptionBudget> kept(DisruptionBudgetKeeper& keeper) {
    return keeper.budgets(sets(), source());
  }
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
