#include "tests/support/balancer_process.h"

#include <signal.h>

#include <thread>

#include "api/json.h"

namespace corral::testing {

bool BalancerProcess::start(const std::vector<std::string>& args, std::string* error,
                            std::chrono::milliseconds timeout) {
  std::string ready = files_.file("ready.json");
  ProcessOptions po;
  po.argv = {binary_};
  po.argv.insert(po.argv.end(), args.begin(), args.end());
  po.argv.insert(po.argv.end(), {"--admin", "127.0.0.1:0", "--ready-file", ready});
  po.stderr_path = files_.file("stderr");
  po.stdout_path = files_.file("stdout");
  process_ = std::make_unique<Process>(po);
  if (!process_->started()) {
    *error = "cannot start " + binary_ + ": " + process_->error();
    return false;
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto parsed = parse_json(read_file(ready), "ready file");
    if (parsed && parsed->is_object()) {
      admin_ = parsed->value("admin", "");
      const Json& listeners = (*parsed)["listeners"];
      if (listeners.is_object())
        for (auto it = listeners.begin(); it != listeners.end(); ++it)
          if (it.value().is_string()) listeners_[it.key()] = it.value().get<std::string>();
      return true;
    }
    if (!process_->running()) {
      *error = "corral-balancer exited with " + std::to_string(process_->exit_code().value_or(-1)) +
               " before it was ready:\n" + logs();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  *error = "corral-balancer was not ready in time:\n" + logs();
  return false;
}

int BalancerProcess::run_to_exit(const std::vector<std::string>& args, std::string* err,
                                 std::chrono::milliseconds timeout) {
  ProcessOptions po;
  po.argv = {binary_};
  po.argv.insert(po.argv.end(), args.begin(), args.end());
  po.argv.insert(po.argv.end(), {"--admin", "127.0.0.1:0"});
  po.stderr_path = files_.file("stderr");
  process_ = std::make_unique<Process>(po);
  auto code = process_->wait(timeout);
  *err = logs();
  return code.value_or(-1);
}

void BalancerProcess::kill_hard() {
  if (process_) {
    process_->kill(SIGKILL);
    process_->wait(std::chrono::seconds(5));
  }
}

std::string BalancerProcess::listener(const std::string& balancer) const {
  auto it = listeners_.find(balancer);
  return it == listeners_.end() ? "" : it->second;
}

std::string BalancerProcess::logs() const { return read_file(files_.file("stderr")); }

}  // namespace corral::testing
