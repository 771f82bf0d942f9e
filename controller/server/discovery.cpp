#include "controller/server/discovery.h"

#include "api/json.h"
#include "api/kinds.h"

#ifndef CORRAL_VERSION
#define CORRAL_VERSION "0.0.0"
#endif

namespace corral::server {

namespace {
constexpr const char* kGroup = "corral";
constexpr const char* kVersion = "v1";

Json group_version() {
  Json gv = Json::object();
  gv["groupVersion"] = kApiVersion;
  gv["version"] = kVersion;
  return gv;
}

Json group_body() {
  Json g = Json::object();
  g["name"] = kGroup;
  g["versions"] = Json::array({group_version()});
  g["preferredVersion"] = group_version();
  return g;
}
}  // namespace

Json core_api_versions() {
  Json j = Json::object();
  j["kind"] = "APIVersions";
  j["versions"] = Json::array();
  j["serverAddressByClientCIDRs"] = Json::array();
  return j;
}

Json api_group_list() {
  Json j = Json::object();
  j["kind"] = "APIGroupList";
  j["apiVersion"] = "v1";
  j["groups"] = Json::array({group_body()});
  return j;
}

Json api_group() {
  Json j = Json::object();
  j["kind"] = "APIGroup";
  j["apiVersion"] = "v1";
  Json body = group_body();
  for (auto& [k, v] : body.items()) j[k] = v;
  return j;
}

Json api_resource_list() {
  Json resources = Json::array();
  for (const auto& k : all_kinds()) {
    Json r = Json::object();
    r["name"] = k.plural;
    r["singularName"] = k.singular;
    r["namespaced"] = false;
    r["kind"] = k.kind;
    r["verbs"] = Json::array({"create", "delete", "get", "list", "patch", "update", "watch"});
    r["shortNames"] = k.short_names;
    resources.push_back(std::move(r));
    if (k.has_status) {
      Json s = Json::object();
      s["name"] = k.plural + "/status";
      s["singularName"] = "";
      s["namespaced"] = false;
      s["kind"] = k.kind;
      s["verbs"] = Json::array({"get", "patch", "update"});
      resources.push_back(std::move(s));
    }
    if (k.kind == "VMSet") {
      // kubectl scale finds the Scale's group and version here (scale.h).
      Json s = Json::object();
      s["name"] = k.plural + "/scale";
      s["singularName"] = "";
      s["namespaced"] = false;
      s["group"] = "autoscaling";
      s["version"] = "v1";
      s["kind"] = "Scale";
      s["verbs"] = Json::array({"get", "patch", "update"});
      resources.push_back(std::move(s));
    }
  }
  Json j = Json::object();
  j["kind"] = "APIResourceList";
  j["apiVersion"] = "v1";
  j["groupVersion"] = kApiVersion;
  j["resources"] = std::move(resources);
  return j;
}

Json version_info() {
  std::string v = CORRAL_VERSION;
  Json j = Json::object();
  auto dot = v.find('.');
  j["major"] = v.substr(0, dot);
  j["minor"] = dot == std::string::npos ? "" : v.substr(dot + 1, v.find('.', dot + 1) - dot - 1);
  j["gitVersion"] = v;
  j["platform"] = "linux";
  return j;
}

}  // namespace corral::server
