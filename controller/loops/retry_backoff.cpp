#include "controller/loops/retry_backoff.h"

#include <algorithm>

namespace corral::loops {
namespace {

bool power_of_two(int n) { return n > 0 && (n & (n - 1)) == 0; }

}  // namespace

RetryBackoff::RetryBackoff(Options options) : options_(options) {}

RetryBackoff::Duration RetryBackoff::delay_for(int failures) const {
  const Duration base = options_.base_delay;
  const Duration cap = options_.max_delay;
  if (failures <= 0) return Duration::zero();
  Duration d = base;
  // Doubling stops at the cap (and long before the duration could overflow).
  for (int i = 1; i < failures && d < cap; ++i) d *= 2;
  return std::min(d, cap);
}

bool RetryBackoff::due(const std::string& key, SteadyTime now) const {
  auto it = keys_.find(key);
  return it == keys_.end() || now >= it->second.due;
}

std::optional<RetryBackoff::SteadyTime> RetryBackoff::due_at(const std::string& key) const {
  auto it = keys_.find(key);
  if (it == keys_.end()) return std::nullopt;
  return it->second.due;
}

std::optional<RetryBackoff::SteadyTime> RetryBackoff::next_due() const {
  std::optional<SteadyTime> out;
  for (const auto& [key, k] : keys_)
    if (!out || k.due < *out) out = k.due;
  return out;
}

int RetryBackoff::failures(const std::string& key) const {
  auto it = keys_.find(key);
  return it == keys_.end() ? 0 : it->second.failures;
}

RetryBackoff::Failure RetryBackoff::failed(const std::string& key, const std::string& error,
                                           SteadyTime now) {
  Key& k = keys_[key];
  Failure out;
  out.log = k.failures == 0 || k.error != error || power_of_two(k.failures + 1);
  k.failures += 1;
  k.error = error;
  out.failures = k.failures;
  out.delay = delay_for(k.failures);
  out.due = k.due = now + out.delay;
  return out;
}

int RetryBackoff::succeeded(const std::string& key) {
  auto it = keys_.find(key);
  if (it == keys_.end()) return 0;
  const int failures = it->second.failures;
  keys_.erase(it);
  return failures;
}

void RetryBackoff::retain(const std::function<bool(const std::string& key)>& keep) {
  std::erase_if(keys_, [&](const auto& kv) { return !keep(kv.first); });
}

}  // namespace corral::loops
