#include "controller/server/openapi_v2_proto.h"

#include <cstdint>

#include "api/json.h"

namespace corral::server {

namespace {

// Protocol buffers' wire format: a key (field number and wire type) and, for
// length-delimited fields, the length before the bytes.
void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

void put_bytes(std::string& out, int field, const std::string& bytes) {
  put_varint(out, (static_cast<uint64_t>(field) << 3) | 2);
  put_varint(out, bytes.size());
  out += bytes;
}

void put_bool(std::string& out, int field, bool value) {
  put_varint(out, static_cast<uint64_t>(field) << 3);
  put_varint(out, value ? 1 : 0);
}

void put_string_field(std::string& out, int field, const Json& object, const char* key) {
  if (auto it = object.find(key); it != object.end() && it->is_string())
    put_bytes(out, field, it->get<std::string>());
}

std::string named(const std::string& name, int value_field, const std::string& value) {
  std::string out;
  put_bytes(out, 1, name);
  put_bytes(out, value_field, value);
  return out;
}

std::string schema_message(const Json& schema);

// Properties / Definitions: repeated NamedSchema (1) {name 1, value 2}.
std::string named_schemas(const Json& map) {
  std::string out;
  for (const auto& [name, schema] : map.items())
    put_bytes(out, 1, named(name, 2, schema_message(schema)));
  return out;
}

std::string schema_message(const Json& schema) {
  std::string out;
  if (!schema.is_object()) return out;
  put_string_field(out, 1, schema, "$ref");
  put_string_field(out, 2, schema, "format");
  put_string_field(out, 3, schema, "title");
  put_string_field(out, 4, schema, "description");
  if (auto required = schema.find("required"); required != schema.end() && required->is_array()) {
    for (const Json& r : *required)
      if (r.is_string()) put_bytes(out, 19, r.get<std::string>());
  }
  if (auto extra = schema.find("additionalProperties"); extra != schema.end()) {
    std::string item;
    if (extra->is_boolean()) put_bool(item, 2, extra->get<bool>());
    else put_bytes(item, 1, schema_message(*extra));
    put_bytes(out, 21, item);
  }
  if (auto type = schema.find("type"); type != schema.end() && type->is_string()) {
    std::string item;
    put_bytes(item, 1, type->get<std::string>());
    put_bytes(out, 22, item);
  }
  if (auto items = schema.find("items"); items != schema.end() && items->is_object()) {
    std::string item;
    put_bytes(item, 1, schema_message(*items));
    put_bytes(out, 23, item);
  }
  if (auto properties = schema.find("properties");
      properties != schema.end() && properties->is_object())
    put_bytes(out, 25, named_schemas(*properties));
  for (const auto& [key, value] : schema.items()) {
    if (key.rfind("x-", 0) != 0) continue;
    std::string any;
    put_bytes(any, 2, dump_json(value));  // Any.yaml: JSON is YAML
    put_bytes(out, 31, named(key, 2, any));
  }
  return out;
}

}  // namespace

std::string openapi_v2_protobuf(const Json& document) {
  std::string out;
  put_string_field(out, 1, document, "swagger");
  if (auto info = document.find("info"); info != document.end() && info->is_object()) {
    std::string message;
    put_string_field(message, 1, *info, "title");
    put_string_field(message, 2, *info, "version");
    put_bytes(out, 2, message);
  }
  put_bytes(out, 8, "");  // paths: none (kubectl learns them from OpenAPI v3)
  if (auto definitions = document.find("definitions");
      definitions != document.end() && definitions->is_object())
    put_bytes(out, 9, named_schemas(*definitions));
  return out;
}

}  // namespace corral::server
