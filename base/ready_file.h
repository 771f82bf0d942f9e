// The --ready-file both daemons write once they listen: their URL, written to
// a temporary file and renamed into place, so that a reader (a test, a script)
// never sees half a URL.
#pragma once

#include <string>

#include "base/error.h"

namespace corral {

// Errors: Unavailable naming the file that could not be written or renamed.
Result<void> write_file_atomically(const std::string& path, const std::string& text);

}  // namespace corral
