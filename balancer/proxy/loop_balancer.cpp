#include "balancer/proxy/loop_balancer.h"

#include <algorithm>
#include <chrono>
#include <unordered_set>


namespace corral::balancer {

void LoopBalancer::install(std::shared_ptr<const InstalledSet> set) {
  set_ = std::move(set);
  const EndpointSet& s = *set_->set;
  bool affinity = s.spec.sessionAffinity == "sourceIP";
  default_picker_ = make_picker(s.spec.algorithm, affinity, s.backends);
  rule_pickers_.clear();
  for (size_t i = 0; i < s.routes.size(); ++i)
    rule_pickers_.push_back(make_picker(s.spec.algorithm, affinity, s.routes.members(i)));
  // Idle connections to backends that are gone or draining are closed now;
  // a draining endpoint finishes only what is in flight.
  poolable_.clear();
  for (const Backend* b : s.backends)
    if (!b->endpoint.draining) poolable_.insert(b->state.get());
  pool_.retain_only(poolable_);
}

void LoopBalancer::give_idle(const Backend& b, std::unique_ptr<BackendConnection> c) {
  if (poolable_.count(b.state.get())) pool_.give(b.state.get(), std::move(c));
}

const Backend* LoopBalancer::pick(int route, const PickContext& ctx) {
  if (!set_) return nullptr;
  if (route == RouteTable::kDefaultRoute) return default_picker_->pick(ctx);
  return rule_pickers_[static_cast<size_t>(route)]->pick(ctx);
}

SteadyNanos steady_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void record_connect_failure(BackendState& state, SteadyNanos now) {
  int32_t failures = state.consecutive_failures.fetch_add(1, std::memory_order_relaxed) + 1;
  int64_t seconds = std::min<int64_t>(30, failures);
  state.ejected_until.store(now + seconds * 1'000'000'000LL, std::memory_order_relaxed);
  state.errors.fetch_add(1, std::memory_order_relaxed);
  observe_ewma(state.error_ewma_bits, 1.0, 0.1);
}

void record_connect_success(BackendState& state) {
  if (state.consecutive_failures.load(std::memory_order_relaxed) != 0) {
    state.consecutive_failures.store(0, std::memory_order_relaxed);
    state.ejected_until.store(0, std::memory_order_relaxed);
  }
}

}  // namespace corral::balancer
