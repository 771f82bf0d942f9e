#include "agent/log_tail.h"

#include <algorithm>
#include <fstream>
#include <vector>

namespace corral::agent {

namespace {
constexpr int64_t kBlock = 64 * 1024;

// `file` opened for reading, positioned at its end; *size its size.
Result<std::ifstream> open_log(const std::filesystem::path& file, int64_t* size) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec))
    return make_error(ErrorCode::kNotFound, file.string() + ": no such file");
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(ErrorCode::kUnavailable, file.string() + ": cannot open");
  in.seekg(0, std::ios::end);
  *size = in.tellg();
  return in;
}

}  // namespace

Result<std::string> tail_file(const std::filesystem::path& file, std::optional<int64_t> lines,
                              int64_t max_bytes, int64_t* end) {
  int64_t size = 0;
  auto opened = open_log(file, &size);
  if (!opened) return opened.take_error();
  std::ifstream& in = *opened;
  if (end) *end = size;
  const int64_t floor = std::max<int64_t>(0, size - max_bytes);
  if (lines && *lines <= 0) return std::string();

  // Walk back block by block, counting newlines, until the start of the wanted
  // lines (or the byte limit) is found. A trailing newline ends the last line
  // and does not start another one.
  int64_t start = floor;
  if (lines) {
    int64_t wanted = *lines;
    int64_t pos = size;
    std::vector<char> block;
    bool found = false;
    while (pos > floor && !found) {
      int64_t from = std::max(floor, pos - kBlock);
      block.resize(pos - from);
      in.seekg(from);
      in.read(block.data(), static_cast<std::streamsize>(block.size()));
      if (!in) return make_error(ErrorCode::kUnavailable, file.string() + ": read failed");
      for (int64_t i = static_cast<int64_t>(block.size()) - 1; i >= 0; --i) {
        if (block[i] != '\n' || from + i == size - 1) continue;
        if (--wanted == 0) {
          start = from + i + 1;
          found = true;
          break;
        }
      }
      pos = from;
    }
  }
  std::string text(size - start, '\0');
  in.clear();
  in.seekg(start);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (!in && !text.empty()) return make_error(ErrorCode::kUnavailable, file.string() + ": read failed");
  return text;
}

Result<LogRange> read_since(const std::filesystem::path& file, int64_t since, int64_t max_bytes) {
  int64_t size = 0;
  auto opened = open_log(file, &size);
  if (!opened) return opened.take_error();
  std::ifstream& in = *opened;
  LogRange range;
  range.start = since > size ? 0 : std::max<int64_t>(0, since);
  range.text.resize(static_cast<size_t>(std::clamp<int64_t>(size - range.start, 0, max_bytes)));
  in.seekg(range.start);
  in.read(range.text.data(), static_cast<std::streamsize>(range.text.size()));
  if (!in && !range.text.empty())
    return make_error(ErrorCode::kUnavailable, file.string() + ": read failed");
  return range;
}

}  // namespace corral::agent
