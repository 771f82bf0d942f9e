// Manifest YAML (and JSON, which YAML reads too) → normalized objects, as
// `corralctl apply -f` and the API's decoder take them from a user.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/manifest.h"
#include "api/yaml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto docs = corral::parse_yaml_documents(text, "fuzz.yaml");
  if (docs) (void)corral::normalize_manifests(*docs);
  return 0;
}
