#include "tests/support/e2e_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>

#include <cstdlib>
#include <thread>

namespace corral::testing {

bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

namespace {

// With read(2), not an ifstream: a process that exits while it is read makes
// read fail with ESRCH, which libstdc++'s filebuf turns into an exception.
std::string read_cmdline(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace

std::map<int, std::string> process_table() {
  std::map<int, std::string> out;
  DIR* proc = opendir("/proc");
  if (!proc) return out;
  while (dirent* e = readdir(proc)) {
    int pid = atoi(e->d_name);
    if (pid <= 0) continue;
    std::string cmd = read_cmdline(std::string("/proc/") + e->d_name + "/cmdline");
    for (char& c : cmd)
      if (c == '\0') c = ' ';
    if (!cmd.empty()) out[pid] = cmd;
  }
  closedir(proc);
  return out;
}

int kill_processes_matching(const std::vector<std::string>& needles) {
  int killed = 0;
  for (const auto& [pid, cmd] : process_table()) {
    bool all = true;
    for (const std::string& n : needles) all = all && cmd.find(n) != std::string::npos;
    if (all && ::kill(pid, SIGKILL) == 0) ++killed;
  }
  return killed;
}

std::string node_phase(ApiClient& api, const std::string& node) {
  auto r = api.call("GET", ApiClient::resource_path("nodes", node));
  if (!r) return "";
  return (*r).value("status", Json::object()).value("phase", "");
}

}  // namespace corral::testing
