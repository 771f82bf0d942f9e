// A heartbeat body as the controller decodes it from an agent (which may
// lie): JSON → HeartbeatRequest → validation.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/codec.h"
#include "api/heartbeat.h"
#include "api/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto json = corral::parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!json) return 0;
  auto request = corral::from_json<corral::HeartbeatRequest>(*json);
  if (request) (void)corral::validate_heartbeat(*request);
  return 0;
}
