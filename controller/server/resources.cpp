#include "controller/server/resources.h"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <optional>

#include "api/json.h"
#include "api/types/balancer.h"
#include "api/types/event.h"
#include "base/clock.h"
#include "base/log.h"
#include "controller/server/balancer_listen.h"
#include "controller/server/balancer_report.h"
#include "controller/server/list_page.h"
#include "controller/server/request.h"
#include "controller/server/status.h"

namespace corral::server {

namespace {

void write_object(HttpResponse& res, int code, const store::RecordPtr& record) {
  res.status = code;
  res.set_content(record->json, kJsonContentType);
}

// A body whose kind is another known kind than the path's is a bad request;
// an unknown kind is left to normalize_object, which names the field (422).
Result<void> check_kind(const Json& body, const KindInfo& kind) {
  auto k = body.find("kind");
  if (k == body.end() || !k->is_string() || k->get<std::string>() == kind.kind) return Ok{};
  const KindInfo* other = find_kind(k->get<std::string>());
  if (!other || other->kind != k->get<std::string>()) return Ok{};
  return make_error(ErrorCode::kBadRequest, "the body's kind \"" + other->kind +
                                                "\" does not match the path's resource \"" +
                                                kind.plural + "\" (kind " + kind.kind + ")");
}

Result<void> check_name(const Json& body, const Route& route) {
  std::string name = object_name(body);
  if (name == route.name) return Ok{};
  return make_error(ErrorCode::kBadRequest, "the name of the object (\"" + name +
                                                "\") does not match the name on the URL (\"" +
                                                route.name + "\")");
}

}  // namespace

void handle_list(Context& ctx, const Route& route, const HttpRequest& req,
                 HttpResponse& res) {
  auto options = read_list_options(req, *route.kind);
  if (!options) return write_error(res, options.error(), "", route.kind->plural);
  auto page = read_list_page(req);
  if (!page) return write_error(res, page.error(), "", route.kind->plural);
  // ?continue / ?limit (list_page.h): the store reads the page alone.
  options->after = page->after;
  options->limit = page->limit;
  auto list = ctx.store.list(route.kind->kind, *options);
  if (!list) return write_error(res, list.error(), "", route.kind->plural);
  std::string page_metadata;
  if (list->more && !list->items.empty()) {
    const size_t answered = page->answered + list->items.size();
    page_metadata = ",\"continue\":\"" +
                    encode_continue({list->items.back()->name, list->revision, answered}) + "\"";
    if (options->labels.empty() && options->fields.empty()) {
      // An estimate (list_page.h): at least one remains, since `more`.
      const size_t remaining = list->of_kind > answered ? list->of_kind - answered : 1;
      page_metadata += ",\"remainingItemCount\":" + std::to_string(remaining);
    }
  }
  // The body is the stored JSON text of each record between a head and a
  // tail: no parse, no re-encode, and no copy of the whole body either —
  // it is streamed from the records through a small buffer, because one
  // fresh 40 MB string (100,000 VMs) costs more in page faults than the
  // rest of the request.
  auto items = std::make_shared<std::vector<store::RecordPtr>>(std::move(list->items));
  auto head = std::make_shared<std::string>("{\"apiVersion\":\"" + std::string(kApiVersion) +
                                            "\",\"kind\":\"" + route.kind->kind +
                                            "List\",\"metadata\":{\"resourceVersion\":\"" +
                                            std::to_string(list->revision) + "\"" + page_metadata +
                                            "},\"items\":[");
  size_t total = head->size() + 2;
  for (const auto& r : *items) total += r->json.size() + 1;
  if (!items->empty()) total -= 1;
  res.status = 200;
  res.set_header("Content-Type", kJsonContentType);
  res.stream_length = total;
  res.stream = [items, head](BodySink& sink) {
    constexpr size_t kChunk = 256 * 1024;
    std::string buf;
    buf.reserve(kChunk + 4096);
    buf += *head;
    auto flush = [&] {
      bool ok = sink.write(std::move(buf));
      buf = std::string();
      buf.reserve(kChunk + 4096);
      return ok;
    };
    for (size_t i = 0; i < items->size(); ++i) {
      if (i) buf += ',';
      const std::string& json = (*items)[i]->json;
      if (json.size() > kChunk) {
        if (!flush() || !sink.write(json)) return false;
        continue;
      }
      buf += json;
      if (buf.size() >= kChunk && !flush()) return false;
    }
    buf += "]}";
    return flush();
  };
}

namespace {
// A Balancer's spec.listen must not collide with another's (balancer_listen.h).
// Locks `serial` (ctx.balancer_writes) first: the caller holds it until its
// store write is done, so that concurrent Balancer writes are checked in turn.
Result<void> admit_listen(Context& ctx, const KindInfo& kind, const Json& normalized,
                          std::unique_lock<std::mutex>& serial) {
  if (kind.kind != Balancer::kKind) return Ok{};
  serial = std::unique_lock(ctx.balancer_writes);
  return admit_balancer_listen(ctx.store, normalized);
}
}  // namespace

void handle_get(Context& ctx, const Route& route, HttpResponse& res) {
  auto record = ctx.store.get(route.kind->kind, route.name);
  if (!record) return write_error(res, record.error(), route.name, route.kind->plural);
  write_object(res, 200, *record);
}

namespace {
// Kubernetes' warning headers (RFC 7234 code 299): kubectl prints each one as
// "Warning: ...". Also logged, for clients that do not show them.
void add_warnings(HttpResponse& res, const std::string& plural, const std::string& name,
                  const std::vector<Cause>& warnings) {
  for (const Cause& c : warnings) {
    const std::string w = c.field + ": " + c.message;
    logger("api")->warn("{}/{}: {}", plural, name, w);
    std::string quoted;
    for (char c : w) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    res.set_header("Warning", "299 - \"" + quoted + "\"");
  }
}
}  // namespace

namespace {
std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// An Event from a node or a balancer: capped in size, then in rate per user
// (event_limits.h). Its times are the server's: a far-future lastTimestamp
// must not keep it from expiring (loops/event_ttl_loop.h). Returns false when
// it answered.
bool admit_machine_event(Context& ctx, const Identity& who, Json& event, HttpResponse& res) {
  const std::string name = object_name(event);
  if (auto size = check_event_size(event, ctx.options.event_limits); !size) {
    logger("api")->info("events/{} from {} ({}) refused: {}", name, who.user, who.role,
                        size.error().message);
    write_error(res, size.error(), name, "events");
    return false;
  }
  auto decision = ctx.event_rate.admit(who.user);
  if (!decision.allowed) {
    write_too_many_requests(
        res, decision.retry_after,
        "user \"" + who.user + "\" (" + who.role + ") creates Events faster than " +
            number_text(ctx.options.event_limits.rate_per_second) + "/s (burst " +
            number_text(ctx.options.event_limits.burst) + "); retry after " +
            std::to_string(decision.retry_after.count()) + " s",
        name, "events");
    return false;
  }
  const std::string now = format_time(ctx.clock.now());
  if (event.value("firstTimestamp", "").empty()) event["firstTimestamp"] = now;
  event["lastTimestamp"] = now;
  return true;
}
}  // namespace

void handle_create(Context& ctx, const Route& route, const Identity& who,
                   const HttpRequest& req, HttpResponse& res) {
  const auto& plural = route.kind->plural;
  auto body = read_json_body(req);
  if (!body) return write_error(res, body.error(), "", plural);
  std::string name = object_name(*body);
  if (auto k = check_kind(*body, *route.kind); !k) return write_error(res, k.error(), name, plural);
  // Now that the name is known, the node role's "its own Node" rule applies.
  auto allowed = authorize(who, {"create", plural, name, ""}, nullptr);
  if (!allowed) return write_error(res, allowed.error(), name, plural);
  // The main path never writes status (Kubernetes' status subresource rule).
  if (route.kind->has_status) body->erase("status");
  std::vector<Cause> warnings;
  auto normalized = normalize_object(*body, &warnings);
  if (!normalized) return write_error(res, normalized.error(), name, plural);
  add_warnings(res, plural, name, warnings);
  if (route.kind->kind == Event::kKind && (!who.node_name.empty() || who.is_balancer())) {
    if (!admit_machine_event(ctx, who, *normalized, res)) return;
  }
  std::unique_lock<std::mutex> serial;  // Balancers: until the write is done
  if (auto listen = admit_listen(ctx, *route.kind, *normalized, serial); !listen)
    return write_error(res, listen.error(), name, plural);
  if (ctx.admission) {
    if (auto admitted = ctx.admission(*route.kind, *normalized, nullptr); !admitted)
      return write_error(res, admitted.error(), name, plural);
  }
  auto record = ctx.store.create(route.kind->kind, std::move(*normalized));
  if (!record) return write_error(res, record.error(), name, plural);
  logger("api")->info("{}/{} created by {} (resourceVersion {})", plural, name, who.user,
                      (*record)->revision);
  write_object(res, 201, *record);
}

namespace {
// What PUT /<name> and PUT /<name>/status share: read the body, check that it
// names the path's kind and object, and normalise it (which validates it).
// On failure the error has been written and nullopt is returned.
std::optional<Json> read_replacement(const Route& route, const HttpRequest& req,
                                     HttpResponse& res, bool drop_status) {
  const auto& plural = route.kind->plural;
  auto body = read_json_body(req);
  if (!body) {
    write_error(res, body.error(), route.name, plural);
    return std::nullopt;
  }
  if (auto k = check_kind(*body, *route.kind); !k) {
    write_error(res, k.error(), route.name, plural);
    return std::nullopt;
  }
  if (auto n = check_name(*body, route); !n) {
    write_error(res, n.error(), route.name, plural);
    return std::nullopt;
  }
  if (drop_status) body->erase("status");
  std::vector<Cause> warnings;
  auto normalized = normalize_object(*body, &warnings);
  if (!normalized) {
    write_error(res, normalized.error(), route.name, plural);
    return std::nullopt;
  }
  add_warnings(res, plural, route.name, warnings);
  return std::move(*normalized);
}
}  // namespace

void handle_update(Context& ctx, const Route& route, const HttpRequest& req,
                   HttpResponse& res) {
  // The main path never writes status (Kubernetes' status subresource rule).
  auto object = read_replacement(route, req, res, route.kind->has_status);
  if (!object) return;
  std::unique_lock<std::mutex> serial;  // Balancers: until the write is done
  if (auto listen = admit_listen(ctx, *route.kind, *object, serial); !listen)
    return write_error(res, listen.error(), route.name, route.kind->plural);
  if (ctx.admission) {
    // The stored version, for hooks that compare (a missing one is the
    // store's NotFound below).
    auto stored = ctx.store.get(route.kind->kind, route.name);
    store::RecordPtr old = stored ? *stored : nullptr;
    if (auto admitted = ctx.admission(*route.kind, *object, old); !admitted)
      return write_error(res, admitted.error(), route.name, route.kind->plural);
  }
  auto record = ctx.store.update(route.kind->kind, std::move(*object));
  if (!record) return write_error(res, record.error(), route.name, route.kind->plural);
  write_object(res, 200, *record);
}

void handle_update_status(Context& ctx, const Route& route, const Identity& who,
                          const HttpRequest& req, HttpResponse& res) {
  // The whole object is normalised to validate it; the store keeps only status.
  auto object = read_replacement(route, req, res, /*drop_status=*/false);
  if (!object) return;
  if (route.kind->kind == Balancer::kKind && who.is_balancer()) {
    // The data plane reports; the controller publishes the endpoints.
    auto stored = ctx.store.get(route.kind->kind, route.name);
    if (!stored) return write_error(res, stored.error(), route.name, route.kind->plural);
    auto merged = merge_data_plane_report((*stored)->parse(), *object);
    if (!merged) return write_error(res, merged.error(), route.name, route.kind->plural);
    auto normalized = normalize_object(*merged);
    if (!normalized) return write_error(res, normalized.error(), route.name, route.kind->plural);
    object = std::move(*normalized);
  }
  auto record = ctx.store.update_status(route.kind->kind, std::move(*object));
  if (!record) return write_error(res, record.error(), route.name, route.kind->plural);
  write_object(res, 200, *record);
}

void handle_delete(Context& ctx, const Route& route, const HttpRequest& req,
                   HttpResponse& res) {
  const auto& plural = route.kind->plural;
  store::Preconditions pre;
  if (!req.body.empty()) {
    // DeleteOptions: only preconditions {uid, resourceVersion} matter here.
    auto body = read_json_body(req);
    if (!body) return write_error(res, body.error(), route.name, plural);
    auto p = body->find("preconditions");
    if (p != body->end() && p->is_object()) {
      if (auto u = p->find("uid"); u != p->end() && u->is_string()) pre.uid = u->get<std::string>();
      if (auto rv = p->find("resourceVersion"); rv != p->end() && rv->is_string())
        pre.resource_version = rv->get<std::string>();
    }
  }
  auto record = ctx.store.remove(route.kind->kind, route.name, pre);
  if (!record) return write_error(res, record.error(), route.name, plural);
  logger("api")->info("{}/{} deleted", plural, route.name);
  write_object(res, 200, *record);
}

}  // namespace corral::server
