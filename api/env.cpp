#include "api/types/env.h"

#include <algorithm>
#include <map>

#include "api/fields.h"
#include "api/json.h"

namespace corral {

void EnvList::set(const std::string& name, const std::string& value) {
  for (EnvVar& e : items)
    if (e.name == name) {
      e.value = value;
      e.valueFrom.reset();
      return;
    }
  items.push_back(EnvVar{name, value, std::nullopt});
}

const std::string* EnvList::find(const std::string& name) const {
  for (const EnvVar& e : items)
    if (e.name == name) return e.from_secret() ? nullptr : &e.value;
  return nullptr;
}

bool EnvList::has_secret_refs() const {
  return std::any_of(items.begin(), items.end(), [](const EnvVar& e) { return e.from_secret(); });
}

void decode_value(const Json& j, EnvList& out, const std::string& path, std::vector<Cause>& errs) {
  out.items.clear();
  out.listed = false;
  if (j.is_object()) {
    // The map form: {NAME: value}, written in name order as before.
    std::map<std::string, std::string> plain;
    decode_value(j, plain, path, errs);
    for (auto& [name, value] : plain) out.items.push_back(EnvVar{name, std::move(value), std::nullopt});
    return;
  }
  if (!j.is_array()) {
    errs.push_back({path,
                    "expected a list of {name, value | valueFrom} or a map of name: value, got " +
                        json_type_name(j),
                    ""});
    return;
  }
  out.listed = true;
  decode_value(j, out.items, path, errs);
}

Json encode_value(const EnvList& v) {
  if (!v.has_secret_refs()) {
    std::map<std::string, std::string> plain;
    for (const EnvVar& e : v.items) plain[e.name] = e.value;
    Json o = Json::object();
    // Written as strings even when empty: the map form's values are required strings.
    for (const auto& [name, value] : plain) o[name] = value;
    return o;
  }
  Json a = Json::array();
  for (const EnvVar& e : v.items) a.push_back(encode_value(e));
  return a;
}

}  // namespace corral
