#include "controller/server/watch.h"

#include <algorithm>
#include <memory>

#include "api/json.h"
#include "base/log.h"
#include "controller/server/request.h"
#include "controller/server/status.h"

namespace corral::server {

namespace {

// Everything the streaming callback needs; it outlives the handler's frame.
struct WatchStream {
  std::unique_ptr<store::Watch> watch;
  const Clock* clock = nullptr;
  const std::atomic<bool>* stopping = nullptr;
  std::chrono::steady_clock::time_point deadline;
  std::chrono::milliseconds poll{200};
  metrics::Gauge* open = nullptr;
  std::shared_ptr<void> slot;  // this identity's share of watches (WatchLimiter)
  std::string what;  // "vms from revision 42", for logs
  size_t sent = 0;
};

std::string event_line(const store::WatchEvent& ev) {
  const std::string& obj = ev.object->json;
  std::string line;
  line.reserve(obj.size() + 32);
  line += "{\"type\":\"";
  line += store::watch_event_type_name(ev.type);
  line += "\",\"object\":";
  line += obj;
  line += "}\n";
  return line;
}

// Streams until the deadline, a stop, a closed watch or a gone client.
// Returns false only when the client cannot be written to.
bool stream(WatchStream& s, BodySink& sink) {
  for (;;) {
    auto now = s.clock->steady_now();
    if (s.stopping->load() || now >= s.deadline) return true;
    // The client hung up: noticed within one poll, not at the next event.
    if (sink.client_gone()) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(s.deadline - now);
    auto ev = s.watch->next(std::max(std::chrono::milliseconds(1), std::min(s.poll, left)));
    if (!ev) {
      // The store closed this watch (Gone: the client re-lists) or shut down.
      std::string line =
          "{\"type\":\"ERROR\",\"object\":" + dump_json(status_object(ev.error())) + "}\n";
      logger("api")->info("watch {} closed by the store after {} events: {}", s.what, s.sent,
                          ev.error().message);
      sink.write(std::move(line));
      return true;
    }
    if (!ev->has_value()) continue;
    std::string line = event_line(**ev);
    if (!sink.write(std::move(line))) return false;
    ++s.sent;
  }
}

}  // namespace

void handle_watch(Context& ctx, const Route& route, const Identity& who,
                  const HttpRequest& req, HttpResponse& res) {
  const auto& plural = route.kind->plural;
  bool server_full = false;
  std::shared_ptr<void> slot = ctx.watches.acquire(who.user, &server_full);
  if (!slot && server_full) {
    return write_too_many_requests(res, std::chrono::seconds(10),
                                   "too many open watches: the server holds " +
                                       std::to_string(ctx.watches.total()) +
                                       ", the most it may; retry later",
                                   "", plural);
  }
  if (!slot) {
    return write_too_many_requests(
        res, std::chrono::seconds(10),
        "too many open watches: user \"" + who.user + "\" holds " +
            std::to_string(ctx.watches.per_identity()) +
            ", the most one identity may; close one or retry later",
        "", plural);
  }
  auto options = read_list_options(req, *route.kind);
  if (!options) return write_error(res, options.error(), "", plural);
  auto from = read_resource_version(req);
  if (!from) return write_error(res, from.error(), "", plural);
  auto timeout =
      read_timeout_seconds(req, ctx.options.default_watch_timeout, ctx.options.max_watch_timeout);
  if (!timeout) return write_error(res, timeout.error(), "", plural);
  auto watch = ctx.store.watch(route.kind->kind, *from, *options);
  if (!watch) return write_error(res, watch.error(), "", plural);

  auto s = std::make_shared<WatchStream>();
  s->watch = std::move(*watch);
  s->clock = &ctx.clock;
  s->stopping = &ctx.stopping;
  s->deadline = ctx.clock.steady_now() + *timeout;
  s->poll = ctx.options.watch_poll_interval;
  s->open = &ctx.metrics.open_watches.with({});
  s->slot = std::move(slot);
  s->what = plural + " from revision " + std::to_string(*from);
  s->open->inc();
  logger("api")->debug("watch {} opened for {}s", s->what, timeout->count());

  res.status = 200;
  // As Kubernetes names watch streams. The stream lasts: it runs on a thread
  // of its own (bounded by the watch caps) and its connection closes after it.
  res.set_header("Content-Type", "application/json;stream=watch");
  res.long_lived = true;
  // The callback holds the stream (the store watch, the slot) until the
  // core drops it; the gauge and the log say when it ends.
  struct Ender {
    std::shared_ptr<WatchStream> s;
    ~Ender() {
      s->open->dec();
      logger("api")->debug("watch {} ended after {} events", s->what, s->sent);
    }
  };
  auto ender = std::shared_ptr<Ender>(new Ender{s});
  res.stream = [s, ender](BodySink& sink) { return stream(*s, sink); };
}

}  // namespace corral::server
