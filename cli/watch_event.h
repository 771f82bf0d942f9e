// One event of a watch (ResourceClient::watch, cli/resource_client.h): apart
// from the interface so that commands that never watch need not compile
// nlohmann/json.
#pragma once

#include <string>

#include "api/json.h"

namespace corral::cli {

struct WatchEvent {
  std::string type;  // ADDED | MODIFIED | DELETED | ERROR
  Json object;
};

}  // namespace corral::cli
