#include "agent/fence/guard_file.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/log.h"

namespace corral::agent {

namespace {

constexpr const char* kHeader = "corral-fence-guard 1";

Error invalid(const std::string& file, int line, const std::string& why) {
  return make_error(ErrorCode::kInvalid,
                    file + ":" + std::to_string(line) + ": fence guard file: " + why);
}

}  // namespace

int64_t boottime_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::string format_guard(const GuardState& state) {
  std::string out = std::string(kHeader) + "\n";
  out += "deadline " + std::to_string(state.deadline_ns) + "\n";
  out += "budget-ms " + std::to_string(state.budget_ms) + "\n";
  for (const auto& [name, e] : state.vms)
    out += "vm " + name + " " + std::to_string(e.pid) + " " + std::to_string(e.start_time) + "\n";
  return out;
}

Result<GuardState> parse_guard(const std::string& text, const std::string& file) {
  GuardState state;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  bool header = false, deadline = false, budget = false;
  while (std::getline(in, line)) {
    ++n;
    if (n == 1) {
      if (line != kHeader) return invalid(file, n, "expected \"" + std::string(kHeader) + "\"");
      header = true;
      continue;
    }
    std::istringstream words(line);
    std::string key;
    words >> key;
    if (key == "deadline") {
      if (!(words >> state.deadline_ns) || state.deadline_ns < 0)
        return invalid(file, n, "deadline: expected nanoseconds ≥ 0");
      deadline = true;
    } else if (key == "budget-ms") {
      if (!(words >> state.budget_ms) || state.budget_ms < 0)
        return invalid(file, n, "budget-ms: expected milliseconds ≥ 0");
      budget = true;
    } else if (key == "vm") {
      std::string name;
      GuardEntry e;
      if (!(words >> name >> e.pid >> e.start_time) || e.pid <= 0)
        return invalid(file, n, "vm: expected NAME PID STARTTIME with PID > 0");
      state.vms[name] = e;
    } else if (!key.empty()) {
      return invalid(file, n, "unknown line \"" + key + "\"");
    }
    std::string rest;
    if (words >> rest) return invalid(file, n, "unexpected \"" + rest + "\"");
  }
  if (!header || !deadline || !budget)
    return invalid(file, n, "truncated: the header, deadline and budget-ms lines are required");
  return state;
}

Result<GuardState> read_guard_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) {
    const int err = errno;
    return make_error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kUnavailable,
                      file.string() + ": " + std::strerror(err));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_guard(text.str(), file.string());
}

Result<std::unique_ptr<GuardFile>> GuardFile::open(const std::filesystem::path& file,
                                                   std::chrono::milliseconds budget) {
  GuardState state;
  auto found = read_guard_file(file);
  if (found) {
    state = *found;
  } else if (found.error().code != ErrorCode::kNotFound) {
    // A corrupt file is replaced; its VMs, if any still run, are the state
    // file's and the driver's to adopt or stop.
    logger("agent")->warn("{}; writing a new one", found.error().message);
  }
  state.budget_ms = budget.count();
  std::unique_ptr<GuardFile> guard(new GuardFile(file, std::move(state)));
  std::lock_guard lock(guard->mu_);
  if (auto w = guard->write_locked(); !w) return w.take_error();
  return guard;
}

GuardFile::GuardFile(std::filesystem::path file, GuardState state)
    : file_(std::move(file)), state_(std::move(state)) {}

Result<void> GuardFile::write_locked() {
  const std::string tmp = file_.string() + ".tmp";
  const std::string text = format_guard(state_);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return make_error(ErrorCode::kUnavailable, tmp + ": " + std::strerror(errno));
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t w = ::write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      const int err = errno;
      ::close(fd);
      return make_error(ErrorCode::kUnavailable, tmp + ": " + std::strerror(err));
    }
    p += w;
    left -= static_cast<size_t>(w);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), file_.c_str()) != 0)
    return make_error(ErrorCode::kUnavailable,
                      "rename " + tmp + " to " + file_.string() + ": " + std::strerror(errno));
  return Ok{};
}

void GuardFile::renew(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(
      deadline - std::chrono::steady_clock::now());
  std::lock_guard lock(mu_);
  state_.deadline_ns = std::max<int64_t>(1, boottime_now_ns() + left.count());
  if (auto w = write_locked(); !w)
    logger("agent")->error("{}: the fence watchdog keeps the previous deadline", w.error().message);
}

Result<void> GuardFile::add(const std::string& vm, GuardEntry entry) {
  std::lock_guard lock(mu_);
  state_.vms[vm] = entry;
  return write_locked();
}

void GuardFile::remove(const std::string& vm) {
  std::lock_guard lock(mu_);
  if (state_.vms.erase(vm) == 0) return;
  if (auto w = write_locked(); !w) logger("agent")->warn("{}", w.error().message);
}

GuardState GuardFile::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

}  // namespace corral::agent
