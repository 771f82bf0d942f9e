// Validation and the stored form of Secrets, and validation of the env that
// refers to them (api/types/secret.h, api/types/env.h).
#include <set>

#include "api/base64.h"
#include "api/defaults.h"
#include "api/field_path.h"
#include "api/validate.h"

namespace corral {

namespace {

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

// Anything execve can carry in NAME=value: printable ASCII but '='.
std::optional<std::string> check_env_name(std::string_view name) {
  if (name.empty()) return "required";
  for (char c : name)
    if (c < 0x21 || c > 0x7e || c == '=')
      return "an environment variable name must consist of printable ASCII characters other "
             "than '=' and spaces";
  return std::nullopt;
}

void add(std::vector<Cause>& causes, std::string field, std::string message) {
  causes.push_back({std::move(field), std::move(message), ""});
}

}  // namespace

std::optional<std::string> check_secret_key(std::string_view key) {
  if (key.empty()) return "required";
  if (key.size() > kMaxSecretKeyLength)
    return "must be no more than " + std::to_string(kMaxSecretKeyLength) + " characters";
  if (key == "." || key == "..") return "must not be '.' or '..'";
  for (char c : key)
    if (!is_key_char(c))
      return "a valid key must consist of alphanumeric characters, '-', '_' or '.'";
  return std::nullopt;
}

std::vector<Cause> validate_env(const std::string& path, const EnvList& env) {
  std::vector<Cause> causes;
  std::set<std::string> seen;
  for (size_t i = 0; i < env.items.size(); ++i) {
    const EnvVar& e = env.items[i];
    // The map form names an entry by its key, the list form by its index.
    const std::string at = env.listed ? index_path(path, i) : join_path(path, e.name);
    const std::string name_path = env.listed ? join_path(at, "name") : at;
    if (auto bad = check_env_name(e.name)) add(causes, name_path, *bad);
    else if (!seen.insert(e.name).second) add(causes, name_path, "duplicate name \"" + e.name + "\"");
    if (!e.valueFrom) continue;
    const std::string from = join_path(at, "valueFrom");
    if (!e.value.empty())
      add(causes, join_path(at, "value"), "may not be set together with valueFrom");
    if (!e.valueFrom->secretKeyRef) {
      add(causes, join_path(from, "secretKeyRef"), "required: valueFrom takes a secretKeyRef");
      continue;
    }
    const SecretKeySelector& ref = *e.valueFrom->secretKeyRef;
    const std::string ref_path = join_path(from, "secretKeyRef");
    if (ref.name.empty())
      add(causes, join_path(ref_path, "name"), "required: the Secret to read");
    else if (auto bad = check_dns1123_subdomain(ref.name))
      add(causes, join_path(ref_path, "name"), *bad);
    if (auto bad = check_secret_key(ref.key))
      add(causes, join_path(ref_path, "key"),
          ref.key.empty() ? std::string("required: the key of the Secret's data") : *bad);
  }
  return causes;
}

std::vector<Cause> validate_secret_data(const Secret& secret) {
  std::vector<Cause> causes;
  if (secret.type != secret_type::kOpaque)
    add(causes, "type", "must be Opaque (the only Secret type Corral serves)");
  // The size is that of the stored result: stringData wins over data.
  std::map<std::string, size_t> sizes;
  for (const auto& [key, text] : secret.data) {
    const std::string field = join_path("data", key);
    if (auto bad = check_secret_key(key)) add(causes, field, "invalid key: " + *bad);
    auto value = base64_decode(text);
    if (!value)
      add(causes, field, "must be base64 (RFC 4648, padded); write plain text in stringData");
    else
      sizes[key] = value->size();
  }
  for (const auto& [key, value] : secret.stringData) {
    if (auto bad = check_secret_key(key))
      add(causes, join_path("stringData", key), "invalid key: " + *bad);
    sizes[key] = value.size();
  }
  size_t total = 0;
  for (const auto& [key, size] : sizes) total += key.size() + size;
  if (total > kMaxSecretBytes)
    add(causes, secret.stringData.empty() ? "data" : "stringData",
        "the Secret holds " + std::to_string(total) + " bytes of keys and values, more than " +
            std::to_string(kMaxSecretBytes));
  return causes;
}

void apply_defaults(Secret&) {
  // Nothing depends on another field; the merge of stringData is canonicalize's.
}

void canonicalize(Secret& secret) {
  for (const auto& [key, value] : secret.stringData) secret.data[key] = base64_encode(value);
  secret.stringData.clear();
}

}  // namespace corral
