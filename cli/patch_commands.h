// corralctl's verbs that change part of one object, as kubectl's do, each a
// PATCH (api/patch.h) so that they never overwrite what another writer
// changed in between:
//
//   corralctl patch KIND NAME -p PATCH [--type strategic|merge|json]
//   corralctl label KIND NAME key=value... key-... [--overwrite]
//   corralctl annotate KIND NAME key=value... key-... [--overwrite]
//   corralctl scale vmset NAME --replicas N [--current-replicas M]
//
// KIND NAME may be written KIND/NAME. They print kubectl's lines:
// "vmset/web patched", "... labeled", "... annotated", "... scaled".
#pragma once

#include <string>
#include <vector>

#include "cli/command.h"

namespace corral::cli {

struct PatchOptions {
  std::vector<std::string> args;  // KIND NAME | KIND/NAME
  std::string patch;              // -p: the patch as JSON (YAML accepted too)
  std::string patch_file;         // --patch-file: read it from a file
  std::string type = "strategic"; // strategic | merge | json, as kubectl's --type
};
int run_patch(Context& ctx, const PatchOptions& options);

struct MetadataOptions {
  std::vector<std::string> args;  // KIND NAME... then key=value or key- changes
  bool overwrite = false;         // may change a key that already has a value
  bool annotations = false;       // annotate (true) or label (false)
};
// A key that already has another value is refused without --overwrite; the
// write pins the resourceVersion it checked, so a concurrent change is a
// conflict, not a silent overwrite.
int run_label(Context& ctx, const MetadataOptions& options);

struct ScaleOptions {
  std::vector<std::string> args;  // vmset NAME | vmset/NAME
  int64_t replicas = -1;          // --replicas (required)
  int64_t current_replicas = -1;  // --current-replicas: only if it has this many now
};
int run_scale(Context& ctx, const ScaleOptions& options);

}  // namespace corral::cli
