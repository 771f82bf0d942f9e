#include "base/ready_file.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace corral {

Result<void> write_file_atomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return make_error(ErrorCode::kUnavailable, "cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return make_error(ErrorCode::kUnavailable, "cannot rename " + tmp + " to " + path);
  }
  return Ok{};
}

}  // namespace corral
