// End-to-end helpers: a real corral-controller on 127.0.0.1 port 0 with its
// own data dir, and corralctl runs with exit code, stdout and stderr captured.
// Binary paths: tests/support/paths.h.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace corral::testing {

// A daemon that announces itself by writing its URL to a --ready-file:
// start() spawns it and polls that file (no fixed sleeps) until it names the
// URL. Shared by Controller and Agent.
class Daemon {
 public:
  Daemon(std::string name, std::chrono::milliseconds ready_timeout);
  ~Daemon();

  // `argv` without --ready-file (added here). False (with `error` set,
  // including the daemon's stderr) on failure.
  bool start(std::vector<std::string> argv, std::string* error);
  // SIGKILL and reap: a crash, nothing flushed.
  void kill_hard();
  // SIGTERM, then SIGKILL if it has not exited within `grace`.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(10'000));
  bool running() { return process_ && process_->running(); }

  const std::string& url() const { return url_; }
  std::string logs() const;  // the stderr of the current (or last) run
  Process* process() { return process_.get(); }

 private:
  std::string name_;
  std::chrono::milliseconds ready_timeout_;
  TempDir files_;  // ready file and logs
  int runs_ = 0;
  std::string url_;
  std::unique_ptr<Process> process_;
};

struct ControllerOptions {
  std::string binary;       // path of corral-controller
  // Kept across restarts. Empty: no --data-dir (--store etcd in extra_args
  // keeps the state in etcd).
  std::string data_dir;
  std::string tokens_file;  // empty: no --tokens
  // --listen of the first start; another address than loopback needs --tokens.
  std::string listen = "127.0.0.1:0";
  std::vector<std::string> extra_args;
  // How long to wait for the ready file: generous, start-up on a loaded machine is slow.
  std::chrono::milliseconds ready_timeout{60'000};
};

// A controller process on 127.0.0.1. The first start() binds port 0; later
// starts (a restart on the same data dir) bind the same port again, so that
// agents and clients find it where it was.
class Controller {
 public:
  explicit Controller(ControllerOptions options);

  bool start(std::string* error);
  void kill_hard() { daemon_.kill_hard(); }
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(10'000)) { daemon_.stop(grace); }

  const std::string& url() const { return daemon_.url(); }
  std::string logs() const { return daemon_.logs(); }
  Process* process() { return daemon_.process(); }

 private:
  ControllerOptions options_;
  Daemon daemon_;
  std::string listen_;
};

struct AgentOptions {
  std::string binary;      // path of corral-agent
  std::string server;      // the controller's URL
  std::string node;
  std::string driver = "process";
  std::string data_dir;    // kept across restarts: the state file lives here
  std::string labels;      // "k=v,k2=v2"
  std::string listen = "127.0.0.1:0";  // --listen of its local endpoint
  // Put before the agent's argv, e.g. {"/usr/sbin/ip", "netns", "exec", NS}:
  // the command must exec the agent so that the pid stays the agent's.
  std::vector<std::string> wrapper;
  std::vector<std::string> extra_args;
  std::chrono::milliseconds ready_timeout{60'000};  // as ControllerOptions::ready_timeout
  // Its bearer token, written to a mode-600 file beside data_dir and given as
  // --token-file (never on the command line); empty: none.
  std::string token;
};

// A corral-agent process with its local endpoint on 127.0.0.1 port 0.
class Agent {
 public:
  explicit Agent(AgentOptions options);

  bool start(std::string* error);
  void kill_hard() { daemon_.kill_hard(); }
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(10'000)) { daemon_.stop(grace); }
  bool running() { return daemon_.running(); }
  // Sends `signal` (SIGSTOP, SIGCONT, ...); false when it is not running.
  bool signal(int signal) { return daemon_.process() && daemon_.process()->kill(signal); }

  const std::string& url() const { return daemon_.url(); }  // its local endpoint
  std::string logs() const { return daemon_.logs(); }
  const AgentOptions& options() const { return options_; }
  Process* process() { return daemon_.process(); }

 private:
  AgentOptions options_;
  Daemon daemon_;
};

struct CommandResult {
  int exit_code = -1;  // -1: it did not finish within the timeout
  std::string out;
  std::string err;
};

struct CommandOptions {
  std::map<std::string, std::string> env;  // on top of a hermetic environment
  std::string stdin_text;
  std::chrono::milliseconds timeout{60'000};
};

// Runs `binary args...` with HOME set to an empty temp dir and CORRAL_SERVER /
// CORRAL_TOKEN / CORRAL_CA unset (unless `options.env` sets them).
CommandResult run_command(const std::string& binary, const std::vector<std::string>& args,
                          const CommandOptions& options = {});

// The controller and the agents of a local test cluster under `dir`: data in
// dir/controller and dir/NODE; each agent declares 4 CPUs and 8 GiB.
inline ControllerOptions local_controller_options(const std::filesystem::path& dir) {
  ControllerOptions o;
  o.binary = controller_binary();
  o.data_dir = (dir / "controller").string();
  return o;
}
inline AgentOptions local_agent_options(const std::string& server, const std::filesystem::path& dir,
                                        const std::string& node) {
  AgentOptions a;
  a.binary = agent_binary();
  a.server = server;
  a.node = node;
  a.data_dir = (dir / node).string();
  a.extra_args = {"--cpu", "4", "--memory", "8Gi"};
  return a;
}

}  // namespace corral::testing
