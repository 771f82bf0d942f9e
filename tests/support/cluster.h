// End-to-end helpers: a real corral-controller on 127.0.0.1 port 0 with its
// own data dir, and corralctl runs with exit code, stdout and stderr captured.
// Binary paths come from CORRAL_BIN_DIR, a compile definition of each test
// target (not of this library), hence the inline functions below.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace corral::testing {

#ifdef CORRAL_BIN_DIR
inline std::string controller_binary() { return CORRAL_BIN_DIR "/controller/corral-controller"; }
inline std::string corralctl_binary() { return CORRAL_BIN_DIR "/cli/corralctl"; }
#endif
#ifdef CORRAL_SOURCE_DIR
inline std::string source_path(const std::string& relative) { return CORRAL_SOURCE_DIR "/" + relative; }
#endif

struct ControllerOptions {
  std::string binary;       // path of corral-controller
  std::string data_dir;     // kept across restarts
  std::string tokens_file;  // empty: no --tokens
  std::vector<std::string> extra_args;
  std::chrono::milliseconds ready_timeout{30'000};  // how long to wait for the ready file
};

// A controller process. start() spawns it with --listen 127.0.0.1:0 and
// --ready-file and polls that file (no fixed sleeps) until it names the URL.
class Controller {
 public:
  explicit Controller(ControllerOptions options);
  ~Controller();

  // False (with `error` set, including the controller's stderr) on failure.
  bool start(std::string* error);
  // SIGKILL and reap: a crash, nothing flushed.
  void kill_hard();
  // SIGTERM, then SIGKILL if it has not exited within `grace`.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(10'000));

  const std::string& url() const { return url_; }
  std::string logs() const;  // the stderr of the current (or last) run
  Process* process() { return process_.get(); }

 private:
  ControllerOptions options_;
  TempDir files_;  // ready file and logs
  int runs_ = 0;
  std::string url_;
  std::unique_ptr<Process> process_;
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

}  // namespace corral::testing
