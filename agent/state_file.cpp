#include "agent/state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <type_traits>

#include "api/json.h"

namespace corral::agent {

namespace {

constexpr int kFormatVersion = 1;

Error io_error(const std::filesystem::path& file, const std::string& what, int err) {
  return make_error(ErrorCode::kUnavailable,
                    "state file " + file.string() + ": " + what + ": " + std::strerror(err));
}

Error bad_content(const std::filesystem::path& file, const std::string& what) {
  return make_error(ErrorCode::kInvalid, "state file " + file.string() + " is corrupt: " + what);
}

Result<void> write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(ErrorCode::kUnavailable, std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Ok{};
}

// Reads an integer member; false when absent, of another type, or out of T's range.
template <class T>
bool get_int(const Json& obj, const char* key, T* out) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_integer()) return false;
  if constexpr (std::is_unsigned_v<T>) {
    if (!it->is_number_unsigned()) return false;
    *out = it->template get<T>();
    return true;
  } else {
    if (it->is_number_unsigned() &&
        it->template get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<T>::max()))
      return false;
    auto v = it->template get<int64_t>();
    if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) return false;
    *out = static_cast<T>(v);
    return true;
  }
}

}  // namespace

Result<AgentState> read_state_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec) && !ec) return AgentState{};
  std::ifstream in(file, std::ios::binary);
  if (!in) return io_error(file, "cannot open", errno);
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return io_error(file, "read failed", errno);
  return parse_state(ss.str(), file);
}

Result<AgentState> parse_state(const std::string& text, const std::filesystem::path& file) {
  if (text.empty()) return bad_content(file, "empty (truncated?)");
  auto parsed = parse_json(text, file.string());
  if (!parsed) return bad_content(file, parsed.error().message);
  const Json& root = *parsed;
  if (!root.is_object()) return bad_content(file, "not a JSON object");
  int version = 0;
  if (!get_int(root, "version", &version) || version != kFormatVersion)
    return bad_content(
        file, "missing or unknown \"version\" (want " + std::to_string(kFormatVersion) + ")");
  auto vms = root.find("vms");
  if (vms == root.end() || !vms->is_object()) return bad_content(file, "\"vms\" is not an object");
  AgentState state;
  for (const auto& [name, v] : vms->items()) {
    if (name.empty() || !v.is_object())
      return bad_content(file, "vms[\"" + name + "\"] is not an object");
    StateEntry e;
    // (clang 14 cannot capture a structured binding: name it)
    auto field_error = [&, vm_name = name](const char* field) {
      return bad_content(file,
                         "vms[\"" + vm_name + "\"]." + field + " is missing or not a valid integer");
    };
    if (!get_int(v, "epoch", &e.epoch)) return field_error("epoch");
    if (!get_int(v, "pid", &e.pid)) return field_error("pid");
    if (!get_int(v, "startTime", &e.start_time)) return field_error("startTime");
    if (!get_int(v, "port", &e.port)) return field_error("port");
    auto d = v.find("driver");
    if (d == v.end() || !d->is_string())
      return bad_content(file, "vms[\"" + name + "\"].driver is missing or not a string");
    e.driver = d->get<std::string>();
    state.vms[name] = e;
  }
  return state;
}

Result<void> write_state_file(const std::filesystem::path& file, const AgentState& state) {
  Json root = Json::object();
  root["version"] = kFormatVersion;
  Json vms = Json::object();
  for (const auto& [name, e] : state.vms) {
    vms[name] = Json{{"epoch", e.epoch},
                     {"driver", e.driver},
                     {"pid", e.pid},
                     {"startTime", e.start_time},
                     {"port", e.port}};
  }
  root["vms"] = std::move(vms);
  std::string text = root.dump(2) + "\n";

  // The temp file lives beside the target so that rename() stays within one
  // file system and is atomic.
  std::filesystem::path dir = file.parent_path().empty() ? "." : file.parent_path();
  std::string tmpl = (dir / (file.filename().string() + ".tmp-XXXXXX")).string();
  int fd = mkstemp(tmpl.data());
  if (fd < 0) return io_error(file, "cannot create temp file in " + dir.string(), errno);
  auto fail = [&](const std::string& what, int err) {
    close(fd);
    unlink(tmpl.c_str());
    return io_error(file, what, err);
  };
  if (auto w = write_all(fd, text); !w) return fail("write " + tmpl, errno);
  if (fsync(fd) < 0) return fail("fsync " + tmpl, errno);
  if (close(fd) < 0) {
    int err = errno;
    unlink(tmpl.c_str());
    return io_error(file, "close " + tmpl, err);
  }
  if (rename(tmpl.c_str(), file.c_str()) < 0) {
    int err = errno;
    unlink(tmpl.c_str());
    return io_error(file, "rename " + tmpl, err);
  }
  // The rename itself is durable only once the directory is synced.
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return Ok{};
}

}  // namespace corral::agent
