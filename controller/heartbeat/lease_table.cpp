#include "controller/heartbeat/lease_table.h"

#include <algorithm>

namespace corral::heartbeat {

void LeaseTable::renew(const std::string& node, const std::string& holder, SteadyTime now) {
  std::lock_guard lock(mu_);
  Lease& lease = leases_[node];
  // A beat read before the last one renewed cannot take its renewal back.
  lease.renewed = lease.holder == holder ? std::max(lease.renewed, now) : now;
  lease.holder = holder;
  lease.released = false;
  ++lease.renewals;
}

void LeaseTable::release(const std::string& node) {
  std::lock_guard lock(mu_);
  auto it = leases_.find(node);
  if (it != leases_.end()) it->second.released = true;
}

std::optional<Lease> LeaseTable::current(const std::string& node) const {
  std::lock_guard lock(mu_);
  auto it = leases_.find(node);
  if (it == leases_.end()) return std::nullopt;
  return it->second;
}

std::optional<SteadyTime> LeaseTable::renewed_at(const std::string& node) const {
  std::lock_guard lock(mu_);
  auto it = leases_.find(node);
  if (it == leases_.end()) return std::nullopt;
  return it->second.renewed;
}

bool LeaseTable::forget_if_idle(const std::string& node, SteadyTime renewed_before) {
  std::lock_guard lock(mu_);
  auto it = leases_.find(node);
  if (it == leases_.end() || it->second.renewed >= renewed_before) return false;
  leases_.erase(it);
  return true;
}

std::map<std::string, Lease> LeaseTable::snapshot() const {
  std::lock_guard lock(mu_);
  return {leases_.begin(), leases_.end()};
}

}  // namespace corral::heartbeat
