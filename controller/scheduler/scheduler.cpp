#include "controller/scheduler/scheduler.h"

#include <algorithm>
#include <utility>

#include "controller/scheduler/node_filters.h"
#include "controller/scheduler/preference_scorers.h"
#include "controller/scheduler/replica_filters.h"
#include "controller/scheduler/resource_filter.h"
#include "controller/scheduler/strategy_scorers.h"

namespace corral::scheduler {

std::string unschedulable_message(size_t total_nodes, const std::map<std::string, size_t>& reasons,
                                  size_t max_reasons) {
  std::vector<std::pair<std::string, size_t>> sorted(reasons.begin(), reasons.end());
  // Keep the most frequent; ties by reason so the message is stable.
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  size_t other = 0;
  if (max_reasons > 0 && sorted.size() > max_reasons) {
    for (size_t i = max_reasons; i < sorted.size(); ++i) other += sorted[i].second;
    sorted.resize(max_reasons);
  }
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second < b.second : a.first < b.first;
  });
  std::string out = "0/" + std::to_string(total_nodes) + " nodes are available";
  const char* sep = ": ";
  for (const auto& [reason, count] : sorted) {
    out += sep + std::to_string(count) + " " + reason;
    sep = ", ";
  }
  if (other > 0) out += sep + std::to_string(other) + " other";
  return out + ".";
}

Scheduler::Scheduler(Options options) : options_(std::move(options)) {
  // Pool membership is not in this list: the scheduler walks the pool's member
  // index, which is that filter applied once per node change instead of once
  // per VM and node (see explain()).
  filters_.push_back(std::make_unique<ReadyFilter>());
  filters_.push_back(std::make_unique<NotCordonedFilter>());
  filters_.push_back(std::make_unique<TaintFilter>());
  filters_.push_back(std::make_unique<ResourceFitFilter>());
  filters_.push_back(std::make_unique<AntiAffinityFilter>());
  filters_.push_back(std::make_unique<TopologySpreadFilter>());
  spread_ = std::make_unique<SpreadScorer>();
  binpack_ = std::make_unique<BinpackScorer>();
  least_loaded_ = std::make_unique<LeastLoadedScorer>();
  prefer_no_schedule_ = std::make_unique<PreferNoScheduleScorer>();
  preferred_anti_affinity_ = std::make_unique<PreferredAntiAffinityScorer>();
  topology_spread_ = std::make_unique<TopologySpreadScorer>();
}

bool Scheduler::passes(const VmRequest& vm, const NodeInfo& node, const ClusterSnapshot& snapshot,
                       std::string* reason) const {
  for (const auto& f : filters_)
    if (!f->fits(vm, node, snapshot, reason)) return false;
  return true;
}

double Scheduler::total_score(const VmRequest& vm, const NodeInfo& node,
                              const ClusterSnapshot& snapshot, const Scorer& strategy) const {
  return options_.strategy_weight * strategy.score(vm, node, snapshot) +
         options_.prefer_no_schedule_weight * prefer_no_schedule_->score(vm, node, snapshot) +
         options_.preferred_anti_affinity_weight *
             preferred_anti_affinity_->score(vm, node, snapshot) +
         options_.topology_spread_weight * topology_spread_->score(vm, node, snapshot);
}

size_t Scheduler::feasible_target(size_t members) const {
  if (members <= options_.min_feasible_nodes) return members;
  int pct = options_.percentage_of_nodes_to_score;
  if (pct <= 0) {
    const int per = std::max(options_.adaptive_nodes_per_percent, 1);
    pct = std::max(options_.adaptive_base_percentage - static_cast<int>(members) / per,
                   options_.adaptive_min_percentage);
  }
  if (pct >= 100) return members;  // asked for explicitly: no cap
  size_t want = std::max(options_.min_feasible_nodes, members * static_cast<size_t>(pct) / 100);
  if (options_.max_feasible_nodes > 0)
    want = std::min(want, std::max(options_.max_feasible_nodes, options_.min_feasible_nodes));
  return want;
}

std::string Scheduler::explain(const VmRequest& vm, const PoolInfo& pool,
                               const ClusterSnapshot& snapshot) const {
  // Only reached when nothing fits, after a full pass: a second pass that
  // builds reasons keeps string work off the path of VMs that do fit.
  std::map<std::string, size_t> reasons;
  for (uint32_t m : pool.members) {
    std::string reason;
    if (!passes(vm, snapshot.nodes()[m], snapshot, &reason)) ++reasons[reason];
  }
  const size_t total = snapshot.node_count();
  if (total > pool.members.size())
    reasons[PoolMembershipFilter::reason(pool.name)] += total - pool.members.size();
  return unschedulable_message(total, reasons, options_.max_summary_reasons);
}

Decision Scheduler::schedule_one(ClusterSnapshot& snapshot, const VmRequest& vm) {
  Decision d;
  d.vm = vm.name;
  if (!vm.vmset.empty() && snapshot.vmset(vm.vmset) == nullptr && vm.pool.empty()) {
    d.message = "vmset \"" + vm.vmset + "\" not found";
    return d;
  }
  PoolInfo* pool = snapshot.mutable_pool(vm.pool);
  if (pool == nullptr) {
    d.message = "pool \"" + vm.pool + "\" not found";
    return d;
  }
  // The VM is being (re)placed: a place it still held (a caller re-placing a
  // bound VM) is released first, so that it is neither its own sibling in
  // anti-affinity and spread nor counted twice on a node.
  snapshot.remove_vm(vm.name);
  for (const auto& f : filters_) f->prepare(vm, snapshot);
  Scorer* strategy = spread_.get();
  if (pool->strategy == Strategy::kBinpack) strategy = binpack_.get();
  if (pool->strategy == Strategy::kLeastLoaded) strategy = least_loaded_.get();
  for (Scorer* s : {strategy, prefer_no_schedule_.get(), preferred_anti_affinity_.get(),
                    topology_spread_.get()})
    s->prepare(vm, snapshot);

  if (!vm.target_node.empty()) return bind_to_target(snapshot, vm, *pool);

  // Walk the members from where the last search of this pool stopped, until
  // enough feasible nodes are found (all of them in pools up to
  // Options::min_feasible_nodes), then pick the best; ties go to the name that
  // sorts first.
  const auto& members = pool->members;
  const auto& nodes = snapshot.nodes();
  const size_t n = members.size();
  const size_t want = feasible_target(n);
  const size_t start = n == 0 ? 0 : pool->next_start % n;
  Candidate best;
  size_t found = 0;
  size_t visited = 0;
  for (; visited < n && found < want; ++visited) {
    const NodeInfo& node = nodes[members[(start + visited) % n]];
    if (!passes(vm, node, snapshot, nullptr)) continue;
    ++found;
    const double score = total_score(vm, node, snapshot, *strategy);
    if (best.node == kNoIndex || score > best.score ||
        (score == best.score && node.name < nodes[best.node].name)) {
      best = {node.index, score};
    }
  }
  if (n > 0) pool->next_start = (start + visited) % n;

  if (best.node == kNoIndex) {
    d.message = explain(vm, *pool, snapshot);
    return d;
  }
  snapshot.bind(vm, best.node);
  d.node = nodes[best.node].name;
  d.epoch = vm.epoch + 1;
  d.score = best.score;
  return d;
}

Decision Scheduler::bind_to_target(ClusterSnapshot& snapshot, const VmRequest& vm,
                                   const PoolInfo& pool) {
  Decision d;
  d.vm = vm.name;
  const NodeInfo* node = snapshot.node(vm.target_node);
  const std::string target = "move target node/" + vm.target_node;
  if (node == nullptr || !node->present) {
    d.message = target + " not found";
    return d;
  }
  if (!std::binary_search(pool.members.begin(), pool.members.end(), node->index,
                          [&](uint32_t a, uint32_t b) {
                            return snapshot.nodes()[a].name < snapshot.nodes()[b].name;
                          })) {
    d.message = target + ": " + PoolMembershipFilter::reason(pool.name);
    return d;
  }
  std::string reason;
  if (!passes(vm, *node, snapshot, &reason)) {
    d.message = target + ": " + reason;
    return d;
  }
  snapshot.bind(vm, node->index);
  d.node = node->name;
  d.epoch = vm.epoch + 1;
  return d;
}

std::vector<Decision> Scheduler::schedule_batch(ClusterSnapshot& snapshot,
                                                std::vector<VmRequest> pending) {
  std::sort(pending.begin(), pending.end(), [](const VmRequest& a, const VmRequest& b) {
    return a.priority != b.priority ? a.priority > b.priority : a.name < b.name;
  });
  std::vector<Decision> out;
  out.reserve(pending.size());
  for (const auto& vm : pending) out.push_back(schedule_one(snapshot, vm));
  return out;
}

std::vector<Decision> schedule_batch(ClusterSnapshot& snapshot, std::vector<VmRequest> pending,
                                     const Options& options) {
  Scheduler scheduler(options);
  return scheduler.schedule_batch(snapshot, std::move(pending));
}

}  // namespace corral::scheduler
