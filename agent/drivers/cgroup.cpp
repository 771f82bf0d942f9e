#include "agent/drivers/cgroup.h"

#include <fstream>
#include <sstream>
#include <system_error>

namespace corral::agent {

namespace {

constexpr const char* kCorralGroup = "corral";
// The kernel's default cpu.max period (100 ms); the quota is scaled to it.
constexpr int64_t kCpuPeriodMicros = 100000;

std::string read_all(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool has_word(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  std::string w;
  while (in >> w) {
    if (w == word) return true;
  }
  return false;
}

Result<void> write_file(const std::filesystem::path& file, const std::string& value) {
  std::ofstream out(file);
  if (out) out << value << std::flush;
  if (!out)
    return make_error(ErrorCode::kUnavailable,
                      "cannot write \"" + value + "\" to " + file.string());
  return Ok{};
}

}  // namespace

Cgroups::Cgroups(std::filesystem::path root) : root_(std::move(root)) {
  detail_ = probe();
  enabled_ = detail_.empty();
  if (!enabled_) reason_ = "cgroup v2 not writable at " + root_.string() + ": limits not enforced";
}

std::string Cgroups::probe() const {
  std::error_code ec;
  auto controllers_file = root_ / "cgroup.controllers";
  if (!std::filesystem::exists(controllers_file, ec))
    return controllers_file.string() + " does not exist (not a cgroup v2 mount)";
  std::string controllers = read_all(controllers_file);
  if (!has_word(controllers, "cpu") || !has_word(controllers, "memory"))
    return "cpu or memory controller not offered in " + controllers_file.string();
  // The parent must hand cpu and memory down to corral/, and corral/ to each VM.
  auto root_subtree = root_ / "cgroup.subtree_control";
  std::string enabled_below = read_all(root_subtree);
  if (!has_word(enabled_below, "cpu") || !has_word(enabled_below, "memory")) {
    if (auto w = write_file(root_subtree, "+cpu +memory"); !w) return w.error().message;
  }
  auto group = root_ / kCorralGroup;
  std::filesystem::create_directories(group, ec);
  if (ec) return "cannot create " + group.string() + ": " + ec.message();
  if (auto w = write_file(group / "cgroup.subtree_control", "+cpu +memory"); !w)
    return w.error().message;
  return "";
}

std::filesystem::path Cgroups::dir(const std::string& vm) const {
  return root_ / kCorralGroup / vm;
}

Result<std::filesystem::path> Cgroups::create(const std::string& vm,
                                              const ResourceList& limits) const {
  if (!enabled_) return make_error(ErrorCode::kUnavailable, reason_);
  auto d = dir(vm);
  std::error_code ec;
  std::filesystem::create_directories(d, ec);
  if (ec)
    return make_error(ErrorCode::kUnavailable, "cannot create " + d.string() + ": " + ec.message());
  std::string cpu = "max " + std::to_string(kCpuPeriodMicros);
  if (!limits.cpu.empty() && limits.cpu.milli > 0)
    cpu = std::to_string(limits.cpu.milli * kCpuPeriodMicros / kMilliPerUnit) + " " +
          std::to_string(kCpuPeriodMicros);
  if (auto w = write_file(d / "cpu.max", cpu); !w) return w.take_error();
  std::string mem = "max";
  if (!limits.memory.empty() && limits.memory.whole() > 0)
    mem = std::to_string(limits.memory.whole());
  if (auto w = write_file(d / "memory.max", mem); !w) return w.take_error();
  return d;
}

void Cgroups::remove(const std::string& vm) const {
  if (!enabled_) return;
  std::error_code ec;
  // A cgroup directory is removed with rmdir even though it lists files; a fake
  // tree in tests holds real files, so fall back to removing them.
  if (!std::filesystem::remove(dir(vm), ec)) std::filesystem::remove_all(dir(vm), ec);
}

}  // namespace corral::agent
