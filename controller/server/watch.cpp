#include "controller/server/watch.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <string_view>

#include "api/json.h"
#include "base/log.h"
#include "controller/server/auth.h"
#include "controller/server/request.h"
#include "controller/server/status.h"
#include "controller/server/table.h"

namespace corral::server {

namespace {

void append_event_line(std::string& out, const store::WatchEvent& ev) {
  out += "{\"type\":\"";
  out += store::watch_event_type_name(ev.type);
  out += "\",\"object\":";
  out += ev.object->json;
  out += "}\n";
}

// A watch whose client asked for Tables (kubectl get -w): each event's
// object is a Table of one row, column definitions in the first only.
struct TableEvents {
  const KindInfo* kind = nullptr;
  std::string api_version;     // meta.k8s.io/v1 or v1beta1
  std::string include_object;  // ?includeObject=
  const Clock* clock = nullptr;
  bool columns_sent = false;

  void append(std::string& out, const store::WatchEvent& ev) {
    Json table = make_table(*kind, {ev.object}, api_version, include_object,
                            {{"resourceVersion", std::to_string(ev.object->revision)}}, clock->now());
    if (columns_sent) table["columnDefinitions"] = Json::array();
    columns_sent = true;
    out += "{\"type\":\"";
    out += store::watch_event_type_name(ev.type);
    out += "\",\"object\":";
    out += dump_json(table);
    out += "}\n";
  }
};

// One API watch as the HTTP core's event source: no thread of its own. The
// store calls the core's wake when an event comes; the core pulls the lines
// on its I/O thread. Holds the store watch, the identity's watch slot and
// the open-watches gauge until the core drops it (the stream ended, the
// client went away, or timeoutSeconds passed).
class WatchSource final : public EventSource {
 public:
  // Several kinds on one stream (handle_multi_watch): only these kinds'
  // events, and a BOOKMARK after the initial snapshot.
  struct Kinds {
    std::set<std::string, std::less<>> kinds;
    size_t snapshot_left = 0;  // snapshot events still to pass, any kind
    int64_t snapshot_revision = 0;
    bool bookmark_due = false;
  };

  WatchSource(std::unique_ptr<store::Watch> watch, std::shared_ptr<void> slot, metrics::Gauge& open,
              std::string what, std::optional<TableEvents> table,
              std::optional<Kinds> kinds = std::nullopt)
      : watch_(std::move(watch)),
        slot_(std::move(slot)),
        open_(open),
        what_(std::move(what)),
        table_(std::move(table)),
        kinds_(std::move(kinds)) {
    open_.inc();
    logger("api")->debug("watch {} opened", what_);
  }
  ~WatchSource() override {
    open_.dec();
    logger("api")->debug("watch {} ended after {} events", what_, sent_);
  }

  void start(std::function<void()> wake) override {
    // A snapshot of nothing has no event to wake a pull: the BOOKMARK that
    // ends it must go out all the same.
    const bool bookmark_now = kinds_ && kinds_->bookmark_due && kinds_->snapshot_left == 0;
    auto first = bookmark_now ? wake : std::function<void()>();
    watch_->on_ready(std::move(wake));
    if (first) first();
  }

  Pull pull(std::string& out) override {
    // Bounded, so that a watch replaying a long history shares the I/O
    // thread; the core pulls again once these are written.
    constexpr size_t kMaxBytesPerPull = 256 * 1024;
    while (out.size() < kMaxBytesPerPull) {
      if (kinds_ && kinds_->bookmark_due && kinds_->snapshot_left == 0) {
        kinds_->bookmark_due = false;
        out += "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Bookmark\",\"apiVersion\":\"corral/v1\","
               "\"metadata\":{\"resourceVersion\":\"" +
               std::to_string(kinds_->snapshot_revision) +
               "\",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}}}}\n";
      }
      auto ev = watch_->next(std::chrono::milliseconds(0));
      if (!ev) {
        // The store closed this watch (Gone: the client re-lists) or shut down.
        logger("api")->info("watch {} closed by the store after {} events: {}", what_, sent_,
                            ev.error().message);
        out += "{\"type\":\"ERROR\",\"object\":" + dump_json(status_object(ev.error())) + "}\n";
        return Pull::kEnded;
      }
      if (!ev->has_value()) return Pull::kDrained;
      if (kinds_) {
        if (kinds_->snapshot_left > 0) --kinds_->snapshot_left;
        if (!kinds_->kinds.contains((*ev)->object->kind)) continue;
      }
      if (table_) {
        table_->append(out, **ev);
      } else {
        append_event_line(out, **ev);
      }
      ++sent_;
    }
    return Pull::kMore;
  }

 private:
  std::unique_ptr<store::Watch> watch_;
  std::shared_ptr<void> slot_;  // this identity's share of watches (WatchLimiter)
  metrics::Gauge& open_;
  std::string what_;  // "vms from revision 42", for logs
  std::optional<TableEvents> table_;  // Tables instead of objects (table.h)
  std::optional<Kinds> kinds_;
  size_t sent_ = 0;
};

// One of the identity's watch slots, or null with the 429 written.
std::shared_ptr<void> acquire_slot(Context& ctx, const Identity& who, const std::string& plural,
                                   HttpResponse& res) {
  bool server_full = false;
  std::shared_ptr<void> slot = ctx.watches.acquire(who.user, &server_full);
  if (!slot && server_full) {
    write_too_many_requests(res, std::chrono::seconds(10),
                            "too many open watches: the server holds " +
                                std::to_string(ctx.watches.total()) + ", the most it may; retry later",
                            "", plural);
  } else if (!slot) {
    write_too_many_requests(res, std::chrono::seconds(10),
                            "too many open watches: user \"" + who.user + "\" holds " +
                                std::to_string(ctx.watches.per_identity()) +
                                ", the most one identity may; close one or retry later",
                            "", plural);
  }
  return slot;
}

}  // namespace

void handle_watch(Context& ctx, const Route& route, const Identity& who,
                  const HttpRequest& req, HttpResponse& res) {
  const auto& plural = route.kind->plural;
  std::shared_ptr<void> slot = acquire_slot(ctx, who, plural, res);
  if (!slot) return;
  auto options = read_list_options(req, *route.kind);
  if (!options) return write_error(res, options.error(), "", plural);
  auto from = read_resource_version(req);
  if (!from) return write_error(res, from.error(), "", plural);
  auto timeout =
      read_timeout_seconds(req, ctx.options.default_watch_timeout, ctx.options.max_watch_timeout);
  if (!timeout) return write_error(res, timeout.error(), "", plural);
  auto watch = ctx.store.watch(route.kind->kind, *from, *options);
  if (!watch) return write_error(res, watch.error(), "", plural);

  res.status = 200;
  // As Kubernetes names watch streams. The stream lasts; its connection
  // closes after it.
  res.set_header("Content-Type", "application/json;stream=watch");
  std::optional<TableEvents> table;
  if (auto version = wanted_table_version(req))
    table = TableEvents{route.kind, *version, req.get_param_value("includeObject"), &ctx.clock};
  res.events = std::make_shared<WatchSource>(std::move(*watch), std::move(slot),
                                             ctx.metrics.open_watches.with({}),
                                             plural + " from revision " + std::to_string(*from),
                                             std::move(table));
  res.events_lifetime = *timeout;
}

void handle_multi_watch(Context& ctx, const Identity& who, const HttpRequest& req,
                        HttpResponse& res) {
  WatchSource::Kinds kinds;
  const std::string wanted = req.get_param_value("kinds");
  for (size_t at = 0; at <= wanted.size();) {
    size_t end = std::min(wanted.find(',', at), wanted.size());
    const std::string plural = wanted.substr(at, end - at);
    at = end + 1;
    if (plural.empty()) continue;
    const KindInfo* kind = find_kind_by_plural(plural);
    if (!kind)
      return write_error(res, make_error(ErrorCode::kBadRequest,
                                         "kinds: unknown resource \"" + plural + "\""));
    if (kind->kind == "Secret")
      return write_error(res, make_error(ErrorCode::kBadRequest,
                                         "kinds: secrets are watched alone (GET " + kind->plural +
                                             "?watch=1), redacted for all but admins"));
    if (auto allowed = authorize(who, Attributes{"watch", kind->plural, "", ""}, {}); !allowed)
      return write_error(res, allowed.error(), "", kind->plural);
    kinds.kinds.insert(kind->kind);
  }
  if (kinds.kinds.empty())
    return write_error(res, make_error(ErrorCode::kBadRequest,
                                       "kinds is required: the resources to watch, e.g. "
                                       "kinds=nodes,vms"));
  if (req.has_param("labelSelector") || req.has_param("fieldSelector"))
    return write_error(res, make_error(ErrorCode::kBadRequest,
                                       "selectors are not supported on a watch of several kinds"));
  auto from = read_resource_version(req);
  if (!from) return write_error(res, from.error());
  auto timeout =
      read_timeout_seconds(req, ctx.options.default_watch_timeout, ctx.options.max_watch_timeout);
  if (!timeout) return write_error(res, timeout.error());
  std::shared_ptr<void> slot = acquire_slot(ctx, who, "", res);
  if (!slot) return;
  auto watch = ctx.store.watch("", *from, {});
  if (!watch) return write_error(res, watch.error());
  if (*from == 0) {
    const auto snapshot = (*watch)->snapshot();
    kinds.snapshot_left = snapshot.events;
    kinds.snapshot_revision = snapshot.revision;
    kinds.bookmark_due = true;
  }
  res.status = 200;
  res.set_header("Content-Type", "application/json;stream=watch");
  res.events = std::make_shared<WatchSource>(std::move(*watch), std::move(slot),
                                             ctx.metrics.open_watches.with({}),
                                             wanted + " from revision " + std::to_string(*from),
                                             std::nullopt, std::move(kinds));
  res.events_lifetime = *timeout;
}

}  // namespace corral::server
