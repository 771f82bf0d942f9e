// `corralctl describe secret NAME`: its type and each key with the size of its
// value — never the value, as `kubectl describe secret` (values are for
// `get -o yaml`, and only an admin's token reads them).
#pragma once

#include <string>

#include "api/json_fwd.h"

namespace corral::cli {

// "Type:" and "Data:" lines, one per key ("password:  8 bytes"); a value the
// server redacted for this reader reads "<redacted>".
std::string describe_secret(const Json& object);

}  // namespace corral::cli
