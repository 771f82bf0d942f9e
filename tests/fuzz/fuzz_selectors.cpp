// Query-string values a client chooses: label and field selectors,
// quantities and durations (resourceVersion and timeoutSeconds are integers
// parsed by the same routines as quantities' digits).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/quantity.h"
#include "api/selector.h"
#include "base/duration.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto s = corral::Selector::parse(text)) (void)s->to_string();
  (void)corral::parse_field_selector(text);
  (void)corral::parse_quantity(std::string(text));
  (void)corral::parse_duration(text);
  return 0;
}
