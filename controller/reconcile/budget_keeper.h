// DisruptionBudgetKeeper: every VMSet's disruption budget (disruption.h), kept
// from pass to pass by the move loop. disruption_budgets() reads every VM; at
// 300,000 VMs, while moves run (every set then has a VM changing), that was
// ~40 % of a rebalance round. The keeper holds what a budget needs of each VM
// (its set, in service, terminating, the VM it replaces) and per set the count
// of its in-service VMs that replace nothing and its replacements; a changed
// VM is subtracted as it was and added as it is. The result equals
// disruption_budgets() over the same objects (tests/unit/budget_keeper_test.cpp).
//
// Thread safety: none; the loop thread's.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "api/types.h"
#include "controller/reconcile/changed_names.h"
#include "controller/reconcile/disruption.h"

namespace corral::reconcile {

class DisruptionBudgetKeeper {
 public:
  using Source = VmSource;

  // The next budgets() reads every VM (a first call, or after a resync).
  void invalidate() { changed_.invalidate(); }
  // `name`'s VM changed, appeared or went.
  void vm_changed(std::string_view name) { changed_.changed(name, vms_.size()); }

  // Every set's budget, by VMSet name, as disruption_budgets(sets, VMs) says.
  std::map<std::string, DisruptionBudget> budgets(const std::vector<VMSet>& sets,
                                                  const Source& source);

 private:
  // What a budget needs of one VM.
  struct Facts {
    std::string owner_uid;  // its controlling VMSet's uid; "" for none
    bool terminating = false;
    bool in_service = false;
    std::string replaces;  // corral.io/replaces
  };
  // Per owning set (by uid): the non-terminating VMs.
  struct Counts {
    int32_t plain_in_service = 0;           // in service, replacing nothing
    std::set<std::string> replacements;     // names of those with corral.io/replaces
  };
  static Facts facts_of(const VM& vm);
  void add(const std::string& name, const Facts& f);
  void subtract(const std::string& name, const Facts& f);
  DisruptionBudget budget_of(const VMSet& set) const;

  ChangedNames changed_;
  std::unordered_map<std::string, Facts> vms_;     // by VM name
  std::unordered_map<std::string, Counts> counts_;  // by owner uid
};

}  // namespace corral::reconcile
