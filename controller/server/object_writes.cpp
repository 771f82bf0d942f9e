#include "controller/server/object_writes.h"

#include <mutex>

#include "api/json.h"
#include "api/kinds.h"
#include "api/types/balancer.h"
#include "base/log.h"
#include "controller/server/balancer_listen.h"
#include "controller/server/balancer_report.h"
#include "controller/server/request.h"

namespace corral::server {

namespace {

Result<void> check_name(const Json& body, const Route& route) {
  std::string name = object_name(body);
  if (name == route.name) return Ok{};
  return make_error(ErrorCode::kBadRequest, "the name of the object (\"" + name +
                                                "\") does not match the name on the URL (\"" +
                                                route.name + "\")");
}

// A Balancer's spec.listen must not collide with another's (balancer_listen.h).
// Locks `serial` (ctx.balancer_writes) first: the caller holds it until its
// store write is done, so that concurrent Balancer writes are checked in turn.
Result<void> admit_listen(Context& ctx, const KindInfo& kind, const Json& normalized,
                          std::unique_lock<std::mutex>& serial) {
  if (kind.kind != Balancer::kKind) return Ok{};
  serial = std::unique_lock(ctx.balancer_writes);
  return admit_balancer_listen(ctx.store, normalized);
}

std::string resource_version_of(const Json& object) {
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  auto rv = metadata->find("resourceVersion");
  return rv != metadata->end() && rv->is_string() ? rv->get<std::string>() : "";
}

// Conflicts a PATCH without a pinned resourceVersion retries before it gives
// up: each retry means another writer changed the object in between.
constexpr int kWriteAttempts = 5;

}  // namespace

Result<void> check_kind(const Json& body, const KindInfo& kind) {
  auto k = body.find("kind");
  if (k == body.end() || !k->is_string() || k->get<std::string>() == kind.kind) return Ok{};
  const KindInfo* other = find_kind(k->get<std::string>());
  if (!other || other->kind != k->get<std::string>()) return Ok{};
  return make_error(ErrorCode::kBadRequest, "the body's kind \"" + other->kind +
                                                "\" does not match the path's resource \"" +
                                                kind.plural + "\" (kind " + kind.kind + ")");
}

Result<Json> checked_replacement(const Route& route, Json body, bool drop_status,
                                 std::vector<Cause>& warnings) {
  if (auto k = check_kind(body, *route.kind); !k) return k.take_error();
  if (auto n = check_name(body, route); !n) return n.take_error();
  if (drop_status) body.erase("status");
  return normalize_object(body, &warnings);
}

void add_warnings(HttpResponse& res, const std::string& plural, const std::string& name,
                  const std::vector<Cause>& warnings) {
  for (const Cause& c : warnings) {
    const std::string w = c.field + ": " + c.message;
    logger("api")->warn("{}/{}: {}", plural, name, w);
    std::string quoted;
    for (char ch : w) {
      if (ch == '"' || ch == '\\') quoted += '\\';
      quoted += ch;
    }
    res.set_header("Warning", "299 - \"" + quoted + "\"");
  }
}

Result<store::RecordPtr> write_create(Context& ctx, const Route& route, Json object) {
  std::unique_lock<std::mutex> serial;  // Balancers: until the write is done
  if (auto listen = admit_listen(ctx, *route.kind, object, serial); !listen)
    return listen.take_error();
  if (ctx.admission) {
    if (auto admitted = ctx.admission(*route.kind, object, nullptr); !admitted)
      return admitted.take_error();
  }
  return ctx.store.create(route.kind->kind, std::move(object));
}

Result<store::RecordPtr> write_update(Context& ctx, const Route& route, Json object) {
  std::unique_lock<std::mutex> serial;  // Balancers: until the write is done
  if (auto listen = admit_listen(ctx, *route.kind, object, serial); !listen)
    return listen.take_error();
  if (ctx.admission) {
    // The stored version, for hooks that compare (a missing one is the
    // store's NotFound below).
    auto stored = ctx.store.get(route.kind->kind, route.name);
    store::RecordPtr old = stored ? *stored : nullptr;
    if (auto admitted = ctx.admission(*route.kind, object, old); !admitted)
      return admitted.take_error();
  }
  return ctx.store.update(route.kind->kind, std::move(object));
}

Result<store::RecordPtr> write_status(Context& ctx, const Route& route, const Identity& who,
                                      Json object) {
  if (route.kind->kind == Balancer::kKind && who.is_balancer()) {
    // The data plane reports; the controller publishes the endpoints.
    auto stored = ctx.store.get(route.kind->kind, route.name);
    if (!stored) return stored.take_error();
    auto merged = merge_data_plane_report((*stored)->parse(), object);
    if (!merged) return merged.take_error();
    auto normalized = normalize_object(*merged);
    if (!normalized) return normalized.take_error();
    object = std::move(*normalized);
  }
  return ctx.store.update_status(route.kind->kind, std::move(object));
}

Result<store::RecordPtr> read_modify_write(
    Context& ctx, const Route& route, const std::function<Result<Json>(const Json& stored)>& change,
    const std::function<Result<store::RecordPtr>(Json next)>& write) {
  for (int attempt = 1;; ++attempt) {
    auto stored = ctx.store.get(route.kind->kind, route.name);
    if (!stored) return stored.take_error();
    const Json base = (*stored)->parse();
    auto next = change(base);
    if (!next) return next.take_error();
    const bool pinned = resource_version_of(*next) != resource_version_of(base);
    auto written = write(std::move(*next));
    if (written || written.error().code != ErrorCode::kConflict || pinned ||
        attempt == kWriteAttempts)
      return written;
  }
}

}  // namespace corral::server
