// VmChurn: a few VMSets and their VMs changed at random, as the move loop's
// keepers see them (tests of DisruptionBudgetKeeper and ReplacementKeeper):
// each change names the VMs it touched, and lookups count as reads.
#pragma once

#include <array>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "api/annotations.h"
#include "api/types.h"

namespace corral::testing {

class VmChurn {
 public:
  VmChurn() {
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

  // The VMs named as changed since the last call (each changed, appeared or went).
  std::vector<std::string> take_changed() {
    std::vector<std::string> out;
    out.swap(changed_);
    return out;
  }
  // A VM by name, counting the lookup as a read.
  const VM* find(std::string_view name) {
    ++reads_;
    for (const VM& vm : vms_)
      if (vm.metadata.name == name) return &vm;
    return nullptr;
  }
  // Every VM, counting each as read.
  const std::vector<VM>& all() {
    reads_ += vms_.size();
    return vms_;
  }
  size_t reads() const { return reads_; }
  void reset_reads() { reads_ = 0; }
  const std::vector<VMSet>& sets() const { return sets_; }

  // One random change: a VM added, deleted, made Ready or not, its phase,
  // made a replacement of another (mostly of its own set) or no longer,
  // a new epoch, another owner; rarely a set made again with a new uid.
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

}  // namespace corral::testing
