#include "api/fields.h"

#include <cmath>
#include <limits>

#include "api/json.h"

namespace corral {

std::string join_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}
std::string index_path(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

void StructDecoder::finish() {
  for (auto it = j_.begin(); it != j_.end(); ++it) {
    if (!known_.count(it.key()))
      errs_.push_back({join_path(path_, it.key()), "unknown field \"" + it.key() + "\"", ""});
  }
}

namespace {
void wrong_type(const Json& j, const char* want, const std::string& path, std::vector<Cause>& errs) {
  errs.push_back({path, std::string("expected ") + want + ", got " + json_type_name(j), ""});
}
}  // namespace

void decode_value(const Json& j, std::string& out, const std::string& path, std::vector<Cause>& errs) {
  if (!j.is_string()) return wrong_type(j, "a string", path, errs);
  out = j.get<std::string>();
}

void decode_value(const Json& j, bool& out, const std::string& path, std::vector<Cause>& errs) {
  if (!j.is_boolean()) return wrong_type(j, "true or false", path, errs);
  out = j.get<bool>();
}

void decode_value(const Json& j, int64_t& out, const std::string& path, std::vector<Cause>& errs) {
  if (j.is_number_integer() || j.is_number_unsigned()) {
    if (j.is_number_unsigned() && j.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      return wrong_type(j, "an integer that fits in 64 bits", path, errs);
    out = j.get<int64_t>();
    return;
  }
  if (j.is_number_float()) {
    double d = j.get<double>();
    if (std::trunc(d) == d && std::fabs(d) < 9e15) {
      out = static_cast<int64_t>(d);
      return;
    }
  }
  wrong_type(j, "an integer", path, errs);
}

void decode_value(const Json& j, int32_t& out, const std::string& path, std::vector<Cause>& errs) {
  int64_t v = 0;
  size_t before = errs.size();
  decode_value(j, v, path, errs);
  if (errs.size() != before) return;
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
    errs.push_back({path, "must fit in 32 bits", ""});
    return;
  }
  out = static_cast<int32_t>(v);
}

void decode_value(const Json& j, double& out, const std::string& path, std::vector<Cause>& errs) {
  if (!j.is_number()) return wrong_type(j, "a number", path, errs);
  out = j.get<double>();
}

void decode_value(const Json& j, Quantity& out, const std::string& path, std::vector<Cause>& errs) {
  std::string text;
  if (j.is_string()) {
    text = j.get<std::string>();
  } else if (j.is_number_integer() || j.is_number_unsigned()) {
    text = std::to_string(j.get<int64_t>());
  } else if (j.is_number_float()) {
    text = j.dump();
  } else {
    return wrong_type(j, "a quantity such as 500m, 2 or 4Gi", path, errs);
  }
  auto q = parse_quantity(text);
  if (!q) {
    errs.push_back({path, q.error().message, ""});
    return;
  }
  out = *q;
}

void decode_value(const Json& j, IntOrString& out, const std::string& path, std::vector<Cause>& errs) {
  if (j.is_string()) {
    out = IntOrString{true, 0, j.get<std::string>()};
    return;
  }
  int64_t v = 0;
  size_t before = errs.size();
  decode_value(j, v, path, errs);
  if (errs.size() == before) out = IntOrString{false, v, ""};
}

void decode_value(const Json& j, Json& out, const std::string&, std::vector<Cause>&) { out = j; }

Json encode_value(const std::string& v) { return v.empty() ? Json() : Json(v); }
Json encode_value(bool v) { return Json(v); }
Json encode_value(int64_t v) { return Json(v); }
Json encode_value(int32_t v) { return Json(v); }
Json encode_value(double v) { return Json(v); }
Json encode_value(const Quantity& v) { return v.text.empty() ? Json() : Json(v.text); }
Json encode_value(const IntOrString& v) {
  if (v.is_string) return v.str_value.empty() ? Json() : Json(v.str_value);
  return Json(v.int_value);
}
Json encode_value(const Json& v) { return v; }

bool is_empty_json(const Json& j) {
  return j.is_null() || (j.is_string() && j.get_ref<const std::string&>().empty()) ||
         (j.is_array() && j.empty()) || (j.is_object() && j.empty());
}

}  // namespace corral
