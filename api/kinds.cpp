#include "api/kinds.h"

#include <algorithm>
#include <cctype>

#include "api/defaults.h"
#include "api/json.h"
#include "api/validate.h"

namespace corral {

const std::vector<KindInfo>& all_kinds() {
  static const std::vector<KindInfo> kinds = {
      {"Node", "nodes", "node", {"no"}, true, {"spec.unschedulable", "status.phase"}},
      {"Pool", "pools", "pool", {"pool"}, true, {}},
      {"VMSet", "vmsets", "vmset", {"vmset"}, true, {"spec.pool"}},
      {"VM", "vms", "vm", {"vm"}, true, {"spec.nodeName", "status.phase", "status.nodeName"}},
      {"Balancer", "balancers", "balancer", {"lb"}, true, {"spec.vmSet"}},
      {"Secret", "secrets", "secret", {"secret"}, false, {"type"}},
      {"Event", "events", "event", {"ev"}, false,
       {"involvedObject.kind", "involvedObject.name", "reason", "type"}},
  };
  return kinds;
}

namespace {
bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

template <class T>
Result<Json> defaulted_and_valid(T& typed) {
  apply_defaults(typed);
  auto causes = validate(typed);
  if (!causes.empty()) {
    std::string what = std::string(T::kKind) + " \"" + typed.metadata.name + "\"";
    return invalid(what, std::move(causes));
  }
  canonicalize(typed);
  return to_json(typed);
}

template <class T>
Result<Json> normalize_as(const Json& object, std::vector<Cause>* warnings) {
  auto typed = from_json<T>(object);
  if (!typed) return typed.take_error();
  for (Cause& w : respell_old_values(*typed))
    if (warnings) warnings->push_back(std::move(w));
  return defaulted_and_valid(*typed);
}
}  // namespace

Result<Json> normalize_typed(Event object) { return defaulted_and_valid(object); }
Result<Json> normalize_typed(VM object) { return defaulted_and_valid(object); }
Result<Json> normalize_typed_in_place(VM& object) { return defaulted_and_valid(object); }

const KindInfo* find_kind(std::string_view name) {
  // Short names first would let "vms" mean vmsets; kubectl resolves plurals
  // first, so "vms" is the plural of VM and vmsets' short name is "vmset".
  for (const auto& k : all_kinds())
    if (iequals(name, k.plural) || iequals(name, k.kind) || iequals(name, k.singular)) return &k;
  for (const auto& k : all_kinds())
    for (const auto& s : k.short_names)
      if (iequals(name, s)) return &k;
  return nullptr;
}

const KindInfo* find_kind_by_plural(std::string_view plural) {
  for (const auto& k : all_kinds())
    if (plural == k.plural) return &k;
  return nullptr;
}

Result<Json> normalize_object(const Json& object, std::vector<Cause>* warnings) {
  if (!object.is_object())
    return invalid("object", {{"", "expected an object, got " + json_type_name(object), ""}});
  std::vector<Cause> causes;
  auto av = object.find("apiVersion");
  if (av == object.end() || !av->is_string()) {
    causes.push_back({"apiVersion", "required: must be \"" + std::string(kApiVersion) + "\"", ""});
  } else if (av->get<std::string>() != kApiVersion) {
    causes.push_back({"apiVersion", "unknown apiVersion \"" + av->get<std::string>() +
                                        "\": must be \"" + std::string(kApiVersion) + "\"", ""});
  }
  auto k = object.find("kind");
  const KindInfo* info = nullptr;
  if (k == object.end() || !k->is_string()) {
    causes.push_back({"kind", "required: one of Node, Pool, VMSet, VM, Balancer, Secret, Event", ""});
  } else {
    info = find_kind(k->get<std::string>());
    if (!info || info->kind != k->get<std::string>()) {
      causes.push_back({"kind", "unknown kind \"" + k->get<std::string>() +
                                    "\": one of Node, Pool, VMSet, VM, Balancer, Secret, Event", ""});
      info = nullptr;
    }
  }
  if (!causes.empty()) return invalid("object", std::move(causes));
  const std::string& kind = info->kind;
  if (kind == "Node") return normalize_as<Node>(object, warnings);
  if (kind == "Pool") return normalize_as<Pool>(object, warnings);
  if (kind == "VMSet") return normalize_as<VMSet>(object, warnings);
  if (kind == "VM") return normalize_as<VM>(object, warnings);
  if (kind == "Balancer") return normalize_as<Balancer>(object, warnings);
  if (kind == "Secret") return normalize_as<Secret>(object, warnings);
  return normalize_as<Event>(object, warnings);
}

std::string field_value(const Json& object, std::string_view dotted_path) {
  const Json* cur = &object;
  size_t start = 0;
  while (start <= dotted_path.size()) {
    size_t dot = dotted_path.find('.', start);
    std::string key(dotted_path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (!cur->is_object()) return "";
    auto it = cur->find(key);
    if (it == cur->end()) return "";
    cur = &*it;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_null()) return "";
  return cur->dump();
}

}  // namespace corral
