// A request body as the API decodes it: JSON text → normalize_object (strict
// decode of every kind, defaults, validation, re-encode).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/json.h"
#include "api/kinds.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto json = corral::parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
  if (json) (void)corral::normalize_object(*json);
  return 0;
}
