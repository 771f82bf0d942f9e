// Files that hold secrets (a tokens file, a token, the data directory) must
// not be open to other users: the daemons refuse them rather than serve with
// credentials anyone on the host can read.
#pragma once

#include <string>

#include "base/error.h"

namespace corral {

// Ok when `path` exists and its mode grants nothing to group or others.
// Errors: BadRequest naming `what` (e.g. "--tokens"), the path, its mode and
// the chmod that fixes it; Unavailable when it cannot be examined.
Result<void> require_private(const std::string& path, const std::string& what);

// The secret in a token file: its first non-blank line, trimmed. Errors:
// those of require_private; Unavailable when unreadable; BadRequest when empty.
Result<std::string> read_token_file(const std::string& path, const std::string& what);

// A client's bearer token (corral-agent, corral-balancer, corralctl): from
// `token_file` (--token-file) when given, else $CORRAL_TOKEN, else "" (none).
// `argv_token` is what a --token flag was given: refused with an error that
// says where to put it instead, because every user of the host can read a
// process's arguments (ps, /proc/PID/cmdline).
Result<std::string> client_token(const std::string& token_file, const std::string& argv_token);

}  // namespace corral
