// Lists every object of a kind and decodes it into its typed struct, for
// commands that run the controller's pure decision cores client side
// (`simulate fail`, `rebalance plan`).
#pragma once

#include <vector>

#include "api/json.h"
#include "api/kinds.h"
#include "cli/command.h"
#include "cli/resource_client.h"

namespace corral::cli {

// Errors: the API's, or the first object that does not decode (named).
template <class T>
Result<std::vector<T>> list_typed(ResourceClient& client) {
  const KindInfo& kind = *find_kind(T::kKind);
  auto list = client.list(kind, {});
  if (!list) return list.take_error();
  std::vector<T> out;
  if (!list->contains("items") || !(*list)["items"].is_array()) return out;
  for (const auto& item : (*list)["items"]) {
    auto typed = from_json<T>(item);
    if (!typed) {
      Error e = typed.take_error();
      e.message = "cannot read " + qualified_name(kind, object_name(item)) + ": " + e.message;
      return e;
    }
    out.push_back(std::move(*typed));
  }
  return out;
}

}  // namespace corral::cli
