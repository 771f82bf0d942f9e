#include "controller/rebalance/move_checker.h"

#include <algorithm>
#include <utility>

#include "controller/scheduler/predicates.h"
#include "controller/scheduler/replica_filters.h"

namespace corral::rebalance {

MoveChecker::MoveChecker(scheduler::ClusterSnapshot& snapshot) : snapshot_(snapshot) {}

void MoveChecker::put_back(const scheduler::VmRequest& vm, uint32_t node, bool expected) {
  snapshot_.place(vm, node, expected);
}

void MoveChecker::restore() {
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
    if (it->node == scheduler::kNoIndex) {
      snapshot_.remove_vm(it->vm.name);  // it held no place before
    } else {
      put_back(it->vm, it->node, it->expected);
    }
  }
  undo_.clear();
}

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

int32_t MoveChecker::spread_skew(const scheduler::VmRequest& vm) const {
  const scheduler::VmSetInfo* set = snapshot_.vmset(vm.vmset);
  const scheduler::PoolInfo* pool = snapshot_.pool(vm.pool);
  if (set == nullptr || !set->spread || pool == nullptr) return 0;
  // The min is the spread filter's own (eligible domains, same predicate);
  // the max is taken over the same domains.
  const std::string& key = set->spread->topologyKey;
  const int32_t min = scheduler::min_eligible_domain_count(vm, *set, *pool, key, snapshot_);
  const scheduler::DomainCounter replicas(*set, key);
  const auto& nodes = snapshot_.nodes();
  int32_t max = min;
  for (const scheduler::Domain& d : snapshot_.domains(*pool, key)) {
    const int32_t count = replicas.count(nodes[d.nodes.front()]);
    if (count <= max) continue;
    if (std::any_of(d.nodes.begin(), d.nodes.end(),
                    [&](uint32_t n) { return scheduler::schedulable_for(vm, nodes[n]); }))
      max = count;
  }
  return max - min;
}

void MoveChecker::keep_end_state_fits(const scheduler::VmRequest& vm, uint32_t from,
                                      std::vector<uint32_t>& targets) {
  if (targets.empty()) return;
  const scheduler::VmSetInfo* set = snapshot_.vmset(vm.vmset);
  const bool spread = set != nullptr && set->spread.has_value();
  const int32_t skew_before = spread ? spread_skew(vm) : 0;
  const bool expected = snapshot_.expected(vm.name);
  snapshot_.remove_vm(vm.name);
  for (const auto& f : end_state_.filters()) f->prepare(vm, snapshot_);
  targets.erase(std::remove_if(targets.begin(), targets.end(),
                               [&](uint32_t t) {
                                 if (!passes(end_state_, vm, t)) return true;
                                 if (!spread) return false;
                                 snapshot_.bind(vm, t);
                                 const int32_t skew = spread_skew(vm);
                                 snapshot_.remove_vm(vm.name);
                                 return skew > std::max(set->spread->maxSkew, skew_before);
                               }),
                targets.end());
  put_back(vm, from, expected);
}

void MoveChecker::apply(const scheduler::VmRequest& vm, uint32_t to) {
  const scheduler::NodeInfo* from = snapshot_.node_of_vm(vm.name);
  undo_.push_back(Undo{vm, from ? from->index : scheduler::kNoIndex, snapshot_.expected(vm.name)});
  snapshot_.bind(vm, to);
}

}  // namespace corral::rebalance
