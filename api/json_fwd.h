// The JSON value type, declared only: for headers that pass Json by reference
// or declare functions returning it, so that their includers need not parse
// nlohmann/json (130,000 lines). Include api/json.h where a Json is built,
// read or destroyed.
#pragma once

#include <nlohmann/json_fwd.hpp>

namespace corral {

using Json = nlohmann::ordered_json;

}  // namespace corral
