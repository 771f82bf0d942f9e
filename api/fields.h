// A field-visitor codec: each resource struct lists its fields once, in
//
//   template <class V> void visit(V& v) { v("replicas", replicas); ... }
//
// and one strict decoder and one encoder are derived from that list. The
// decoder rejects unknown fields and wrong types with their field path (like
// `kubectl --validate=strict`) and keeps going so that all errors are reported
// at once. The encoder omits empty strings, empty lists and maps, unset
// optionals and empty objects; numbers and booleans are always written.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include "api/field_path.h"
#include "api/int_or_string.h"
#include "api/json.h"
#include "api/quantity.h"

namespace corral {

// ---- decoding ---------------------------------------------------------------

void decode_value(const Json& j, std::string& out, const std::string& path, std::vector<Cause>& errs);
void decode_value(const Json& j, bool& out, const std::string& path, std::vector<Cause>& errs);
void decode_value(const Json& j, int64_t& out, const std::string& path, std::vector<Cause>& errs);
void decode_value(const Json& j, int32_t& out, const std::string& path, std::vector<Cause>& errs);
void decode_value(const Json& j, double& out, const std::string& path, std::vector<Cause>& errs);
void decode_value(const Json& j, Quantity& out, const std::string& path, std::vector<Cause>& errs);
void decode_value(const Json& j, IntOrString& out, const std::string& path, std::vector<Cause>& errs);
void decode_value(const Json& j, Json& out, const std::string& path, std::vector<Cause>& errs);

template <class T>
void decode_value(const Json& j, std::vector<T>& out, const std::string& path, std::vector<Cause>& errs);
template <class T>
void decode_value(const Json& j, std::map<std::string, T>& out, const std::string& path,
                  std::vector<Cause>& errs);
template <class T>
void decode_value(const Json& j, std::optional<T>& out, const std::string& path,
                  std::vector<Cause>& errs);

class StructDecoder;
template <class T>
concept Visitable = requires(T& t, StructDecoder& d) { t.visit(d); };

// Visits one struct: decodes every field it names and, in finish(), reports the
// keys of the JSON object that no field claimed.
class StructDecoder {
 public:
  StructDecoder(const Json& j, std::string path, std::vector<Cause>& errs)
      : j_(j), path_(std::move(path)), errs_(errs) {}

  template <class T>
  void operator()(const char* key, T& field) {
    known_.insert(key);
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return;
    decode_value(*it, field, join_path(path_, key), errs_);
  }
  // A key that is accepted but decoded by the caller (apiVersion, kind).
  void skip(const char* key) { known_.insert(key); }
  void finish();

 private:
  const Json& j_;
  std::string path_;
  std::vector<Cause>& errs_;
  std::unordered_set<std::string> known_;
};

template <Visitable T>
void decode_value(const Json& j, T& out, const std::string& path, std::vector<Cause>& errs) {
  if (!j.is_object()) {
    errs.push_back({path, "expected an object, got " + json_type_name(j), ""});
    return;
  }
  StructDecoder d(j, path, errs);
  out.visit(d);
  d.finish();
}

template <class T>
void decode_value(const Json& j, std::vector<T>& out, const std::string& path, std::vector<Cause>& errs) {
  if (!j.is_array()) {
    errs.push_back({path, "expected a list, got " + json_type_name(j), ""});
    return;
  }
  out.clear();
  out.resize(j.size());
  for (size_t i = 0; i < j.size(); ++i) decode_value(j[i], out[i], index_path(path, i), errs);
}

template <class T>
void decode_value(const Json& j, std::map<std::string, T>& out, const std::string& path,
                  std::vector<Cause>& errs) {
  if (!j.is_object()) {
    errs.push_back({path, "expected a map, got " + json_type_name(j), ""});
    return;
  }
  out.clear();
  for (auto it = j.begin(); it != j.end(); ++it) {
    T value{};
    decode_value(it.value(), value, join_path(path, it.key()), errs);
    out.emplace(it.key(), std::move(value));
  }
}

template <class T>
void decode_value(const Json& j, std::optional<T>& out, const std::string& path,
                  std::vector<Cause>& errs) {
  T value{};
  decode_value(j, value, path, errs);
  out = std::move(value);
}

// Decodes a whole struct; the causes name every problem found.
template <Visitable T>
Result<T> decode_strict(const Json& j, const std::string& what, const std::string& path = "") {
  T out{};
  std::vector<Cause> errs;
  decode_value(j, out, path, errs);
  if (!errs.empty()) return invalid(what, std::move(errs));
  return out;
}

// ---- encoding ---------------------------------------------------------------

Json encode_value(const std::string& v);
Json encode_value(bool v);
Json encode_value(int64_t v);
Json encode_value(int32_t v);
Json encode_value(double v);
Json encode_value(const Quantity& v);
Json encode_value(const IntOrString& v);
Json encode_value(const Json& v);
template <class T>
Json encode_value(const std::vector<T>& v);
template <class T>
Json encode_value(const std::map<std::string, T>& v);
template <class T>
Json encode_value(const std::optional<T>& v);

// True for what the encoder leaves out: null, "", [], {}.
bool is_empty_json(const Json& j);

class StructEncoder {
 public:
  template <class T>
  void operator()(const char* key, const T& field) {
    Json v = encode_value(field);
    if (!is_empty_json(v)) out_[key] = std::move(v);
  }
  void skip(const char*) {}
  Json take() { return std::move(out_); }

 private:
  Json out_ = Json::object();
};

template <Visitable T>
Json encode_value(const T& v) {
  StructEncoder e;
  // visit() is written once for both directions; the encoder only reads.
  const_cast<T&>(v).visit(e);
  return e.take();
}
template <class T>
Json encode_value(const std::vector<T>& v) {
  Json a = Json::array();
  for (const auto& x : v) a.push_back(encode_value(x));
  return a;
}
template <class T>
Json encode_value(const std::map<std::string, T>& v) {
  Json o = Json::object();
  for (const auto& [k, x] : v) o[k] = encode_value(x);
  return o;
}
template <class T>
Json encode_value(const std::optional<T>& v) {
  if (!v) return Json();
  Json j = encode_value(*v);
  // An optional that is set is written even when its value looks empty.
  if (is_empty_json(j) && j.is_null()) return Json();
  return j;
}

}  // namespace corral
