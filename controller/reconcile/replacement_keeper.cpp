#include "controller/reconcile/replacement_keeper.h"

#include "controller/reconcile/moves.h"

namespace corral::reconcile {

std::vector<const VM*> ReplacementKeeper::replacements(const Source& source) {
  if (changed_.all()) {
    names_.clear();
    for (const VM& vm : source.all())
      if (move_in_flight(vm)) names_.insert(vm.metadata.name);
  } else {
    for (const std::string& name : changed_.names()) {
      const VM* vm = source.vm_named(name);
      if (vm && move_in_flight(*vm)) {
        names_.insert(name);
      } else {
        names_.erase(name);
      }
    }
  }
  changed_.read();
  std::vector<const VM*> out;
  out.reserve(names_.size());
  for (const std::string& name : names_)
    if (const VM* vm = source.vm_named(name)) out.push_back(vm);
  return out;
}

}  // namespace corral::reconcile
