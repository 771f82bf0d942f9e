#include "tests/support/etcd_process.h"

#include "controller/store/etcd/etcd_client.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include "client/client.h"

namespace corral::testing {

int free_loopback_port(std::string* error) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return 0;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  } else {
    *error = std::string("bind 127.0.0.1:0: ") + std::strerror(errno);
  }
  ::close(fd);
  return port;
}

namespace {

std::string etcd_url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

}  // namespace

// ---- EtcdMember -------------------------------------------------------------------

EtcdMember::EtcdMember(std::string name, std::string dir, const EtcdProcessOptions& options)
    : name_(std::move(name)), dir_(std::move(dir)), options_(options) {}

EtcdMember::~EtcdMember() { stop(); }

std::string EtcdMember::endpoint() const { return etcd_url(client_port_); }
std::string EtcdMember::peer_url() const { return etcd_url(peer_port_); }

bool EtcdMember::running() { return process_ && process_->running(); }

bool EtcdMember::pick_ports(std::string* error) {
  client_port_ = free_loopback_port(error);
  peer_port_ = free_loopback_port(error);
  // Two sockets closed one after the other may be given the same port.
  if (client_port_ != 0 && peer_port_ == client_port_) peer_port_ = free_loopback_port(error);
  return client_port_ != 0 && peer_port_ != 0 && peer_port_ != client_port_;
}

bool EtcdMember::launch(const std::string& initial_cluster, std::string* error) {
  ++attempt_;
  initial_cluster_ = initial_cluster;
  data_dir_ = dir_ + "/" + name_ + "-data-" + std::to_string(attempt_);
  return restart(error);
}

bool EtcdMember::restart(std::string* error) {
  stop();
  log_path_ = dir_ + "/" + name_ + "-" + std::to_string(attempt_) + ".log";
  // A restart appends its own log next to the first one.
  for (int n = 2; std::filesystem::exists(log_path_); ++n)
    log_path_ = dir_ + "/" + name_ + "-" + std::to_string(attempt_) + "." + std::to_string(n) + ".log";
  ProcessOptions p;
  p.argv = {options_.binary,
            "--name=" + name_,
            "--data-dir=" + data_dir_,
            "--listen-client-urls=" + endpoint(),
            "--advertise-client-urls=" + endpoint(),
            "--listen-peer-urls=" + peer_url(),
            "--initial-advertise-peer-urls=" + peer_url(),
            "--initial-cluster=" + initial_cluster_,
            "--initial-cluster-state=new",
            "--initial-cluster-token=corral-test"};
  for (const std::string& arg : options_.extra_args) p.argv.push_back(arg);
  // ETCD_* variables of the environment would override the flags above.
  p.unset_env = {"ETCDCTL_API", "ETCD_NAME", "ETCD_DATA_DIR", "ETCD_INITIAL_CLUSTER"};
  p.stderr_path = log_path_;
  p.stdout_path = log_path_ + ".out";
  process_ = std::make_unique<Process>(p);
  if (!process_->started()) {
    *error = "cannot start " + options_.binary + ": " + process_->error();
    return false;
  }
  return true;
}

bool EtcdMember::wait_ready(std::chrono::steady_clock::time_point deadline, std::string* error,
                            bool* bind_failed) {
  if (bind_failed) *bind_failed = false;
  ClientConfig config;
  config.server = endpoint();
  config.timeout = std::chrono::milliseconds(1'000);
  config.connect_timeout = std::chrono::milliseconds(500);
  ApiClient client(config);
  // Polls with a short, growing pause: etcd says nothing when it is ready.
  auto pause = std::chrono::milliseconds(5);
  std::string last;
  while (true) {
    if (!running()) {
      std::string text = log();
      if (bind_failed) *bind_failed = text.find("address already in use") != std::string::npos;
      *error = "etcd " + name_ + " (" + endpoint() + ") exited before it answered; its log ends: " +
               text.substr(text.size() > 1500 ? text.size() - 1500 : 0);
      return false;
    }
    auto answer = client.request("GET", "/health");
    if (answer && answer->status == 200 && answer->body.find("\"true\"") != std::string::npos) return true;
    last = answer ? "HTTP " + std::to_string(answer->status) + " " + answer->body : answer.error().message;
    if (std::chrono::steady_clock::now() >= deadline) {
      *error = "etcd " + name_ + " (" + endpoint() + ") not healthy in time; last answer: " + last;
      return false;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(100));
  }
}

void EtcdMember::stop() {
  if (!process_) return;
  if (process_->running()) {
    process_->kill(SIGCONT);  // a paused etcd cannot act on SIGTERM
    process_->kill(SIGTERM);
    if (!process_->wait(options_.stop_grace)) {
      process_->kill(SIGKILL);
      process_->wait(std::chrono::milliseconds(10'000));
    }
  }
  process_.reset();
}

bool EtcdMember::kill() {
  if (!process_ || !process_->kill(SIGKILL)) return false;
  process_->wait(std::chrono::milliseconds(10'000));
  return true;
}

namespace {

// Whether every thread of `pid` is stopped ('T' in /proc/<pid>/task/*/stat).
bool all_threads_stopped(pid_t pid) {
  std::error_code ec;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
    const std::string stat = read_file((task.path() / "stat").string());
    const size_t paren = stat.rfind(')');  // the name may hold spaces and parentheses
    if (paren == std::string::npos || paren + 2 >= stat.size()) return false;
    const char state = stat[paren + 2];
    if (state != 'T' && state != 't') return false;
  }
  return !ec;
}

}  // namespace

// SIGSTOP is delivered to each thread when it next runs: until then a
// request sent "after the pause" may still be answered. Returns once every
// thread is stopped (or after 2 s, false).
bool EtcdMember::pause() {
  if (!process_ || !process_->kill(SIGSTOP)) return false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!all_threads_stopped(process_->pid())) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}
bool EtcdMember::resume() { return process_ && process_->kill(SIGCONT); }

std::string EtcdMember::log() const { return log_path_.empty() ? "" : read_file(log_path_); }

// ---- EtcdProcess ------------------------------------------------------------------

EtcdProcess::EtcdProcess(EtcdProcessOptions options)
    : options_(std::move(options)), member_("t", dir_.path().string(), options_) {}

bool EtcdProcess::start(std::string* error) {
  auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  for (int attempt = 0; attempt < std::max(1, options_.bind_attempts); ++attempt) {
    if (!member_.pick_ports(error)) return false;
    if (!member_.launch(member_.name() + "=" + member_.peer_url(), error)) return false;
    bool bind_failed = false;
    if (member_.wait_ready(deadline, error, &bind_failed)) return true;
    member_.stop();
    if (!bind_failed) return false;
  }
  return false;
}

// ---- EtcdCluster ------------------------------------------------------------------

EtcdCluster::EtcdCluster(int size, EtcdProcessOptions options) : options_(std::move(options)) {
  for (int i = 0; i < size; ++i)
    members_.push_back(std::make_unique<EtcdMember>("m" + std::to_string(i), dir_.path().string(), options_));
}

std::string EtcdCluster::initial_cluster() const {
  std::string out;
  for (const auto& m : members_) out += (out.empty() ? "" : ",") + m->name() + "=" + m->peer_url();
  return out;
}

std::vector<std::string> EtcdCluster::endpoints() const {
  std::vector<std::string> out;
  for (const auto& m : members_) out.push_back(m->endpoint());
  return out;
}

bool EtcdCluster::start(std::string* error) {
  auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  for (int attempt = 0; attempt < std::max(1, options_.bind_attempts); ++attempt) {
    for (auto& m : members_)
      if (!m->pick_ports(error)) return false;
    std::string cluster = initial_cluster();
    for (auto& m : members_)
      if (!m->launch(cluster, error)) return false;
    bool any_bind_failed = false;
    bool all_ready = true;
    for (auto& m : members_) {
      bool bind_failed = false;
      if (!m->wait_ready(deadline, error, &bind_failed)) {
        all_ready = false;
        any_bind_failed = any_bind_failed || bind_failed;
        break;
      }
    }
    if (all_ready) return true;
    for (auto& m : members_) m->stop();
    if (!any_bind_failed) return false;
  }
  return false;
}

std::vector<std::string> EtcdCluster::endpoints_from(int first) const {
  std::vector<std::string> all = endpoints();
  std::vector<std::string> out;
  for (size_t i = 0; i < all.size(); ++i)
    out.push_back(all[(static_cast<size_t>(first) + i) % all.size()]);
  return out;
}

int EtcdCluster::follower(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::vector<std::string> all = endpoints();
  do {
    for (size_t i = 0; i < all.size(); ++i) {
      auto s = etcd::EtcdClient({{all[i]}}).status();
      if (s.ok() && s->leader != 0 && s->member_id != s->leader) return static_cast<int>(i);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (std::chrono::steady_clock::now() < deadline);
  return -1;
}

}  // namespace corral::testing
