#include "api/openapi_schema.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/json.h"
#include "api/types.h"

namespace corral {

namespace {

template <class T>
struct Tag {};

Json typed(const char* type) { return Json{{"type", type}}; }
Json typed(const char* type, const char* format) { return Json{{"type", type}, {"format", format}}; }

Json schema_for(Tag<std::string>) { return typed("string"); }
Json schema_for(Tag<bool>) { return typed("boolean"); }
Json schema_for(Tag<int64_t>) { return typed("integer", "int64"); }
Json schema_for(Tag<int32_t>) { return typed("integer", "int32"); }
Json schema_for(Tag<double>) { return typed("number", "double"); }
Json schema_for(Tag<Quantity>) {
  Json s = Json::object();
  s["description"] = "A quantity: CPU in cores (2, 0.5, \"500m\") or memory in bytes (\"512Mi\", \"4Gi\").";
  s["anyOf"] = Json::array({typed("number"), typed("string")});
  return s;
}
Json schema_for(Tag<IntOrString>) {
  Json s = Json::object();
  s["x-kubernetes-int-or-string"] = true;
  s["anyOf"] = Json::array({typed("integer"), typed("string")});
  return s;
}
Json schema_for(Tag<EnvList>) {
  Json s = Json::object();
  s["description"] =
      "The VM's environment: a map NAME: value, or a list of {name, value} or {name, "
      "valueFrom: {secretKeyRef: {name, key}}} (Kubernetes' form).";
  s["x-kubernetes-preserve-unknown-fields"] = true;
  return s;
}

template <class T>
Json schema_for(Tag<std::vector<T>>);
template <class T>
Json schema_for(Tag<std::map<std::string, T>>);
template <class T>
Json schema_for(Tag<std::optional<T>>);

// The properties of a struct with visit(), in the order it lists them.
class SchemaVisitor {
 public:
  template <class T>
  void operator()(const char* key, const T&) {
    properties_[key] = schema_for(Tag<T>{});
  }
  void skip(const char*) {}
  Json take() {
    Json s = typed("object");
    s["properties"] = std::move(properties_);
    return s;
  }

 private:
  Json properties_ = Json::object();
};

template <class T>
  requires requires(T& t, SchemaVisitor& v) { t.visit(v); }
Json schema_for(Tag<T>) {
  SchemaVisitor v;
  T value{};
  value.visit(v);
  return v.take();
}

template <class T>
Json schema_for(Tag<std::vector<T>>) {
  Json s = typed("array");
  s["items"] = schema_for(Tag<T>{});
  return s;
}
template <class T>
Json schema_for(Tag<std::map<std::string, T>>) {
  Json s = typed("object");
  s["additionalProperties"] = schema_for(Tag<T>{});
  return s;
}
template <class T>
Json schema_for(Tag<std::optional<T>>) {
  return schema_for(Tag<T>{});
}

void describe(Json& properties, const char* field, const char* text) {
  if (properties.contains(field)) properties[field]["description"] = text;
}

template <class T>
Json kind_schema(const char* description) {
  Json s = schema_for(Tag<T>{});
  Json properties = Json::object();
  properties["apiVersion"] = typed("string");
  properties["apiVersion"]["description"] = "corral/v1";
  properties["kind"] = typed("string");
  properties["kind"]["description"] = std::string(T::kKind);
  for (auto& [key, value] : s["properties"].items()) properties[key] = std::move(value);
  describe(properties, "metadata", "The object's name, labels and annotations; the server sets the rest.");
  describe(properties, "spec", "What you want: written by people and tools.");
  describe(properties, "status", "What is: written by the controller and the agents.");
  s["properties"] = std::move(properties);
  s["description"] = description;
  s["x-kubernetes-group-version-kind"] =
      Json::array({Json{{"group", "corral"}, {"kind", T::kKind}, {"version", "v1"}}});
  return s;
}

}  // namespace

Json openapi_kind_schema(std::string_view kind) {
  if (kind == Node::kKind)
    return kind_schema<Node>(
        "A host: its agent registers it and reports measured CPU, memory and liveness; spec "
        "holds its taints, unschedulable and drain.");
  if (kind == Pool::kKind)
    return kind_schema<Pool>(
        "A pool of hosts chosen by a node selector: its capacity V, mean load L and the "
        "rebalancing policy.");
  if (kind == VMSet::kKind)
    return kind_schema<VMSet>(
        "Replicas of a VM template in a pool, spread over a topology, restarted, failed "
        "over and moved as their hosts change.");
  if (kind == VM::kKind)
    return kind_schema<VM>("One virtual machine bound to one node (made by its VMSet).");
  if (kind == Balancer::kKind)
    return kind_schema<Balancer>(
        "A load-balancing rule: a listen address in front of the VMs of a VMSet.");
  if (kind == Secret::kKind)
    return kind_schema<Secret>(
        "Values VMs take into their environment (env valueFrom.secretKeyRef), kept from "
        "viewers.");
  if (kind == Event::kKind)
    return kind_schema<Event>("Something that happened to an object (kept for --event-ttl).");
  return Json::object();
}

Json openapi_v2_schema(const Json& v3) {
  if (!v3.is_object()) return v3;
  Json out = Json::object();
  if (v3.contains("anyOf")) {
    out["type"] = "string";
    out["format"] = "int-or-string";
    if (v3.contains("description")) out["description"] = v3["description"];
    return out;
  }
  for (const auto& [key, value] : v3.items()) {
    if (key == "x-kubernetes-preserve-unknown-fields" || key == "x-kubernetes-int-or-string")
      continue;
    if (key == "properties") {
      Json properties = Json::object();
      for (const auto& [name, schema] : value.items()) properties[name] = openapi_v2_schema(schema);
      out[key] = std::move(properties);
    } else if (key == "items" || key == "additionalProperties") {
      out[key] = openapi_v2_schema(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

}  // namespace corral
