#include "agent/drivers/spawn.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace corral::agent {

namespace {

// What the child writes to the report pipe before it execs.
enum class Stage : int32_t { kSetup = 1, kCgroup = 2, kExec = 3 };
struct ChildReport {
  Stage stage;
  int32_t err;
};

std::string errno_text(int err) { return std::strerror(err); }

// Only async-signal-safe calls from here on: the parent may have other threads
// holding locks (malloc's among them) at the moment of fork.
[[noreturn]] void run_child(int report_fd, int gate_fd, int stdin_fd, int log_fd,
                            const char* cgroup_procs, char* const* argv, char* const* envp) {
  auto report = [&](Stage stage, int err) {
    ChildReport r{stage, err};
    ssize_t n;
    do n = write(report_fd, &r, sizeof r);
    while (n < 0 && errno == EINTR);
  };
  setpgid(0, 0);
  // The agent may block or ignore signals; a VM starts with the defaults.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaction(sig, &dfl, nullptr);
  if (dup2(stdin_fd, STDIN_FILENO) < 0 || dup2(log_fd, STDOUT_FILENO) < 0 ||
      dup2(log_fd, STDERR_FILENO) < 0) {
    report(Stage::kSetup, errno);
    _exit(127);
  }
  if (cgroup_procs) {
    // Writing "0" to cgroup.procs moves the writing process itself.
    int fd = open(cgroup_procs, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, "0\n", 2) != 2) report(Stage::kCgroup, errno);
    if (fd >= 0) close(fd);
  }
  if (gate_fd >= 0) {
    // One byte: go. EOF: the parent refused, or died before it could say.
    char go = 0;
    ssize_t n;
    do n = read(gate_fd, &go, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) _exit(127);
  }
  execvpe(argv[0], argv, envp);
  report(Stage::kExec, errno);
  _exit(127);
}

}  // namespace

Result<int> allocate_port(const std::string& address) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(ErrorCode::kUnavailable, "socket: " + errno_text(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  if (inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) {
    close(fd);
    return make_error(ErrorCode::kBadRequest,
                      "bind address \"" + address + "\" is not an IPv4 address");
  }
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
    int err = errno;
    close(fd);
    return make_error(ErrorCode::kUnavailable, "bind " + address + ":0: " + errno_text(err));
  }
  close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

std::string substitute(const std::string& text, const std::map<std::string, std::string>& vars) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("${", i);
    if (open == std::string::npos) break;
    size_t close = text.find('}', open + 2);
    if (close == std::string::npos) break;
    out.append(text, i, open - i);
    auto it = vars.find(text.substr(open + 2, close - open - 2));
    if (it != vars.end()) {
      out += it->second;
    } else {
      out.append(text, open, close - open + 1);
    }
    i = close + 1;
  }
  out.append(text, i, std::string::npos);
  return out;
}

SpawnResult spawn_process(const SpawnRequest& request) {
  SpawnResult result;
  auto fail = [&](const std::string& what) {
    result.error = "failed to start: " + what;
    return result;
  };
  if (request.argv.empty() || request.argv[0].empty()) return fail("empty command");

  // Everything the child needs is prepared before fork (no allocation after).
  std::vector<char*> argv;
  for (const auto& a : request.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : request.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string procs;
  if (!request.cgroup_dir.empty()) procs = (request.cgroup_dir / "cgroup.procs").string();

  int log_fd = open(request.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return fail(request.log_file.string() + ": " + errno_text(errno));
  int stdin_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (stdin_fd < 0) {
    int err = errno;
    close(log_fd);
    return fail("/dev/null: " + errno_text(err));
  }
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) < 0) {
    int err = errno;
    close(log_fd);
    close(stdin_fd);
    return fail("pipe: " + errno_text(err));
  }

  int gate_fds[2] = {-1, -1};
  if (request.before_exec && pipe2(gate_fds, O_CLOEXEC) < 0) {
    int err = errno;
    close(log_fd);
    close(stdin_fd);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return fail("pipe: " + errno_text(err));
  }

  pid_t pid = fork();
  if (pid == 0) {
    close(pipe_fds[0]);
    if (gate_fds[1] >= 0) close(gate_fds[1]);
    run_child(pipe_fds[1], gate_fds[0], stdin_fd, log_fd, procs.empty() ? nullptr : procs.c_str(),
              argv.data(), envp.data());
  }
  int fork_errno = errno;
  close(pipe_fds[1]);
  if (gate_fds[0] >= 0) close(gate_fds[0]);
  close(log_fd);
  close(stdin_fd);
  if (pid < 0) {
    close(pipe_fds[0]);
    if (gate_fds[1] >= 0) close(gate_fds[1]);
    return fail("fork: " + errno_text(fork_errno));
  }
  // Also set in the parent, so the group exists before we could signal it.
  setpgid(pid, pid);
  if (request.before_exec) {
    std::string refused;
    const bool go = request.before_exec(pid, &refused);
    if (go) {
      const char byte = 1;
      ssize_t n;
      do n = write(gate_fds[1], &byte, 1);
      while (n < 0 && errno == EINTR);
    }
    close(gate_fds[1]);
    if (!go) {
      close(pipe_fds[0]);
      int status;
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return fail(refused);
    }
  }

  ChildReport report{};
  bool exec_failed = false;
  int exec_errno = 0;
  Stage failed_stage = Stage::kExec;
  result.cgroup_joined = !procs.empty();
  for (;;) {
    ssize_t n = read(pipe_fds[0], &report, sizeof report);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof report)) break;  // EOF: exec succeeded
    if (report.stage == Stage::kCgroup) {
      result.cgroup_joined = false;
      result.cgroup_error = "joining " + procs + ": " + errno_text(report.err);
    } else {
      exec_failed = true;
      exec_errno = report.err;
      failed_stage = report.stage;
    }
  }
  close(pipe_fds[0]);
  if (exec_failed) {
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (failed_stage == Stage::kSetup) return fail("redirecting output: " + errno_text(exec_errno));
    return fail(request.argv[0] + ": " + errno_text(exec_errno));
  }
  result.pid = pid;
  result.started = true;
  return result;
}

}  // namespace corral::agent
