#include "tests/support/cluster.h"

#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

namespace corral::testing {

namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

}  // namespace

Daemon::Daemon(std::string name, std::chrono::milliseconds ready_timeout)
    : name_(std::move(name)), ready_timeout_(ready_timeout) {}

Daemon::~Daemon() { stop(std::chrono::milliseconds(5'000)); }

bool Daemon::start(std::vector<std::string> argv, std::string* error) {
  ++runs_;
  url_.clear();
  std::string ready = files_.file("ready-" + std::to_string(runs_));
  argv.push_back("--ready-file");
  argv.push_back(ready);
  ProcessOptions po;
  po.argv = argv;
  po.stdout_path = files_.file("stdout-" + std::to_string(runs_));
  po.stderr_path = files_.file("stderr-" + std::to_string(runs_));
  process_ = std::make_unique<Process>(po);
  if (!process_->started()) {
    *error = "cannot start " + argv[0] + ": " + process_->error();
    return false;
  }
  auto deadline = std::chrono::steady_clock::now() + ready_timeout_;
  auto pause = std::chrono::milliseconds(2);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string text = trim(read_file(ready));
    // The URL is complete once the port is there; a half-written file is read again.
    auto colon = text.rfind(':');
    if (text.rfind("http", 0) == 0 && colon != std::string::npos && colon + 1 < text.size() &&
        colon > text.find("://")) {
      url_ = text;
      return true;
    }
    if (!process_->running()) {
      *error = name_ + " exited with " + std::to_string(process_->exit_code().value_or(-1)) +
               " before it was ready:\n" + logs();
      return false;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  *error = name_ + " did not write " + ready + " in time:\n" + logs();
  return false;
}

void Daemon::kill_hard() {
  if (!process_) return;
  process_->kill(SIGKILL);
  process_->wait(std::chrono::milliseconds(10'000));
}

void Daemon::stop(std::chrono::milliseconds grace) {
  if (!process_) return;
  if (process_->running()) {
    process_->kill(SIGTERM);
    if (!process_->wait(grace)) {
      process_->kill(SIGKILL);
      process_->wait(std::chrono::milliseconds(10'000));
    }
  }
}

std::string Daemon::logs() const { return read_file(files_.file("stderr-" + std::to_string(runs_))); }

Controller::Controller(ControllerOptions options)
    : options_(std::move(options)),
      daemon_("corral-controller", options_.ready_timeout),
      listen_(options_.listen) {}

bool Controller::start(std::string* error) {
  std::vector<std::string> argv = {options_.binary, "--listen", listen_};
  if (!options_.data_dir.empty()) {
    argv.push_back("--data-dir");
    argv.push_back(options_.data_dir);
  }
  if (!options_.tokens_file.empty()) {
    // The controller refuses a tokens file other users may read.
    ::chmod(options_.tokens_file.c_str(), 0600);
    argv.push_back("--tokens");
    argv.push_back(options_.tokens_file);
  }
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  if (!daemon_.start(argv, error)) return false;
  // Restarts bind the same port: "http://127.0.0.1:PORT" → "127.0.0.1:PORT".
  listen_ = daemon_.url().substr(daemon_.url().find("://") + 3);
  return true;
}

Agent::Agent(AgentOptions options)
    : options_(std::move(options)), daemon_("corral-agent " + options_.node, options_.ready_timeout) {}

bool Agent::start(std::string* error) {
  std::vector<std::string> argv = options_.wrapper;
  for (const std::string& arg : {options_.binary, std::string("--server"), options_.server,
                                 std::string("--node"), options_.node, std::string("--driver"),
                                 options_.driver, std::string("--data-dir"), options_.data_dir,
                                 std::string("--listen"), options_.listen})
    argv.push_back(arg);
  if (!options_.labels.empty()) {
    argv.push_back("--labels");
    argv.push_back(options_.labels);
  }
  if (!options_.token.empty()) {
    const std::string token_file = options_.data_dir + ".token";
    std::ofstream(token_file) << options_.token << "\n";
    ::chmod(token_file.c_str(), 0600);
    argv.push_back("--token-file");
    argv.push_back(token_file);
  }
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  return daemon_.start(argv, error);
}

CommandResult run_command(const std::string& binary, const std::vector<std::string>& args,
                          const CommandOptions& options) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "home");
  ProcessOptions po;
  po.argv = {binary};
  po.argv.insert(po.argv.end(), args.begin(), args.end());
  po.unset_env = {"CORRAL_SERVER", "CORRAL_TOKEN", "CORRAL_CA"};
  po.env["HOME"] = (dir.path() / "home").string();
  for (const auto& [k, v] : options.env) po.env[k] = v;
  po.stdout_path = dir.file("stdout");
  po.stderr_path = dir.file("stderr");
  if (!options.stdin_text.empty()) {
    po.stdin_path = dir.file("stdin");
    std::ofstream(po.stdin_path) << options.stdin_text;
  }
  CommandResult result;
  {
    Process p(po);
    if (!p.started()) {
      result.err = p.error();
      return result;
    }
    auto code = p.wait(options.timeout);
    result.exit_code = code.value_or(-1);
  }  // a child that timed out is killed and reaped here
  result.out = read_file(dir.file("stdout"));
  result.err = read_file(dir.file("stderr"));
  return result;
}

}  // namespace corral::testing
