#include "controller/heartbeat/events.h"

#include <atomic>
#include <cstdio>

#include "api/kinds.h"
#include "api/log.h"

namespace corral::heartbeat {

namespace {

// Wall time in ns plus a process-wide sequence: unique even when a fake clock
// stands still, and sorted by time when listed by name.
std::string event_suffix(const Clock& clock) {
  static std::atomic<uint64_t> sequence{0};
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                clock.now().time_since_epoch())
                .count();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%04llx", static_cast<unsigned long long>(ns),
                static_cast<unsigned long long>(sequence.fetch_add(1) & 0xffff));
  return buf;
}

}  // namespace

Result<void> record_event(store::Store& store, const Clock& clock, const EventInfo& info) {
  Event event;
  // Object names are at most 253 characters; the suffix takes 21 of them.
  event.metadata.name = info.name.substr(0, 200) + "." + event_suffix(clock);
  event.involvedObject = {info.kind, info.name, info.uid};
  event.reason = info.reason;
  event.message = info.message;
  event.type = info.type;
  event.firstTimestamp = event.lastTimestamp = format_time(clock.now());
  event.source = {"controller", info.host};
  auto normalized = normalize_object(to_json(event));
  if (!normalized) return normalized.take_error();
  auto created = store.create("Event", std::move(*normalized));
  if (!created) {
    logger("heartbeat")->warn("event {} on {}/{} not written: {}", info.reason, info.kind,
                              info.name, created.error().message);
    return created.take_error();
  }
  return Ok{};
}

}  // namespace corral::heartbeat
