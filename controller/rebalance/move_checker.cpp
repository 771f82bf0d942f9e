#include "controller/rebalance/move_checker.h"

#include <algorithm>
#include <utility>

namespace corral::rebalance {

MoveChecker::MoveChecker(scheduler::ClusterSnapshot snapshot) : snapshot_(std::move(snapshot)) {}

void MoveChecker::prepare(const scheduler::VmRequest& vm) {
  membership_.prepare(vm, snapshot_);
  for (const auto& f : in_place_.filters()) f->prepare(vm, snapshot_);
}

bool MoveChecker::passes(const scheduler::Scheduler& chain, const scheduler::VmRequest& vm,
                         uint32_t node) const {
  const scheduler::NodeInfo& n = snapshot_.nodes()[node];
  if (!membership_.fits(vm, n, snapshot_, nullptr)) return false;
  for (const auto& f : chain.filters())
    if (!f->fits(vm, n, snapshot_, nullptr)) return false;
  return true;
}

bool MoveChecker::fits_in_place(const scheduler::VmRequest& vm, uint32_t node) const {
  return passes(in_place_, vm, node);
}

void MoveChecker::keep_end_state_fits(const scheduler::VmRequest& vm, uint32_t from,
                                      std::vector<uint32_t>& targets) {
  if (targets.empty()) return;
  snapshot_.remove_vm(vm.name);
  for (const auto& f : end_state_.filters()) f->prepare(vm, snapshot_);
  targets.erase(std::remove_if(targets.begin(), targets.end(),
                               [&](uint32_t t) { return !passes(end_state_, vm, t); }),
                targets.end());
  // Put it back where it was. bind() counts it as expected (not Running)
  // load, which no filter reads; the copy is ours.
  snapshot_.bind(vm, from);
}

void MoveChecker::apply(const scheduler::VmRequest& vm, uint32_t to) { snapshot_.bind(vm, to); }

}  // namespace corral::rebalance
