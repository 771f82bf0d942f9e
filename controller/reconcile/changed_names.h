// ChangedNames: what a keeper of per-object facts must re-read before its
// next answer — every object (at first, after a resync, or once so many
// changed that one full read costs less than the lookups) or only the
// objects the cache's deltas named since. The keepers of the move loop
// (DisruptionBudgetKeeper, rebalance::PlanInputKeeper, ReplacementKeeper)
// share it.
//
// Thread safety: none; the loop thread's.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "api/types.h"

namespace corral::reconcile {

// What a keeper of per-VM facts reads: the cache's VMs.
struct VmSource {
  std::function<const VM*(std::string_view)> vm_named;  // null: no VM of that name
  std::function<const std::vector<VM>&()> all;          // called only to read every VM
};

class ChangedNames {
 public:
  // The next read is of every object.
  void invalidate() {
    all_ = true;
    names_.clear();
  }
  // `name` changed, appeared or went; `known`: how many objects the keeper
  // holds (past max(10,000, known / 2) changes a full read is cheaper).
  void changed(std::string_view name, size_t known) {
    if (all_) return;  // every object is read next time anyway
    names_.emplace(name);
    if (names_.size() > std::max<size_t>(10'000, known / 2)) invalidate();
  }
  // True: read every object. False: read names().
  bool all() const { return all_; }
  const std::unordered_set<std::string>& names() const { return names_; }
  // The keeper has read what was asked.
  void read() {
    all_ = false;
    names_.clear();
  }

 private:
  bool all_ = true;
  std::unordered_set<std::string> names_;
};

}  // namespace corral::reconcile
