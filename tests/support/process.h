// A child process for end-to-end tests: argv and environment, stdout and
// stderr to files, kill(signal), wait with a deadline. The destructor kills
// (SIGKILL) and reaps a child that still runs, so no test leaves zombies.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace corral::testing {

struct ProcessOptions {
  std::vector<std::string> argv;           // argv[0] is the program path
  std::map<std::string, std::string> env;  // set or override these variables
  std::vector<std::string> unset_env;      // remove these from the inherited environment
  std::string stdout_path;                 // empty: /dev/null
  std::string stderr_path;                 // empty: /dev/null
  std::string stdin_path;                  // empty: /dev/null
};

class Process {
 public:
  // Starts the child; started() is false (and error() says why) on failure.
  explicit Process(ProcessOptions options);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  bool started() const { return pid_ > 0; }
  const std::string& error() const { return error_; }
  pid_t pid() const { return pid_; }
  bool running();

  // Sends `signal`; false when the child is already reaped.
  bool kill(int signal);
  // Waits until the child exits or `timeout` passes. Returns its exit code, or
  // 128+signal when a signal ended it; nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  std::optional<int> exit_code() const { return exit_code_; }

 private:
  bool reap(bool block);

  pid_t pid_ = -1;
  bool reaped_ = false;
  std::optional<int> exit_code_;
  std::string error_;
};

std::string read_file(const std::string& path);

}  // namespace corral::testing
