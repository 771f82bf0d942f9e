// ReplacementKeeper: progress_moves over the kept replacements equals
// progress_moves over every VM, whatever changed in between (random changes,
// many passes), and a quiet pass reads only the replacements.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/clock.h"
#include "controller/reconcile/moves.h"
#include "controller/reconcile/replacement_keeper.h"
#include "tests/unit/vm_churn.h"

namespace corral::reconcile {
namespace {

std::string describe(const std::vector<MoveStep>& steps) {
  std::string out;
  for (const MoveStep& s : steps)
    out += std::string(move_step_name(s.kind)) + " " + s.replacement + " replaces " + s.old_vm + " (" +
           s.old_uid + ") " + s.from + " → " + s.to + ": " + s.message + "\n";
  return out;
}

class World : public testing::VmChurn {
 public:
  // The steps from the kept replacements and from every VM.
  void compare(ReplacementKeeper& keeper) {
    for (const std::string& name : take_changed()) keeper.vm_changed(name);
    reset_reads();
    const WallTime now{};
    const auto fresh = progress_moves(vms(), now);
    if (!fresh.empty()) ++passes_with_moves_;
    auto named = [this](std::string_view name) { return find(name); };
    const auto kept = progress_moves(keeper.replacements(source()), named, now);
    ASSERT_EQ(describe(kept), describe(fresh));
  }
  ReplacementKeeper::Source source() {
    return ReplacementKeeper::Source{[this](std::string_view name) { return find(name); },
                                     [this]() -> const std::vector<VM>& { return all(); }};
  }
  int passes_with_moves_ = 0;
};

TEST(ReplacementKeeper, KeptFromTheChangesItEqualsScanningEveryVm) {
  World w;
  ReplacementKeeper keeper;
  for (int pass = 0; pass < 400; ++pass) {
    const int changes = std::uniform_int_distribution<int>(0, 5)(w.rng());
    for (int c = 0; c < changes; ++c) w.change();
    ASSERT_NO_FATAL_FAILURE(w.compare(keeper)) << "pass " << pass;
  }
  EXPECT_GT(w.passes_with_moves_, 100) << "the changes must make moves in flight, or the test checks little";
}

TEST(ReplacementKeeper, AQuietPassReadsOnlyTheReplacements) {
  World w;
  w.vms().resize(3);
  w.vms()[1].metadata.annotations[std::string(kReplacesAnnotation)] = w.vms()[0].metadata.name;
  ReplacementKeeper keeper;
  ASSERT_EQ(keeper.replacements(w.source()).size(), 1u);
  w.reset_reads();
  ASSERT_EQ(keeper.replacements(w.source()).size(), 1u);
  EXPECT_EQ(w.reads(), 1u) << "the one replacement looked up, no VM scanned";
  w.vms()[1].status.phase = "Terminating";
  keeper.vm_changed(w.vms()[1].metadata.name);
  EXPECT_TRUE(keeper.replacements(w.source()).empty()) << "a Terminating replacement is no move in flight";
}

}  // namespace
}  // namespace corral::reconcile
