#include "cli/event_order.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <tuple>

#include "api/json.h"
#include "base/clock.h"

namespace corral::cli {
namespace {

using EventTime = std::chrono::system_clock::time_point;

std::string event_text(const Json& o, const char* a, const char* b = nullptr) {
  if (!o.is_object() || !o.contains(a)) return "";
  const Json* v = &o[a];
  if (b) {
    if (!v->is_object() || !v->contains(b)) return "";
    v = &(*v)[b];
  }
  return v->is_string() ? v->get<std::string>() : "";
}

EventTime event_time(const std::string& text) {
  EventTime t{};
  if (text.empty() || !parse_time(text, &t)) return EventTime{};
  return t;
}

struct EventKey {
  EventTime last;
  EventTime first;
  std::string name;
  bool operator<(const EventKey& o) const {
    return std::tie(last, first, name) < std::tie(o.last, o.first, o.name);
  }
};

EventKey event_key(const Json& e) {
  const EventTime created = event_time(event_text(e, "metadata", "creationTimestamp"));
  EventTime first = event_time(event_text(e, "firstTimestamp"));
  if (first == EventTime{}) first = created;
  EventTime last = event_time(event_text(e, "lastTimestamp"));
  if (last == EventTime{}) last = first;
  return EventKey{last, first, event_text(e, "metadata", "name")};
}

}  // namespace

void sort_events_oldest_first(std::vector<Json>& events) {
  std::vector<std::pair<EventKey, size_t>> keys;
  keys.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) keys.emplace_back(event_key(events[i]), i);
  std::stable_sort(keys.begin(), keys.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Json> sorted;
  sorted.reserve(events.size());
  for (const auto& [key, i] : keys) sorted.push_back(std::move(events[i]));
  events = std::move(sorted);
}

}  // namespace corral::cli
