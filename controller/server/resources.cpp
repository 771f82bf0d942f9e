#include "controller/server/resources.h"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "api/json.h"
#include "api/patch.h"
#include "api/types/event.h"
#include "base/clock.h"
#include "base/log.h"
#include "controller/server/list_page.h"
#include "controller/server/object_writes.h"
#include "controller/server/request.h"
#include "controller/server/status.h"
#include "controller/server/table.h"

namespace corral::server {

namespace {

void write_object(HttpResponse& res, int code, const store::RecordPtr& record) {
  res.status = code;
  res.set_content(record->json, kJsonContentType);
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
  Json list_metadata = {{"resourceVersion", std::to_string(list->revision)}};
  if (list->more && !list->items.empty()) {
    const size_t answered = page->answered + list->items.size();
    const std::string token = encode_continue({list->items.back()->name, list->revision, answered});
    page_metadata = ",\"continue\":\"" + token + "\"";
    list_metadata["continue"] = token;
    if (options->labels.empty() && options->fields.empty()) {
      // An estimate (list_page.h): at least one remains, since `more`.
      const size_t remaining = list->of_kind > answered ? list->of_kind - answered : 1;
      page_metadata += ",\"remainingItemCount\":" + std::to_string(remaining);
      list_metadata["remainingItemCount"] = remaining;
    }
  }
  if (auto table = wanted_table_version(req)) {
    // kubectl get: the columns corralctl prints (table.h).
    res.status = 200;
    return res.set_content(
        dump_json(make_table(*route.kind, list->items, *table, req.get_param_value("includeObject"),
                             std::move(list_metadata), ctx.clock.now())),
        kJsonContentType);
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


void handle_get(Context& ctx, const Route& route, const HttpRequest& req, HttpResponse& res) {
  auto record = ctx.store.get(route.kind->kind, route.name);
  if (!record) return write_error(res, record.error(), route.name, route.kind->plural);
  if (auto table = wanted_table_version(req); table && route.endpoint == Endpoint::kObject) {
    res.status = 200;
    return res.set_content(
        dump_json(make_table(*route.kind, {*record}, *table, req.get_param_value("includeObject"),
                             {{"resourceVersion", std::to_string((*record)->revision)}},
                             ctx.clock.now())),
        kJsonContentType);
  }
  write_object(res, 200, *record);
}


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
  auto record = write_create(ctx, route, std::move(*normalized));
  if (!record) return write_error(res, record.error(), name, plural);
  logger("api")->info("{}/{} created by {} (resourceVersion {})", plural, name, who.user,
                      (*record)->revision);
  write_object(res, 201, *record);
}

namespace {
// PUT /<name> and PUT /<name>/status: the body is the new version.
std::optional<Json> read_replacement(const Route& route, const HttpRequest& req,
                                     HttpResponse& res, bool drop_status) {
  auto body = read_json_body(req);
  if (!body) {
    write_error(res, body.error(), route.name, route.kind->plural);
    return std::nullopt;
  }
  std::vector<Cause> warnings;
  auto object = checked_replacement(route, std::move(*body), drop_status, warnings);
  if (!object) {
    write_error(res, object.error(), route.name, route.kind->plural);
    return std::nullopt;
  }
  add_warnings(res, route.kind->plural, route.name, warnings);
  return std::move(*object);
}

void write_result(HttpResponse& res, const Route& route, const Result<store::RecordPtr>& record) {
  if (!record) return write_error(res, record.error(), route.name, route.kind->plural);
  write_object(res, 200, *record);
}
}  // namespace

void handle_update(Context& ctx, const Route& route, const HttpRequest& req,
                   HttpResponse& res) {
  // The main path never writes status (Kubernetes' status subresource rule).
  auto object = read_replacement(route, req, res, route.kind->has_status);
  if (!object) return;
  write_result(res, route, write_update(ctx, route, std::move(*object)));
}

void handle_update_status(Context& ctx, const Route& route, const Identity& who,
                          const HttpRequest& req, HttpResponse& res) {
  // The whole object is normalised to validate it; the store keeps only status.
  auto object = read_replacement(route, req, res, /*drop_status=*/false);
  if (!object) return;
  write_result(res, route, write_status(ctx, route, who, std::move(*object)));
}

void handle_patch(Context& ctx, const Route& route, const Identity& who, const HttpRequest& req,
                  HttpResponse& res) {
  const auto& plural = route.kind->plural;
  auto type = patch_type_from_content_type(req.get_header_value("Content-Type"));
  if (!type) return write_error(res, type.error(), route.name, plural);
  auto patch = parse_patch(*type, req.body);
  if (!patch) return write_error(res, patch.error(), route.name, plural);
  const bool status = route.endpoint == Endpoint::kStatus;
  std::vector<Cause> warnings;
  auto record = read_modify_write(
      ctx, route,
      [&](const Json& stored) -> Result<Json> {
        auto patched = apply_patch(*type, stored, *patch);
        if (!patched) return patched.take_error();
        warnings.clear();
        // The main path never writes status, the status path only status.
        return checked_replacement(route, std::move(*patched),
                                   !status && route.kind->has_status, warnings);
      },
      [&](Json next) {
        return status ? write_status(ctx, route, who, std::move(next))
                      : write_update(ctx, route, std::move(next));
      });
  add_warnings(res, plural, route.name, warnings);
  write_result(res, route, record);
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
