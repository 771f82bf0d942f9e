// A VM's environment (RuntimeSpec.env), in either of two shapes:
//
//   env: {PYTHONUNBUFFERED: "1"}                       # the original map form
//   env:                                               # Kubernetes' list form
//     - {name: PYTHONUNBUFFERED, value: "1"}
//     - name: DB_PASSWORD
//       valueFrom: {secretKeyRef: {name: db, key: password}}
//
// Both decode to one EnvList. It is written back as a map while no entry takes
// its value from a Secret (objects stored before the list form existed read
// and compare exactly as before), and as a list otherwise.
//
// A secretKeyRef is resolved by the controller, never stored resolved: the
// agent of the VM's node receives the value in its heartbeat answer
// (controller/heartbeat/secret_env.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/json_fwd.h"
#include "base/error.h"

namespace corral {

struct SecretKeySelector {
  std::string name;                // the Secret (same cluster-wide namespace as every kind)
  std::string key;                 // a key of its data
  template <class V> void visit(V& v) { v("name", name); v("key", key); }
};
struct EnvVarSource {
  std::optional<SecretKeySelector> secretKeyRef;
  template <class V> void visit(V& v) { v("secretKeyRef", secretKeyRef); }
};
struct EnvVar {
  std::string name;
  std::string value;               // used when valueFrom is unset
  std::optional<EnvVarSource> valueFrom;
  template <class V> void visit(V& v) { v("name", name); v("value", value); v("valueFrom", valueFrom); }
  bool from_secret() const { return valueFrom && valueFrom->secretKeyRef; }
};

struct EnvList {
  std::vector<EnvVar> items;       // in the order written (the map form: sorted by name)
  bool listed = false;             // decoded from the list form: errors name env[i].name
  // Adds or replaces a plain `name=value`.
  void set(const std::string& name, const std::string& value);
  // The plain value of `name`, or nullptr (absent, or taken from a Secret).
  const std::string* find(const std::string& name) const;
  bool has_secret_refs() const;
  bool empty() const { return items.empty(); }
  size_t size() const { return items.size(); }
};

// The codec of api/fields.h for EnvList (found by argument-dependent lookup).
void decode_value(const Json& j, EnvList& out, const std::string& path, std::vector<Cause>& errs);
Json encode_value(const EnvList& v);

}  // namespace corral
