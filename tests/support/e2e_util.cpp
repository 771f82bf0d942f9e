#include "tests/support/e2e_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>

#include <cstdlib>
#include <thread>

#include "api/json.h"
#include "tests/support/http_backend.h"

namespace corral::testing {

bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout,
              std::chrono::milliseconds poll) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(poll);
  }
  return done();
}

// With read(2), not an ifstream: a process that exits while it is read makes
// read fail with ESRCH, which libstdc++'s filebuf turns into an exception.
std::string read_proc_file(const std::string& path) {
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

std::map<int, std::string> process_table() {
  std::map<int, std::string> out;
  DIR* proc = opendir("/proc");
  if (!proc) return out;
  while (dirent* e = readdir(proc)) {
    int pid = atoi(e->d_name);
    if (pid <= 0) continue;
    std::string cmd = read_proc_file(std::string("/proc/") + e->d_name + "/cmdline");
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

std::optional<double> metric_value(const std::string& exposition, const std::string& series) {
  const std::string line_start = series + " ";
  for (size_t at = 0; at < exposition.size();) {
    size_t end = exposition.find('\n', at);
    if (end == std::string::npos) end = exposition.size();
    if (exposition.compare(at, line_start.size(), line_start) == 0) {
      try {
        return std::stod(exposition.substr(at + line_start.size(), end - at - line_start.size()));
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
    at = end + 1;
  }
  return std::nullopt;
}

std::optional<double> scrape_metric(const std::string& url, const std::string& series) {
  const size_t scheme = url.find("://");
  const std::string host_port = scheme == std::string::npos ? url : url.substr(scheme + 3);
  HttpResult r = http_get(host_port, "/metrics");
  if (r.status != 200) return std::nullopt;
  return metric_value(r.body, series);
}

std::optional<double> controller_lifecycle_passes(const std::string& url) {
  return scrape_metric(url, "corral_controller_loop_pass_seconds_count{loop=\"node-lifecycle\"}");
}

namespace {

// Waits until `read` gives at least `more` above what it gave first.
bool wait_for_increase(const std::function<std::optional<double>()>& read, int more,
                       std::chrono::milliseconds timeout) {
  std::optional<double> first;
  return wait_for(
      [&] {
        std::optional<double> now = read();
        if (!now) return false;
        if (!first) first = now;
        return *now >= *first + more;
      },
      timeout);
}

}  // namespace

bool wait_for_controller_passes(const std::string& url, int passes,
                                std::chrono::milliseconds timeout) {
  return wait_for_increase([&] { return controller_lifecycle_passes(url); }, passes, timeout);
}

bool wait_for_agent_heartbeats(const std::string& url, int beats,
                               std::chrono::milliseconds timeout) {
  return wait_for_increase([&] { return scrape_metric(url, "corral_agent_heartbeats_total"); },
                           beats, timeout);
}

}  // namespace corral::testing
