#include "controller/server/connection_limits.h"

namespace corral::server {

ConnectionRefusal ConnectionLimits::admit(const std::string& address, Slot* slot) {
  {
    std::lock_guard lock(mu_);
    if (total_ > 0 && open_ >= total_) return ConnectionRefusal::kTotal;
    auto it = by_addr_.find(address);
    const size_t from = it == by_addr_.end() ? 0 : it->second;
    if (per_address_ > 0 && from >= per_address_) return ConnectionRefusal::kPerAddress;
    ++open_;
    ++by_addr_[address];
  }
  *slot = Slot(this, address);
  return ConnectionRefusal::kNone;
}

void ConnectionLimits::release(const std::string& address) {
  std::lock_guard lock(mu_);
  --open_;
  auto it = by_addr_.find(address);
  if (it != by_addr_.end() && --it->second == 0) by_addr_.erase(it);
}

size_t ConnectionLimits::open() const {
  std::lock_guard lock(mu_);
  return open_;
}

size_t ConnectionLimits::open_from(const std::string& address) const {
  std::lock_guard lock(mu_);
  auto it = by_addr_.find(address);
  return it == by_addr_.end() ? 0 : it->second;
}

}  // namespace corral::server
