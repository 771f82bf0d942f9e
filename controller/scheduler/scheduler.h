// The scheduler's decision core: snapshot → filter → score → select → bind, as
// a pure function of (snapshot, pending VMs, options). No store, no clock, no
// I/O: the control loop that wires it to the store writes the decisions back
// (spec.nodeName + spec.epoch for a binding, status.message for the rest).
// See README.md in this folder for the pipeline.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controller/scheduler/filter.h"
#include "controller/scheduler/options.h"
#include "controller/scheduler/scorer.h"
#include "controller/scheduler/snapshot.h"

namespace corral::scheduler {

struct Decision {
  std::string vm;
  std::string node;   // the binding; empty when unschedulable
  int64_t epoch = 0;  // the binding's epoch: the request's epoch + 1
  double score = 0;   // the winning node's total score (for the log line)
  // Unschedulable: "0/12 nodes are available: 5 insufficient memory, 7 NotReady."
  // or "pool \"x\" not found"; empty when bound.
  std::string message;
  bool bound() const { return !node.empty(); }
};

// Rejection counts → the kube-style summary, counts ascending then reason
// (as "0/12 nodes are available: 5 insufficient memory, 7 NotReady."). At most
// `max_reasons` are listed, the most frequent; the rest sum into "N other".
std::string unschedulable_message(size_t total_nodes, const std::map<std::string, size_t>& reasons,
                                  size_t max_reasons);

// Thread safety: none; a Scheduler's filters keep per-VM state between
// prepare() and fits(). One per scheduling loop.
class Scheduler {
 public:
  explicit Scheduler(Options options = {});

  // Places `pending` in order of spec.priority (higher first), then name. Each
  // is bound — and `snapshot` updated at once, so the next VM of the batch sees
  // it — or gets an unschedulable message. Decisions come back in that order.
  // Deterministic: the same snapshot and batch give the same decisions.
  // A VM of the batch that still holds a place in `snapshot` is being moved:
  // that place is released before it is placed again.
  std::vector<Decision> schedule_batch(ClusterSnapshot& snapshot, std::vector<VmRequest> pending);
  // One VM; binds it in `snapshot` when it fits.
  Decision schedule_one(ClusterSnapshot& snapshot, const VmRequest& vm);

  // The filters in the order they run (cheapest and most decisive first); the
  // first that rejects a node gives that node's reason.
  const std::vector<std::unique_ptr<Filter>>& filters() const { return filters_; }

 private:
  struct Candidate {
    uint32_t node = kNoIndex;
    double score = 0;
  };
  bool passes(const VmRequest& vm, const NodeInfo& node, const ClusterSnapshot& snapshot,
              std::string* reason) const;
  double total_score(const VmRequest& vm, const NodeInfo& node, const ClusterSnapshot& snapshot,
                     const Scorer& strategy) const;
  size_t feasible_target(size_t members) const;
  // A move's replacement: its target node or nothing, through every filter.
  Decision bind_to_target(ClusterSnapshot& snapshot, const VmRequest& vm, const PoolInfo& pool);
  std::string explain(const VmRequest& vm, const PoolInfo& pool,
                      const ClusterSnapshot& snapshot) const;

  Options options_;
  std::vector<std::unique_ptr<Filter>> filters_;
  std::unique_ptr<Scorer> spread_, binpack_, least_loaded_;
  std::unique_ptr<Scorer> prefer_no_schedule_, preferred_anti_affinity_, topology_spread_;
};

// Convenience: a Scheduler with `options`, for one batch.
std::vector<Decision> schedule_batch(ClusterSnapshot& snapshot, std::vector<VmRequest> pending,
                                     const Options& options = {});

}  // namespace corral::scheduler
