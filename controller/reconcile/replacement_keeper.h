// ReplacementKeeper: the moves in flight — every VM that replaces another
// (corral.io/replaces) and is not Terminating — kept from pass to pass by the
// move loop from the VMs that changed. progress_moves() over the VM list
// scans all of them twice (300,000 at ten thousand hosts, every pass); with
// the keeper a pass looks up the few replacements and the VMs they name.
// progress_moves(keeper.replacements(...), vm_named) equals progress_moves(VMs)
// over the same objects (tests/unit/replacement_keeper_test.cpp).
//
// Thread safety: none; the loop thread's.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/types.h"
#include "controller/reconcile/changed_names.h"

namespace corral::reconcile {

class ReplacementKeeper {
 public:
  using Source = VmSource;

  void invalidate() { changed_.invalidate(); }
  void vm_changed(std::string_view name) { changed_.changed(name, names_.size()); }

  // The replacements now, in name order (the pointers are the source's).
  std::vector<const VM*> replacements(const Source& source);

 private:
  ChangedNames changed_;
  std::set<std::string> names_;  // the replacements' names
};

}  // namespace corral::reconcile
