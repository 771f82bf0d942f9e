#include "base/private_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace corral {

Result<void> require_private(const std::string& path, const std::string& what) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0)
    return make_error(ErrorCode::kUnavailable,
                      what + " " + path + ": cannot examine it: " + std::strerror(errno));
  const unsigned open_to_others = st.st_mode & (S_IRWXG | S_IRWXO);
  if (open_to_others == 0) return Ok{};
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  const bool dir = S_ISDIR(st.st_mode);
  return make_error(ErrorCode::kBadRequest,
                    what + " " + path + " is open to other users (mode " + mode +
                        ") and holds secrets: chmod " + (dir ? "700 " : "600 ") + path);
}

Result<std::string> read_token_file(const std::string& path, const std::string& what) {
  if (auto ok = require_private(path, what); !ok) return ok.take_error();
  std::ifstream in(path);
  if (!in) return make_error(ErrorCode::kUnavailable, what + " " + path + ": cannot read it");
  std::string line;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const auto last = line.find_last_not_of(" \t\r");
    return line.substr(first, last - first + 1);
  }
  return make_error(ErrorCode::kBadRequest, what + " " + path + " holds no token");
}

Result<std::string> client_token(const std::string& token_file, const std::string& argv_token) {
  if (!argv_token.empty())
    return make_error(ErrorCode::kBadRequest,
                      "--token puts the token where every user of this host can read it (ps, "
                      "/proc/PID/cmdline): put it in a file only you can read and give "
                      "--token-file FILE, or set CORRAL_TOKEN");
  if (!token_file.empty()) return read_token_file(token_file, "--token-file");
  const char* env = std::getenv("CORRAL_TOKEN");
  return std::string(env ? env : "");
}

}  // namespace corral
