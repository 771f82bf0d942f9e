#include "controller/heartbeat/pool_cache.h"

#include "api/json.h"
#include "api/kinds.h"
#include "base/log.h"
#include "controller/reconcile/common.h"

namespace corral::heartbeat {

namespace {

std::optional<Pool> decode(const store::Record& record) {
  auto pool = from_json<Pool>(record.parse());
  if (!pool) {
    logger("heartbeat")->error("BUG: stored pool/{} does not decode: {}", record.name,
                               pool.error().message);
    return std::nullopt;
  }
  return std::move(*pool);
}

}  // namespace

PoolCache::PoolCache() : snapshot_(std::make_shared<const std::vector<Pool>>()) {}

void PoolCache::reset(const std::vector<store::RecordPtr>& records) {
  by_name_.clear();
  for (const auto& r : records) {
    if (auto p = decode(*r)) by_name_[r->name] = std::move(*p);
  }
  publish();
}

void PoolCache::apply(const store::WatchEvent& event) {
  const store::Record& r = *event.object;
  if (event.type == store::WatchEvent::Type::kDeleted) {
    by_name_.erase(r.name);
  } else if (auto p = decode(r)) {
    by_name_[r.name] = std::move(*p);
  }
  publish();
}

void PoolCache::publish() {
  auto next = std::make_shared<std::vector<Pool>>();
  next->reserve(by_name_.size());
  for (const auto& [name, pool] : by_name_) next->push_back(pool);
  std::lock_guard lock(mu_);
  snapshot_ = std::move(next);
}

std::shared_ptr<const std::vector<Pool>> PoolCache::pools() const {
  std::lock_guard lock(mu_);
  return snapshot_;
}

std::chrono::milliseconds PoolCache::grace_for(const Labels& labels) const {
  Node node;
  node.metadata.labels = labels;
  return reconcile::failover_for(node, *pools()).grace;
}

std::chrono::seconds PoolCache::restart_window_for(const Labels& labels) const {
  Node node;
  node.metadata.labels = labels;
  return reconcile::failover_for(node, *pools()).restart_window;
}

}  // namespace corral::heartbeat
