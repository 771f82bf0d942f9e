// Reads the end of a VM's log file for GET /v1/logs/<vm>?tailLines=N, without
// reading a large log whole: it reads backwards in blocks until it has N lines.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "base/error.h"

namespace corral::agent {

// The last `lines` lines of `file` (all of it when nullopt), at most
// `max_bytes` from its end either way (a line cut by that limit starts the
// text). A last line without its newline counts as a line.
// Errors: NotFound when the file does not exist, Unavailable when unreadable.
Result<std::string> tail_file(const std::filesystem::path& file, std::optional<int64_t> lines,
                              int64_t max_bytes);

}  // namespace corral::agent
