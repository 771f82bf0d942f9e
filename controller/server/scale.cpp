#include "controller/server/scale.h"

#include <limits>

#include "api/json.h"
#include "api/patch.h"
#include "base/log.h"
#include "controller/server/object_writes.h"
#include "controller/server/request.h"
#include "controller/server/status.h"

namespace corral::server {

namespace {

constexpr const char* kScaleApiVersion = "autoscaling/v1";

Json member(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_object() ? *it : Json::object();
}

// The Scale a VMSet shows.
Json scale_of(const Json& vmset) {
  const Json metadata = member(vmset, "metadata");
  Json meta = Json::object();
  for (const char* key : {"name", "uid", "resourceVersion", "creationTimestamp"}) {
    if (auto it = metadata.find(key); it != metadata.end()) meta[key] = *it;
  }
  Json scale = Json::object();
  scale["apiVersion"] = kScaleApiVersion;
  scale["kind"] = "Scale";
  scale["metadata"] = std::move(meta);
  scale["spec"] = {{"replicas", member(vmset, "spec").value("replicas", 0)}};
  scale["status"] = {{"replicas", member(vmset, "status").value("replicas", 0)},
                     {"selector", "corral.io/vmset=" + metadata.value("name", "")}};
  return scale;
}

// The VMSet a written Scale asks for: the stored one with the Scale's
// replicas and, when it carries one, its resourceVersion as precondition.
Result<Json> vmset_for(const Json& stored, const Json& scale, const std::string& name) {
  std::vector<Cause> causes;
  if (!scale.is_object()) return make_error(ErrorCode::kBadRequest, "a Scale is a JSON object");
  if (auto kind = scale.find("kind"); kind != scale.end() && *kind != "Scale")
    causes.push_back({"kind", "must be \"Scale\", got " + dump_json(*kind), ""});
  const Json metadata = member(scale, "metadata");
  if (auto n = metadata.find("name"); n != metadata.end() && *n != name)
    causes.push_back({"metadata.name", "must be \"" + name + "\" (the name on the URL)", ""});
  const Json spec = member(scale, "spec");
  auto replicas = spec.find("replicas");
  if (replicas == spec.end() || !replicas->is_number_integer())
    causes.push_back({"spec.replicas", "required: a whole number of replicas", ""});
  else if (*replicas < 0 || *replicas > std::numeric_limits<int32_t>::max())
    causes.push_back({"spec.replicas", "must be between 0 and 2147483647", ""});
  if (!causes.empty()) return invalid("Scale \"" + name + "\"", std::move(causes));
  Json next = stored;
  next["spec"]["replicas"] = *replicas;
  if (auto rv = metadata.find("resourceVersion"); rv != metadata.end() && rv->is_string() &&
                                                  !rv->get<std::string>().empty())
    next["metadata"]["resourceVersion"] = *rv;
  return next;
}

}  // namespace

void handle_scale(Context& ctx, const Route& route, const Identity& who, const HttpRequest& req,
                  HttpResponse& res) {
  (void)who;  // authorised as a write of vmsets/scale before it gets here
  const auto& plural = route.kind->plural;
  auto answer = [&](const Result<store::RecordPtr>& record) {
    if (!record) return write_error(res, record.error(), route.name, plural);
    res.status = 200;
    res.set_content(dump_json(scale_of((*record)->parse())), kJsonContentType);
  };
  if (route.verb == "get") return answer(ctx.store.get(route.kind->kind, route.name));

  // The Scale the client sends (PUT) or makes from the one it sees (PATCH).
  std::function<Result<Json>(const Json& scale)> wanted;
  Json body, patch;
  if (route.verb == "update") {
    auto parsed = read_json_body(req);
    if (!parsed) return write_error(res, parsed.error(), route.name, plural);
    body = std::move(*parsed);
    wanted = [&](const Json&) -> Result<Json> { return body; };
  } else {
    auto type = patch_type_from_content_type(req.get_header_value("Content-Type"));
    if (!type) return write_error(res, type.error(), route.name, plural);
    auto parsed = parse_patch(*type, req.body);
    if (!parsed) return write_error(res, parsed.error(), route.name, plural);
    patch = std::move(*parsed);
    wanted = [&, type = *type](const Json& scale) { return apply_patch(type, scale, patch); };
  }
  std::vector<Cause> warnings;
  auto record = read_modify_write(
      ctx, route,
      [&](const Json& stored) -> Result<Json> {
        auto scale = wanted(scale_of(stored));
        if (!scale) return scale.take_error();
        auto next = vmset_for(stored, *scale, route.name);
        if (!next) return next.take_error();
        warnings.clear();
        return checked_replacement(route, std::move(*next), /*drop_status=*/true, warnings);
      },
      [&](Json next) { return write_update(ctx, route, std::move(next)); });
  add_warnings(res, plural, route.name, warnings);
  if (record)
    logger("api")->info("vmsets/{} scaled to {} replicas", route.name,
                        member((*record)->parse(), "spec").value("replicas", 0));
  answer(record);
}

}  // namespace corral::server
