#include "controller/loops/event_ttl_loop.h"

#include "api/json.h"
#include "base/log.h"

namespace corral::loops {

namespace {

std::string text_at(const Json& j, const char* outer, const char* inner = nullptr) {
  auto it = j.find(outer);
  if (it == j.end()) return "";
  if (inner) {
    if (!it->is_object()) return "";
    auto in = it->find(inner);
    return in != it->end() && in->is_string() ? in->get<std::string>() : "";
  }
  return it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::vector<std::string> expired_events(const std::vector<store::RecordPtr>& events,
                                        std::chrono::system_clock::time_point now,
                                        std::chrono::seconds ttl) {
  std::vector<std::string> out;
  if (ttl.count() <= 0) return out;
  for (const store::RecordPtr& record : events) {
    const Json e = record->parse();
    std::chrono::system_clock::time_point last{}, created{};
    const bool has_last = parse_time(text_at(e, "lastTimestamp"), &last) && last <= now;
    const bool has_created = parse_time(text_at(e, "metadata", "creationTimestamp"), &created);
    if (!has_last && !has_created) continue;  // not ours to judge: kept (never seen from the store)
    const auto seen = has_last ? last : created;
    if (now - seen > ttl) out.push_back(record->name);
  }
  return out;
}

EventTtlLoop::EventTtlLoop(store::Store& store, const Clock& clock, EventTtlOptions options)
    : store_(store), clock_(clock), options_(options), next_due_(clock.steady_now()) {}

EventTtlPassStats EventTtlLoop::run_once() {
  EventTtlPassStats stats;
  next_due_ = clock_.steady_now() + options_.period;
  if (options_.ttl.count() <= 0) return stats;
  auto log = logger("loops");
  auto list = store_.list("Event", {});
  if (!list) {
    log->warn("event TTL: cannot list Events: {}", list.error().message);
    ++stats.errors;
    return stats;
  }
  for (const std::string& name : expired_events(list->items, clock_.now(), options_.ttl)) {
    auto removed = store_.remove("Event", name);
    if (removed) {
      ++stats.deleted;
    } else if (removed.error().code != ErrorCode::kNotFound) {
      ++stats.errors;
      log->warn("event TTL: cannot delete event/{}: {}", name, removed.error().message);
    }
  }
  if (stats.deleted)
    log->info("event TTL: deleted {} Event(s) older than {} s", stats.deleted,
              options_.ttl.count());
  return stats;
}

}  // namespace corral::loops
