// The JSON value type used for every API body and stored object.
// ordered_json keeps fields in the order they were written, so objects print
// as people expect (apiVersion, kind, metadata, spec, status).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "api/json_fwd.h"
#include "base/error.h"

namespace corral {

// Parses JSON text; a syntax error becomes a BadRequest naming the byte offset
// (and `origin`, e.g. a file name, when given).
Result<Json> parse_json(std::string_view text, const std::string& origin = "");

// Compact JSON that never throws: invalid UTF-8 (from a path, say) is replaced.
std::string dump_json(const Json& j);

// "string", "integer", "number", "boolean", "array", "object", "null".
std::string json_type_name(const Json& j);

}  // namespace corral
