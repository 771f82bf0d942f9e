// PATCH bodies as Kubernetes takes them, applied to a stored object's JSON:
//  - JSON merge patch (RFC 7386, application/merge-patch+json): objects merge
//    key by key, null deletes a key, anything else (lists included) replaces;
//  - JSON patch (RFC 6902, application/json-patch+json): a list of add,
//    remove, replace, move, copy and test operations on JSON pointers;
//  - strategic merge patch (application/strategic-merge-patch+json), which
//    kubectl sends by default: Corral's model declares no merge keys (no list
//    is merged element by element), so it is a merge patch plus the
//    directives kubectl writes into one: `$patch: replace | delete | merge`
//    in an object, `$retainKeys`, `$deleteFromPrimitiveList/<field>` and
//    `$setElementOrder/<field>` (an order hint, meaningless when lists are
//    replaced whole).
// Server-side apply (application/apply-patch+yaml) is not served: the
// error says to use client-side `kubectl apply`.
#pragma once

#include <string_view>

#include "api/json_fwd.h"
#include "base/error.h"

namespace corral {

enum class PatchType { kMerge, kJson, kStrategic };

// The patch type a Content-Type names ("application/merge-patch+json;
// charset=utf-8" included). Errors: UnsupportedMedia naming the accepted types.
Result<PatchType> patch_type_from_content_type(std::string_view content_type);

// The media type of each (for errors, clients and the OpenAPI document).
std::string_view patch_media_type(PatchType type);

// Parses a patch body and checks its shape: a JSON object for the merge
// patches, a list of operations for JSON patch (each named "patch[i]" in
// errors). Errors: BadRequest.
Result<Json> parse_patch(PatchType type, std::string_view body);

// Applies a parsed patch to `target`, returning the patched copy.
// Errors: Invalid for a JSON patch operation that cannot apply (a path that
// does not exist, a failed test) naming the operation ("patch[2] (replace
// /spec/replicas)"); BadRequest for a malformed strategic directive.
Result<Json> apply_patch(PatchType type, const Json& target, const Json& patch);

}  // namespace corral
