#include "controller/store/published_view.h"

#include <mutex>

#include "controller/store/record_builder.h"

namespace corral::store {

PublishedView::PublishedView(size_t history_events, size_t history_bytes, size_t watch_buffer,
                             int64_t revision, std::vector<RecordPtr> records)
    : revision_(revision),
      hub_(std::make_shared<WatchHub>(history_events, history_bytes, watch_buffer, revision)) {
  for (RecordPtr& r : records) index(r->kind).put(r);
}

PublishedView::~PublishedView() { hub_->shutdown(); }

KindIndex& PublishedView::index(const std::string& kind) {
  return kinds_.try_emplace(kind, kind).first->second;
}

Result<RecordPtr> PublishedView::get(const std::string& kind, const std::string& name) const {
  std::shared_lock lock(mu_);
  if (auto k = kinds_.find(kind); k != kinds_.end()) {
    if (RecordPtr r = k->second.find(name)) return r;
  }
  return not_found(kind, name);
}

Result<ListResult> PublishedView::list(const std::string& kind, const ListOptions& options) const {
  if (auto ok = check_field_selectors(kind, options.fields); !ok) return ok.take_error();
  ListResult out;
  std::shared_lock lock(mu_);
  out.revision = revision_.load();
  if (auto k = kinds_.find(kind); k != kinds_.end()) {
    out.more = k->second.select(options, out.items);
    out.of_kind = k->second.size();
  }
  return out;
}

Result<std::unique_ptr<Watch>> PublishedView::watch(const std::string& kind, int64_t from_revision,
                                                    const ListOptions& filter) {
  if (auto ok = check_field_selectors(kind, filter.fields); !ok) return ok.take_error();
  if (from_revision < 0) {
    return make_error(ErrorCode::kBadRequest,
                      "invalid resource version: " + std::to_string(from_revision));
  }
  if (from_revision > 0) {
    // A revision this store has not reached: the client read it elsewhere
    // (another store, a store since restored from an older copy) or made it
    // up. Waiting would skip every event between ours and it; Kubernetes
    // answers "Too large resource version" (504), and so do we.
    const int64_t current = revision_.load();
    if (from_revision > current) {
      return make_error(ErrorCode::kTimeout, "too large resource version: " +
                                                 std::to_string(from_revision) +
                                                 ", current: " + std::to_string(current));
    }
    return hub_->subscribe(kind, filter, from_revision, {}, true);
  }
  // Snapshot and subscription under the read lock: publish() holds it
  // exclusively, so no event can fall between the two.
  std::shared_lock lock(mu_);
  std::vector<RecordPtr> current;
  for (const auto& [k, index] : kinds_) {
    if (kind.empty() || k == kind) index.select(filter, current);
  }
  std::vector<WatchEvent> initial;
  initial.reserve(current.size());
  for (auto& r : current) initial.push_back({WatchEvent::Type::kAdded, r, r->revision});
  return hub_->subscribe(kind, filter, revision_.load(), std::move(initial), false);
}

void PublishedView::publish(const std::vector<HubEvent>& events, int64_t revision) {
  std::unique_lock lock(mu_);
  for (const HubEvent& e : events) {
    KindIndex& kind = index(e.event.object->kind);
    if (e.event.type == WatchEvent::Type::kDeleted) {
      kind.erase(e.event.object->name);
    } else {
      kind.put(e.event.object);
    }
  }
  revision_.store(revision);
  hub_->publish(events);
}

void PublishedView::replace(std::vector<RecordPtr> records, int64_t revision) {
  std::unique_lock lock(mu_);
  kinds_.clear();
  for (RecordPtr& r : records) index(r->kind).put(r);
  revision_.store(revision);
  hub_->restart_at(revision);
}

}  // namespace corral::store
