#include "controller/server/openapi_route.h"

#include <cstdint>
#include <cstdio>

#include "api/json.h"
#include "api/kinds.h"
#include "api/openapi_schema.h"
#include "api/patch.h"
#include "controller/server/openapi_v2_proto.h"
#include "controller/server/status.h"

namespace corral::server {

namespace {

constexpr const char* kGroupPath = "/apis/corral/v1";
constexpr const char* kScaleSchema = "io.k8s.api.autoscaling.v1.Scale";

std::string schema_name(const std::string& kind) { return "io.corral.v1." + kind; }

Json gvk(const std::string& group, const std::string& kind) {
  return Json{{"group", group}, {"kind", kind}, {"version", "v1"}};
}

Json ref_to(const std::string& schema) {
  return Json{{"$ref", "#/components/schemas/" + schema}};
}

Json json_content(const Json& schema) {
  return Json{{"application/json", Json{{"schema", schema}}}};
}

Json query_parameter(const char* name, const char* description) {
  return Json{{"name", name},
              {"in", "query"},
              {"description", description},
              {"schema", Json{{"type", "string"}, {"uniqueItems", true}}}};
}

// Writes accept ?fieldValidation (Strict, Warn, Ignore): kubectl checks for
// it on the PATCH operation of a kind before trusting the server to validate.
Json field_validation() {
  return query_parameter("fieldValidation",
                         "Strict, Warn or Ignore. Corral always decodes strictly: an unknown "
                         "or duplicate field is refused (422) whatever is asked.");
}

struct Op {
  const char* method;        // "get", "post", ...
  const char* action;        // x-kubernetes-action
  std::string id;            // operationId
  Json group_version_kind;
  std::string response;      // a schema name
  bool writes = false;       // takes a body and fieldValidation
  bool patch = false;        // the body is a patch
};

Json operation(const Op& op) {
  Json o = Json::object();
  o["operationId"] = op.id;
  o["x-kubernetes-action"] = op.action;
  o["x-kubernetes-group-version-kind"] = op.group_version_kind;
  Json parameters = Json::array();
  if (op.writes) parameters.push_back(field_validation());
  if (!parameters.empty()) o["parameters"] = std::move(parameters);
  if (op.writes) {
    Json content = Json::object();
    if (op.patch) {
      for (PatchType t : {PatchType::kJson, PatchType::kMerge, PatchType::kStrategic})
        content[std::string(patch_media_type(t))] = Json{{"schema", Json{{"type", "object"}}}};
    } else {
      content = json_content(ref_to(op.response));
    }
    o["requestBody"] = Json{{"required", true}, {"content", std::move(content)}};
  }
  o["responses"] = Json{
      {"200", Json{{"description", "OK"}, {"content", json_content(ref_to(op.response))}}},
      {"401", Json{{"description", "Unauthorized"}}}};
  return o;
}

Json name_parameter(const std::string& kind) {
  return Json{{"name", "name"},
              {"in", "path"},
              {"required", true},
              {"description", "name of the " + kind},
              {"schema", Json{{"type", "string"}, {"uniqueItems", true}}}};
}

Json list_schema(const std::string& kind) {
  Json s = Json::object();
  s["type"] = "object";
  s["description"] = "A list of " + kind + " objects.";
  s["properties"] = Json{{"apiVersion", Json{{"type", "string"}}},
                         {"kind", Json{{"type", "string"}}},
                         {"metadata", Json{{"type", "object"}}},
                         {"items", Json{{"type", "array"}, {"items", ref_to(schema_name(kind))}}}};
  s["x-kubernetes-group-version-kind"] = Json::array({gvk("corral", kind + "List")});
  return s;
}

Json scale_schema() {
  Json s = Json::object();
  s["type"] = "object";
  s["description"] =
      "The replicas of a VMSet (autoscaling/v1 Scale, as for a Kubernetes Deployment).";
  s["properties"] = Json{
      {"apiVersion", Json{{"type", "string"}}},
      {"kind", Json{{"type", "string"}}},
      {"metadata", Json{{"type", "object"}}},
      {"spec", Json{{"type", "object"},
                    {"properties", Json{{"replicas", Json{{"type", "integer"}, {"format", "int32"}}}}}}},
      {"status",
       Json{{"type", "object"},
            {"properties", Json{{"replicas", Json{{"type", "integer"}, {"format", "int32"}}},
                                {"selector", Json{{"type", "string"}}}}}}}};
  s["x-kubernetes-group-version-kind"] = Json::array({gvk("autoscaling", "Scale")});
  return s;
}

Json build_v3_group() {
  Json paths = Json::object();
  Json schemas = Json::object();
  for (const KindInfo& k : all_kinds()) {
    const Json kind_gvk = gvk("corral", k.kind);
    const std::string name = schema_name(k.kind);
    schemas[name] = openapi_kind_schema(k.kind);
    schemas[name + "List"] = list_schema(k.kind);
    const std::string base = std::string(kGroupPath) + "/" + k.plural;
    Json collection = Json::object();
    collection["get"] = operation({"get", "list", "listCorralV1" + k.kind, kind_gvk, name + "List"});
    collection["post"] = operation({"post", "post", "createCorralV1" + k.kind, kind_gvk, name, true});
    paths[base] = std::move(collection);

    auto item_ops = [&](const std::string& suffix) {
      Json item = Json::object();
      item["parameters"] = Json::array({name_parameter(k.kind)});
      item["get"] = operation({"get", "get", "readCorralV1" + k.kind + suffix, kind_gvk, name});
      item["put"] = operation({"put", "put", "replaceCorralV1" + k.kind + suffix, kind_gvk, name, true});
      item["patch"] = operation(
          {"patch", "patch", "patchCorralV1" + k.kind + suffix, kind_gvk, name, true, true});
      return item;
    };
    Json item = item_ops("");
    item["delete"] = operation({"delete", "delete", "deleteCorralV1" + k.kind, kind_gvk, name});
    paths[base + "/{name}"] = std::move(item);
    if (k.has_status) paths[base + "/{name}/status"] = item_ops("Status");
  }
  schemas[kScaleSchema] = scale_schema();
  {
    const Json scale_gvk = gvk("autoscaling", "Scale");
    Json scale = Json::object();
    scale["parameters"] = Json::array({name_parameter("VMSet")});
    scale["get"] = operation({"get", "get", "readCorralV1VMSetScale", scale_gvk, kScaleSchema});
    scale["put"] =
        operation({"put", "put", "replaceCorralV1VMSetScale", scale_gvk, kScaleSchema, true});
    scale["patch"] = operation(
        {"patch", "patch", "patchCorralV1VMSetScale", scale_gvk, kScaleSchema, true, true});
    paths[std::string(kGroupPath) + "/vmsets/{name}/scale"] = std::move(scale);
  }
  Json doc = Json::object();
  doc["openapi"] = "3.0.0";
  doc["info"] = Json{{"title", "Corral"}, {"version", "v1"}};
  doc["paths"] = std::move(paths);
  doc["components"] = Json{{"schemas", std::move(schemas)}};
  return doc;
}

// FNV-1a: the v3 index's ?hash=, stable for one build's document (kubectl
// keys its disk cache by it).
std::string fnv1a_hex(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

struct Documents {
  Json v3_group = build_v3_group();
  std::string v3_hash = fnv1a_hex(dump_json(v3_group));
  Json v2 = openapi_v2_document();
  std::string v2_protobuf = openapi_v2_protobuf(v2);
  std::string v2_json = dump_json(v2);
};

// Built once: the documents depend only on the binary.
const Documents& documents() {
  static const Documents d;
  return d;
}

}  // namespace

Json openapi_v3_group() { return documents().v3_group; }

Json openapi_v3_index() {
  Json paths = Json::object();
  paths["apis/corral/v1"] =
      Json{{"serverRelativeURL", "/openapi/v3/apis/corral/v1?hash=" + documents().v3_hash}};
  return Json{{"paths", std::move(paths)}};
}

Json openapi_v2_document() {
  Json definitions = Json::object();
  for (const KindInfo& k : all_kinds())
    definitions[schema_name(k.kind)] = openapi_v2_schema(openapi_kind_schema(k.kind));
  definitions[kScaleSchema] = openapi_v2_schema(scale_schema());
  Json doc = Json::object();
  doc["swagger"] = "2.0";
  doc["info"] = Json{{"title", "Corral"}, {"version", "v1"}};
  doc["paths"] = Json::object();
  doc["definitions"] = std::move(definitions);
  return doc;
}

void serve_openapi_v2(const HttpRequest& req, HttpResponse& res) {
  res.status = 200;
  if (req.get_header_value("Accept").find("protobuf") != std::string::npos)
    return res.set_content(documents().v2_protobuf, kOpenApiV2ProtobufType);
  res.set_content(documents().v2_json, kJsonContentType);
}

}  // namespace corral::server
