#include "api/json.h"
#include "api/types/secret.h"

namespace corral {

Json redact_secret_values(Json secret) {
  if (!secret.is_object()) return secret;
  for (const char* field : {"data", "stringData"}) {
    auto values = secret.find(field);
    if (values == secret.end() || !values->is_object()) continue;
    for (auto it = values->begin(); it != values->end(); ++it) it.value() = kRedactedValue;
  }
  return secret;
}

}  // namespace corral
