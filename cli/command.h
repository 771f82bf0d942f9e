// What every corralctl command is given: the API seam, its streams and a
// clock (AGE columns), so commands run the same in unit tests and for real.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "api/kinds.h"
#include "cli/resource_client.h"

namespace corral::cli {

struct Context {
  ResourceClient& client;
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  const Clock& clock;
};

// Exit codes (kubectl's): 0 success, 1 any failure. diff uses 1 for "differs"
// and kExitDiffError for failures.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitDiffError = 2;

// "error: <message>" then one cause per line, on err.
void print_error(std::ostream& err, const Error& error);

// Resolves a kind as typed on the command line (plural, singular, short name,
// Kind); BadRequest `the server doesn't have a resource type "x"` otherwise.
Result<const KindInfo*> resolve_kind(const std::string& name);

// "pool/web": the singular and the name, as kubectl's -o name and apply print.
std::string qualified_name(const KindInfo& kind, const std::string& name);

// One object written KIND/NAME on the command line ("vmset/web", "vms/web-1").
struct ObjectRef {
  const KindInfo* kind = nullptr;
  std::string name;
};
// BadRequest `"web": write it KIND/NAME` when it is not one; resolve_kind's
// error for an unknown kind.
Result<ObjectRef> parse_object_ref(const std::string& arg);
// A verb's arguments with a lone KIND/NAME written as KIND NAME (describe,
// edit); any other arguments as they are.
Result<std::vector<std::string>> expand_object_ref(std::vector<std::string> args);

}  // namespace corral::cli
