// The kinds Corral serves, how they are named in paths and on the command line,
// and the one entry point that turns any incoming object into its canonical
// form: strict decode → defaults → validation → re-encode.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/codec.h"
#include "api/json_fwd.h"
#include "api/types.h"
#include "base/error.h"

namespace corral {

struct KindInfo {
  std::string kind;                       // "VMSet"
  std::string plural;                     // "vmsets": the path segment
  std::string singular;                   // "vmset"
  std::vector<std::string> short_names;   // {"vms"}... as kubectl's api-resources shows them
  bool has_status = true;                 // false for Event (no /status subresource)
  // Field paths a fieldSelector may name, besides metadata.name (always supported).
  std::vector<std::string> field_selectors;
};

// Every kind, in the order `corralctl api-resources` lists them.
const std::vector<KindInfo>& all_kinds();
// By kind, plural, singular or short name, case-insensitively; nullptr if none.
const KindInfo* find_kind(std::string_view name);
const KindInfo* find_kind_by_plural(std::string_view plural);

// Strict decode, defaults, validation and canonical re-encode of one object of
// any kind. `path_prefix` is prepended to field paths in errors (empty for a
// whole object). The result always has apiVersion and kind first.
// Errors: Invalid with one cause per problem (unknown fields included).
// Values written in an old spelling (api/defaults.h respell_old_values) are
// rewritten; when `warnings` is given, one cause per rewrite is appended to it.
Result<Json> normalize_object(const Json& object, std::vector<Cause>* warnings = nullptr);

// The same for an object the controller built itself: defaults, validation
// and the canonical encoding, without decoding JSON first (an Event written
// per placement must not pay for a decode it does not need).
Result<Json> normalize_typed(Event object);
Result<Json> normalize_typed(VM object);
// The same, leaving `object` as the JSON says (defaults applied, canonical):
// a writer that keeps the typed form of what it stored needs no parse of it.
Result<Json> normalize_typed_in_place(VM& object);

// Reads the value at a dotted path ("spec.nodeName") as a string for field
// selectors: strings as they are, numbers and booleans printed, absent = "".
std::string field_value(const Json& object, std::string_view dotted_path);

}  // namespace corral
