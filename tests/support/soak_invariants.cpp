#include "tests/support/soak_invariants.h"

#include <algorithm>
#include <map>
#include <set>

namespace corral::testing {

namespace soak_invariants_impl {

std::string where(const std::vector<const VmCopy*>& copies) {
  std::string out;
  for (const VmCopy* c : copies) {
    if (!out.empty()) out += ", ";
    out += c->node + "@" + std::to_string(c->epoch);
  }
  return out;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace soak_invariants_impl

std::vector<std::string> copy_violations(const std::vector<VmCopy>& copies,
                                         const std::function<bool(const std::string&)>& settled,
                                         const std::function<bool(const std::string&)>& self_fence,
                                         int* tolerated) {
  std::map<std::string, std::vector<const VmCopy*>> by_vm;
  for (const VmCopy& c : copies) by_vm[c.vm].push_back(&c);
  std::vector<std::string> out;
  for (const auto& [vm, list] : by_vm) {
    if (list.size() < 2) continue;
    std::set<std::string> nodes;
    std::set<int64_t> epochs;
    int on_settled = 0;
    for (const VmCopy* c : list) {
      nodes.insert(c->node);
      epochs.insert(c->epoch);
      on_settled += settled(c->node) ? 1 : 0;
    }
    const std::string at = " (node@epoch: " + soak_invariants_impl::where(list) + ")";
    if (nodes.size() < list.size()) {
      out.push_back("vm/" + vm + " runs twice on one node" + at);
    } else if (epochs.size() < list.size()) {
      out.push_back("vm/" + vm + " runs twice in one epoch" + at);
    } else if (self_fence(vm)) {
      out.push_back("selfFence vm/" + vm + " runs " + std::to_string(list.size()) + " copies" + at);
    } else if (on_settled >= 2) {
      out.push_back("vm/" + vm + " runs on " + std::to_string(on_settled) +
                    " hosts whose agents have converged" + at);
    } else if (tolerated) {
      ++*tolerated;
    }
  }
  return out;
}

std::chrono::duration<double> up_time_between(SoakClock::time_point from, SoakClock::time_point to,
                                              const Outages& outages) {
  if (to <= from) return std::chrono::duration<double>(0);
  std::chrono::duration<double> total = to - from;
  for (const auto& [down, up] : outages) {
    const auto a = std::max(from, down);
    const auto b = std::min(to, up);
    if (b > a) total -= b - a;
  }
  return std::max(total, std::chrono::duration<double>(0));
}

Growth growth_after_warmup(const std::vector<std::pair<double, double>>& samples, double warmup_s,
                           double fraction) {
  Growth g;
  std::vector<double> after;
  for (const auto& [t, v] : samples)
    if (t >= warmup_s) after.push_back(v);
  if (after.empty()) return g;
  const size_t window = std::max<size_t>(1, static_cast<size_t>(after.size() * fraction));
  std::vector<double> early(after.begin(), after.begin() + window);
  std::vector<double> late(after.end() - window, after.end());
  g.early = soak_invariants_impl::median(early);
  g.late = soak_invariants_impl::median(late);
  g.early_samples = static_cast<int>(early.size());
  g.late_samples = static_cast<int>(late.size());
  g.percent = g.early > 0 ? (g.late - g.early) / g.early * 100 : 0;
  return g;
}

}  // namespace corral::testing
