#include "controller/server/secret_view.h"

#include <memory>

#include "api/json.h"
#include "api/types/secret.h"
#include "controller/server/resources.h"
#include "controller/server/watch.h"
#include "controller/store/forwarding_store.h"

namespace corral::server {

namespace {

bool is_secret(const std::string& kind) { return kind == Secret::kKind; }

// Redacts the events of a Secret watch. Holds only the inner watch: it
// outlives the request's frame (watch.cpp streams after the handler returns).
class RedactingWatch final : public store::Watch {
 public:
  explicit RedactingWatch(std::unique_ptr<store::Watch> inner) : inner_(std::move(inner)) {}
  Result<std::optional<store::WatchEvent>> next(std::chrono::milliseconds timeout) override {
    auto ev = inner_->next(timeout);
    if (ev && ev->has_value()) (*ev)->object = redact_secret((*ev)->object);
    return ev;
  }
  void on_ready(std::function<void()> ready) override { inner_->on_ready(std::move(ready)); }
  Snapshot snapshot() const override { return inner_->snapshot(); }

 private:
  std::unique_ptr<store::Watch> inner_;
};

// The store as a redacted reader sees it; writes never come through here
// (readers only: authorize() refused the rest).
class RedactingStore final : public store::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<store::RecordPtr> get(const std::string& kind, const std::string& name) override {
    auto r = ForwardingStore::get(kind, name);
    if (r && is_secret(kind)) *r = redact_secret(*r);
    return r;
  }
  Result<store::ListResult> list(const std::string& kind,
                                 const store::ListOptions& options) override {
    auto r = ForwardingStore::list(kind, options);
    if (r && is_secret(kind))
      for (auto& item : r->items) item = redact_secret(item);
    return r;
  }
  Result<std::unique_ptr<store::Watch>> watch(const std::string& kind, int64_t from_revision,
                                              const store::ListOptions& filter) override {
    auto w = ForwardingStore::watch(kind, from_revision, filter);
    if (!w || !is_secret(kind)) return w;
    return std::unique_ptr<store::Watch>(std::make_unique<RedactingWatch>(std::move(*w)));
  }
};

}  // namespace

bool reads_redacted(const Identity& who, const Route& route) {
  return route.kind && is_secret(route.kind->kind) && who.role != "admin" &&
         (route.verb == "get" || route.verb == "list" || route.verb == "watch");
}

store::RecordPtr redact_secret(const store::RecordPtr& record) {
  if (!record || !is_secret(record->kind)) return record;
  auto copy = std::make_shared<store::Record>(*record);
  copy->json = redact_secret_values(record->parse()).dump();
  return copy;
}

void serve_redacted(Context& ctx, const Route& route, const Identity& who,
                    const HttpRequest& req, HttpResponse& res) {
  RedactingStore view(ctx.store);
  // Every member but the store is the server's own: what a handler keeps
  // beyond this frame (clock, metrics, limiter) points at the real ones.
  Context redacted{.store = view,
                   .clock = ctx.clock,
                   .options = ctx.options,
                   .auth = ctx.auth,
                   .metrics = ctx.metrics,
                   .registry = ctx.registry,
                   .stopping = ctx.stopping,
                   .heartbeat = ctx.heartbeat,
                   .admission = ctx.admission,
                   .agent_logs = ctx.agent_logs,
                   .heartbeat_port = ctx.heartbeat_port,
                   .balancer_writes = ctx.balancer_writes,
                   .watches = ctx.watches,
                   .event_rate = ctx.event_rate,
                   .log_reads = ctx.log_reads,
                   .control_plane = ctx.control_plane,
                   .usage_history = ctx.usage_history,
                   .log_follows = ctx.log_follows};
  if (route.verb == "watch") return handle_watch(redacted, route, who, req, res);
  if (route.verb == "list") return handle_list(redacted, route, req, res);
  handle_get(redacted, route, req, res);
}

}  // namespace corral::server
