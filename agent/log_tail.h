// Reads the end of a VM's log file for GET /v1/logs/<vm>?tailLines=N, without
// reading a large log whole: it reads backwards in blocks until it has N lines;
// and the part after an offset for ?sinceBytes=N (the controller following a
// log: controller/server/log_follow.h).
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
// `end`, when given, is set to the file's size as read: the offset just past
// the text, where a follow goes on from.
// Errors: NotFound when the file does not exist, Unavailable when unreadable.
Result<std::string> tail_file(const std::filesystem::path& file, std::optional<int64_t> lines,
                              int64_t max_bytes, int64_t* end = nullptr);

// A part of a log file: `text` is its bytes from offset `start`.
struct LogRange {
  std::string text;
  int64_t start = 0;
  int64_t end() const { return start + static_cast<int64_t>(text.size()); }
};

// The bytes of `file` from offset `since` on, at most `max_bytes` of them
// (fewer when the file ends first; none when nothing was written since). A
// `since` past the file's end means the file was truncated or replaced (the
// VM started again): the range then starts at 0, and `start` says so.
// Errors: as tail_file's.
Result<LogRange> read_since(const std::filesystem::path& file, int64_t since, int64_t max_bytes);

}  // namespace corral::agent
