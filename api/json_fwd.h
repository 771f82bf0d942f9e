// The JSON value type, declared only: for headers that pass Json by reference
// or declare functions returning it, so that their includers need not parse
// nlohmann/json (130,000 lines). Include api/json.h where a Json is built,
// read or destroyed.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "api/json_object_map.h"

namespace corral {

// Objects keep their fields in the order written (nlohmann's ordered_map,
// growing without deep copies: api/json_object_map.h, defined here and not
// only declared so that no file can use a Json whose object type is
// incomplete — nlohmann/json.hpp may come from a precompiled header).
using Json = nlohmann::basic_json<JsonObjectMap>;

}  // namespace corral
