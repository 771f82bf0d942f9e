#include "controller/reconcile/spread_condition.h"

namespace corral::reconcile {

std::optional<Condition> spread_condition(const VMSet& set, const SetTopology& topology,
                                          const std::string& now) {
  if (!set.spec.spread || !topology.judges_spread()) return std::nullopt;
  const std::string& key = topology.spread_key();
  const int32_t max_skew = set.spec.spread->maxSkew;
  const scheduler::TopologySkew skew = topology.spread();
  Condition c;
  c.type = kSpreadSatisfied;
  c.lastTransitionTime = now;
  c.observedGeneration = set.metadata.generation;
  if (!skew.any_eligible) {
    c.status = condition_status::kFalse;
    c.reason = "NoEligibleDomain";
    c.message = key + ": no Ready, schedulable node of pool " + set.spec.pool + " has the label";
    return c;
  }
  if (skew.skew() > max_skew) {
    c.status = condition_status::kFalse;
    c.reason = "SkewExceeded";
    c.message = key + ": " + skew.most_crowded()->value + "=" +
                std::to_string(skew.most_crowded()->count) + " " + skew.emptiest_eligible()->value +
                "=" + std::to_string(skew.emptiest_eligible()->count) + ", maxSkew " +
                std::to_string(max_skew);
    return c;
  }
  c.status = condition_status::kTrue;
  c.reason = "WithinMaxSkew";
  c.message = key + ": skew " + std::to_string(skew.skew()) + ", maxSkew " +
              std::to_string(max_skew) + " (";
  size_t shown = 0;
  for (const auto& d : skew.domains) {
    if (shown == kMaxDomainsShown) {
      c.message += " …";
      break;
    }
    if (shown++ > 0) c.message += " ";
    c.message += d.value + "=" + std::to_string(d.count);
  }
  c.message += ")";
  return c;
}

}  // namespace corral::reconcile
