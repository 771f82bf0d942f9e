// A corral-balancer process for end-to-end tests: started with --ready-file
// and --admin 127.0.0.1:0, it is ready once the file names its admin address
// and listeners (written atomically, so never half read).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace corral::testing {

class BalancerProcess {
 public:
  explicit BalancerProcess(std::string binary) : binary_(std::move(binary)) {}
  // `args` without --ready-file/--admin. False with `error` (including its
  // stderr) when it exits or is not ready within `timeout` (generous: start-up
  // on a loaded machine is slow; a ready balancer ends the wait at once).
  bool start(const std::vector<std::string>& args, std::string* error,
             std::chrono::milliseconds timeout = std::chrono::milliseconds(60'000));
  // Runs it to completion (for start-up errors): exit code, stderr in `err`.
  int run_to_exit(const std::vector<std::string>& args, std::string* err,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(60'000));
  void kill_hard();

  std::string listener(const std::string& balancer) const;  // "127.0.0.1:port" or ""
  const std::string& admin() const { return admin_; }
  std::string logs() const;
  Process* process() { return process_.get(); }

 private:
  std::string binary_;
  TempDir files_;
  std::unique_ptr<Process> process_;
  std::string admin_;
  std::map<std::string, std::string> listeners_;
};

}  // namespace corral::testing
