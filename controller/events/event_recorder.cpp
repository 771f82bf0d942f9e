#include "controller/events/event_recorder.h"

#include <atomic>
#include <cinttypes>
#include <cstdio>

#include "api/json.h"
#include "api/kinds.h"
#include "base/log.h"

namespace corral::events {
namespace {

std::string key_of(const ObjectReference& o, const std::string& type, const std::string& reason,
                   const std::string& message) {
  return o.kind + '\n' + o.name + '\n' + type + '\n' + reason + '\n' + message;
}

// Bumping an Event races only with another bump of the same Event.
constexpr int kBumpAttempts = 3;

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// EventRecorderOptions::seed, or when unset one from the wall clock and how
// many recorders this process made before (see the option's comment).
uint64_t seed_of(const EventRecorderOptions& options, const Clock& clock) {
  if (options.seed) return *options.seed;
  static std::atomic<uint64_t> recorders{0};
  const auto wall = clock.now().time_since_epoch();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wall).count();
  return splitmix64(static_cast<uint64_t>(ns) ^ splitmix64(recorders.fetch_add(1)));
}

}  // namespace

EventRecorder::EventRecorder(store::Store& store, const Clock& clock, EventRecorderOptions options)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      rng_(seed_of(options_, clock)) {}

std::string EventRecorder::random_hex_locked() {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016" PRIx64, static_cast<uint64_t>(rng_()));
  return hex;
}

std::string EventRecorder::new_name(const std::string& object_name) {
  std::lock_guard lock(mu_);
  return object_name + "." + random_hex_locked();
}

Result<std::string> EventRecorder::record(const ObjectReference& object, const std::string& type,
                                          const std::string& reason, const std::string& message,
                                          const std::string& host) {
  auto written = record_once(object, type, reason, message, host);
  if (!written)
    logger("events")->warn("event {} on {}/{} not written: {}", reason, object.kind, object.name,
                           written.error().message);
  return written;
}

Result<std::string> EventRecorder::record_once(const ObjectReference& object,
                                               const std::string& type, const std::string& reason,
                                               const std::string& message,
                                               const std::string& host) {
  const std::string key = key_of(object, type, reason, message);
  const auto now = clock_.steady_now();
  std::string existing;
  std::string name;
  {
    std::lock_guard lock(mu_);
    auto it = seen_.find(key);
    if (it != seen_.end() && now - it->second.first <= options_.dedupe_window) {
      existing = it->second.name;
    } else {
      if (seen_.size() >= options_.max_tracked) {
        // Forget the stale ones; if all are fresh, forget everything (rare:
        // 10,000 distinct events within the window).
        for (auto s = seen_.begin(); s != seen_.end();) {
          s = now - s->second.first > options_.dedupe_window ? seen_.erase(s) : std::next(s);
        }
        if (seen_.size() >= options_.max_tracked) seen_.clear();
      }
      name = object.name + "." + random_hex_locked();
      seen_[key] = Seen{name, now};
    }
  }
  if (!existing.empty()) {
    auto bumped = bump(existing);
    if (bumped) return existing;
    if (bumped.error().code != ErrorCode::kNotFound) return bumped.take_error();
    name = new_name(object.name);
    std::lock_guard lock(mu_);
    seen_[key] = Seen{name, now};
  }
  return create(name, object, type, reason, message, host);
}

Result<std::string> EventRecorder::create(const std::string& name, const ObjectReference& object,
                                          const std::string& type, const std::string& reason,
                                          const std::string& message, const std::string& host) {
  Event ev;
  ev.metadata.name = name;
  ev.involvedObject = object;
  ev.reason = reason;
  ev.message = message;
  ev.type = type;
  ev.count = 1;
  ev.firstTimestamp = ev.lastTimestamp = format_time(clock_.now());
  ev.source.component = options_.component;
  ev.source.host = host;
  auto normalized = normalize_object(to_json(ev));
  if (!normalized) return normalized.take_error();
  auto created = store_.create(Event::kKind, std::move(*normalized));
  if (!created) return created.take_error();
  return name;
}

Result<void> EventRecorder::bump(const std::string& name) {
  for (int attempt = 0;; ++attempt) {
    auto stored = store_.get(Event::kKind, name);
    if (!stored) return stored.take_error();
    auto ev = from_json<Event>((*stored)->parse());
    if (!ev) return ev.take_error();
    ev->count += 1;
    ev->lastTimestamp = format_time(clock_.now());
    auto updated = store_.update(Event::kKind, to_json(*ev));
    if (updated) return Ok{};
    if (updated.error().code != ErrorCode::kConflict || attempt + 1 >= kBumpAttempts) {
      return updated.take_error();
    }
  }
}

}  // namespace corral::events
