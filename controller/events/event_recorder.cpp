#include "controller/events/event_recorder.h"

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>

#include "api/json.h"
#include "api/kinds.h"
#include "base/log.h"
#include "controller/store/batch_write.h"

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
      rng_(seed_of(options_, clock)) {
  if (!async()) return;
  for (size_t i = 0; i < std::max<size_t>(1, options_.async_writers); ++i) {
    writers_.emplace_back([this] { writer_loop(); });
  }
}

EventRecorder::~EventRecorder() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
    drain_deadline_ = std::chrono::steady_clock::now() + options_.async_drain;
  }
  queue_cv_.notify_all();
  for (std::thread& t : writers_) t.join();
}

void EventRecorder::record_all(std::vector<EventWrite> events) {
  if (!async()) return write_all(std::move(events));
  size_t full = 0;
  {
    std::lock_guard lock(queue_mu_);
    for (EventWrite& e : events) {
      if (queue_.size() >= options_.async_queue) {
        ++full;
        continue;
      }
      queue_.push_back(std::move(e));
    }
  }
  queue_cv_.notify_all();
  if (full > 0) {
    dropped_ += full;
    logger("events")->warn("{} Events dropped: {} are waiting to be written already", full,
                           options_.async_queue);
  }
}

void EventRecorder::writer_loop() {
  const size_t chunk = std::max<size_t>(1, options_.create_chunk);
  std::unique_lock lock(queue_mu_);
  for (;;) {
    queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_ && !queue_.empty() && std::chrono::steady_clock::now() > drain_deadline_) {
      logger("events")->warn("{} queued Events not written: the controller is stopping",
                             queue_.size());
      dropped_ += queue_.size();
      queue_.clear();
    }
    if (queue_.empty()) {
      if (in_flight_ == 0) idle_cv_.notify_all();
      if (stopping_) return;
      continue;
    }
    const size_t n = std::min(chunk, queue_.size());
    std::vector<EventWrite> batch(std::make_move_iterator(queue_.begin()),
                                  std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    in_flight_ += n;
    lock.unlock();
    write_all(std::move(batch));
    lock.lock();
    in_flight_ -= n;
    if (queue_.empty() && in_flight_ == 0) idle_cv_.notify_all();
  }
}

void EventRecorder::flush() {
  if (!async()) return;
  std::unique_lock lock(queue_mu_);
  idle_cv_.wait(lock, [&] { return queue_.empty() && in_flight_ == 0; });
}

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
  const EventWrite e{object, type, reason, message, host};
  Target t = target_of(e);
  if (t.drop) return spam_dropped(e);
  auto written = write_to(std::move(t), e);
  if (!written) log_unwritten(e, written.error());
  return written;
}

Error EventRecorder::spam_dropped(const EventWrite& e) const {
  Error err = make_error(ErrorCode::kTooManyRequests,
                         "event " + e.reason + " on " + e.object.kind + "/" + e.object.name +
                             " dropped: more than " + std::to_string(options_.per_object_burst) +
                             " new Events about it (one more per " +
                             std::to_string(options_.per_object_refill.count()) + " s)");
  logger("events")->debug("{}", err.message);
  return err;
}

void EventRecorder::log_unwritten(const EventWrite& e, const Error& error) {
  logger("events")->warn("event {} on {}/{} not written: {}", e.reason, e.object.kind,
                         e.object.name, error.message);
}

EventRecorder::Target EventRecorder::target_of(const EventWrite& e) {
  const std::string key = key_of(e.object, e.type, e.reason, e.message);
  const auto now = clock_.steady_now();
  std::lock_guard lock(mu_);
  auto it = seen_.find(key);
  if (it != seen_.end() && now - it->second.first <= options_.dedupe_window) {
    return Target{it->second.name, true};
  }
  if (seen_.size() >= options_.max_tracked) {
    // Forget the stale ones; if all are fresh, forget everything (rare:
    // 10,000 distinct events within the window).
    for (auto s = seen_.begin(); s != seen_.end();) {
      s = now - s->second.first > options_.dedupe_window ? seen_.erase(s) : std::next(s);
    }
    if (seen_.size() >= options_.max_tracked) seen_.clear();
  }
  if (!take_budget_locked(e, now)) {
    ++dropped_;
    return Target{"", false, true};
  }
  std::string name = e.object.name + "." + random_hex_locked();
  seen_[key] = Seen{name, now};
  return Target{std::move(name), false};
}

bool EventRecorder::take_budget_locked(const EventWrite& e,
                                       std::chrono::steady_clock::time_point now) {
  if (options_.per_object_burst == 0) return true;
  const double burst = static_cast<double>(options_.per_object_burst);
  const double per_second =
      options_.per_object_refill.count() > 0 ? 1.0 / static_cast<double>(options_.per_object_refill.count()) : burst;
  auto refilled = [&](const Budget& b) {
    const double elapsed = std::chrono::duration<double>(now - b.at).count();
    return std::min(burst, b.tokens + elapsed * per_second);
  };
  // Bounded like seen_: forget the budgets that have refilled (they say
  // nothing a fresh one would not); if all are in use, forget them all.
  if (budgets_.size() >= options_.max_tracked) {
    std::erase_if(budgets_, [&](const auto& kv) { return refilled(kv.second) >= burst; });
    if (budgets_.size() >= options_.max_tracked) budgets_.clear();
  }
  // The source is part of the key, as in client-go (the component is this
  // recorder's, the same for every Event it writes).
  auto [it, fresh] = budgets_.try_emplace(e.object.kind + '\n' + e.object.name + '\n' +
                                              e.object.uid + '\n' + e.host,
                                          Budget{burst, now});
  Budget& b = it->second;
  if (!fresh) b = Budget{refilled(b), now};
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

Result<std::string> EventRecorder::write_to(Target t, const EventWrite& e) {
  if (t.bump) {
    auto bumped = bump(t.name);
    if (bumped) return t.name;
    if (bumped.error().code != ErrorCode::kNotFound) return bumped.take_error();
    // Gone meanwhile (deleted, or expired): written anew under a new name.
    t.name = new_name(e.object.name);
    std::lock_guard lock(mu_);
    seen_[key_of(e.object, e.type, e.reason, e.message)] = Seen{t.name, clock_.steady_now()};
  }
  auto event = new_event(t.name, e);
  if (!event) return event.take_error();
  auto created = store_.create(Event::kKind, std::move(*event));
  if (!created) return created.take_error();
  return t.name;
}

void EventRecorder::write_all(std::vector<EventWrite> events) {
  std::vector<store::BatchWrite> creates;
  std::vector<const EventWrite*> created_from;  // creates[i] records *created_from[i]
  auto flush = [&] {
    if (creates.empty()) return;
    auto results = store_.write_batch(std::move(creates));
    for (size_t i = 0; i < results.size(); ++i) {
      if (!results[i]) log_unwritten(*created_from[i], results[i].error());
    }
    creates.clear();
    created_from.clear();
  };
  size_t dropped = 0;  // said once for the batch: a 10,000-VM scale-up drops ~10,000
  for (const EventWrite& e : events) {
    Target t = target_of(e);
    if (t.drop) {
      ++dropped;
      continue;
    }
    if (t.bump) {
      // A repeat: counted on the Event it repeats (or written anew if that is gone).
      if (auto r = write_to(std::move(t), e); !r) log_unwritten(e, r.error());
      continue;
    }
    auto event = new_event(t.name, e);
    if (!event) {
      log_unwritten(e, event.error());
      continue;
    }
    creates.push_back(store::BatchWrite{store::BatchWrite::Part::kCreate, Event::kKind,
                                        std::move(*event)});
    created_from.push_back(&e);
    if (creates.size() >= std::max<size_t>(1, options_.create_chunk)) flush();
  }
  flush();
  if (dropped > 0)
    logger("events")->debug("{} new Events dropped: more than {} about their object (one more per {} s)",
                            dropped, options_.per_object_burst, options_.per_object_refill.count());
}

Result<Json> EventRecorder::new_event(const std::string& name, const EventWrite& e) {
  Event ev;
  ev.metadata.name = name;
  ev.involvedObject = e.object;
  ev.reason = e.reason;
  ev.message = e.message;
  ev.type = e.type;
  ev.count = 1;
  ev.firstTimestamp = ev.lastTimestamp = format_time(clock_.now());
  ev.source.component = options_.component;
  ev.source.host = e.host;
  return normalize_typed(std::move(ev));
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
