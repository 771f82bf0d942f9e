#include "tests/support/soak_host.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <set>
#include <sstream>

#include "api/json.h"
#include "tests/support/e2e_util.h"

namespace corral::testing {

namespace soak_host_impl {

struct ProcessVm {
  pid_t pid = 0;
  VmCopy copy;
};

// The process group of `pid` from /proc/PID/stat (field 5); -1 when gone.
pid_t process_group(pid_t pid) {
  const std::string stat = read_proc_file("/proc/" + std::to_string(pid) + "/stat");
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 2));
  std::string state;
  long ppid = 0, pgrp = -1;
  rest >> state >> ppid >> pgrp;
  return static_cast<pid_t>(pgrp);
}

std::vector<ProcessVm> process_vms(const std::string& marker) {
  std::vector<ProcessVm> out;
  DIR* proc = opendir("/proc");
  if (!proc) return out;
  while (dirent* e = readdir(proc)) {
    const pid_t pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    const std::string environ = read_proc_file("/proc/" + std::to_string(pid) + "/environ");
    if (environ.find(marker) == std::string::npos) continue;
    ProcessVm vm;
    vm.pid = pid;
    bool named = false;
    for (size_t at = 0; at < environ.size();) {
      size_t end = environ.find('\0', at);
      if (end == std::string::npos) end = environ.size();
      const std::string kv = environ.substr(at, end - at);
      at = end + 1;
      if (kv.rfind("CORRAL_VM_NAME=", 0) == 0) {
        vm.copy.vm = kv.substr(15);
        named = true;
      } else if (kv.rfind("CORRAL_NODE=", 0) == 0) {
        vm.copy.node = kv.substr(12);
      } else if (kv.rfind("CORRAL_EPOCH=", 0) == 0) {
        vm.copy.epoch = std::atoll(kv.c_str() + 13);
      }
    }
    // A child of a VM inherits its environment; only the group leader is the VM.
    if (named && process_group(pid) == pid) out.push_back(vm);
  }
  closedir(proc);
  return out;
}

}  // namespace soak_host_impl

std::vector<VmCopy> process_vm_copies(const std::string& marker) {
  std::vector<VmCopy> out;
  for (const soak_host_impl::ProcessVm& vm : soak_host_impl::process_vms(marker)) out.push_back(vm.copy);
  return out;
}

int kill_process_vms(const std::string& marker) {
  int killed = 0;
  for (const soak_host_impl::ProcessVm& vm : soak_host_impl::process_vms(marker)) killed += ::kill(-vm.pid, SIGKILL) == 0 ? 1 : 0;
  return killed;
}

std::vector<VmCopy> state_file_copies(const std::string& node, const std::filesystem::path& file) {
  std::vector<VmCopy> out;
  const Json state = Json::parse(read_proc_file(file.string()), nullptr, false);
  if (!state.is_object() || !state.contains("vms") || !state["vms"].is_object()) return out;
  for (const auto& [name, entry] : state["vms"].items())
    out.push_back(VmCopy{name, node, entry.is_object() ? entry.value("epoch", int64_t{0}) : 0});
  return out;
}

ProcStats proc_stats(pid_t pid) {
  ProcStats s;
  const std::string dir = "/proc/" + std::to_string(pid);
  std::istringstream status(read_proc_file(dir + "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_mib = std::atol(line.c_str() + 6) / 1024.0;
    if (line.rfind("Threads:", 0) == 0) s.threads = std::atoi(line.c_str() + 8);
  }
  if (DIR* fds = opendir((dir + "/fd").c_str())) {
    s.fds = 0;
    while (dirent* e = readdir(fds))
      if (e->d_name[0] != '.') ++s.fds;
    closedir(fds);
  }
  return s;
}

double files_mib(const std::filesystem::path& dir, const std::string& prefix) {
  std::error_code ec;
  uintmax_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().filename().string().rfind(prefix, 0) != 0) continue;
    std::error_code size_ec;
    const uintmax_t size = entry.file_size(size_ec);
    if (!size_ec && entry.is_regular_file(size_ec)) total += size;
  }
  return static_cast<double>(total) / (1024.0 * 1024.0);
}

}  // namespace corral::testing
