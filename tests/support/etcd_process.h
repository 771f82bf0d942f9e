// Real etcd servers for tests (the etcd-server package's /usr/bin/etcd):
// EtcdProcess, one single-member cluster; EtcdCluster, several members of one
// cluster. Every member listens on 127.0.0.1 only, on client and peer ports
// found free just before the start (bind port 0, read it, close); when etcd
// then cannot bind one of them (another test took it), it starts again on new
// ports, in a fresh data directory. Data directories live in a TempDir. The
// destructors stop every member (SIGTERM, then SIGKILL) and reap it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace corral::testing {

struct EtcdProcessOptions {
  std::string binary = "/usr/bin/etcd";
  // Until the member answers GET /health with {"health":"true"}; etcd 3.4
  // starts in well under a second on loopback.
  std::chrono::milliseconds start_timeout{20'000};
  // After SIGTERM, this long before SIGKILL.
  std::chrono::milliseconds stop_grace{3'000};
  // New ports and a fresh data directory this many times when etcd cannot bind.
  int bind_attempts = 5;
  // Added to every member's command line, e.g.
  // "--experimental-watch-progress-notify-interval=200ms".
  std::vector<std::string> extra_args;
};

// A port on 127.0.0.1 that was free a moment ago (bound with port 0, read,
// closed): for a member, or for an endpoint where nothing listens. 0 on error.
int free_loopback_port(std::string* error);

// One member's process. EtcdProcess and EtcdCluster own these.
class EtcdMember {
 public:
  EtcdMember(std::string name, std::string dir, const EtcdProcessOptions& options);
  ~EtcdMember();
  EtcdMember(const EtcdMember&) = delete;
  EtcdMember& operator=(const EtcdMember&) = delete;

  const std::string& name() const { return name_; }
  int client_port() const { return client_port_; }
  int peer_port() const { return peer_port_; }
  std::string endpoint() const;  // "http://127.0.0.1:<client port>"
  std::string peer_url() const;  // "http://127.0.0.1:<peer port>"
  bool running();

  // Picks new free ports (before launch, and again after a bind failure).
  bool pick_ports(std::string* error);
  // Starts etcd with `initial_cluster` ("a=http://127.0.0.1:1,b=..."), in a
  // data directory new to this attempt; does not wait.
  bool launch(const std::string& initial_cluster, std::string* error);
  // Starts it again on the same ports and data directory (after stop or kill).
  bool restart(std::string* error);
  // Waits until GET /health answers {"health":"true"} (a leader is known), or
  // the process exits, or `deadline`. *bind_failed: it exited unable to bind.
  bool wait_ready(std::chrono::steady_clock::time_point deadline, std::string* error,
                  bool* bind_failed = nullptr);

  void stop();          // SIGTERM, SIGKILL after stop_grace; reaped
  bool kill();          // SIGKILL, reaped
  bool pause();         // SIGSTOP: the sockets stay open, nothing answers
  bool resume();        // SIGCONT
  std::string log() const;  // what etcd wrote to stderr in this attempt

 private:
  const std::string name_;
  const std::string dir_;
  const EtcdProcessOptions options_;
  int client_port_ = 0;
  int peer_port_ = 0;
  int attempt_ = 0;
  std::string data_dir_;
  std::string log_path_;
  std::string initial_cluster_;
  std::unique_ptr<Process> process_;
};

// A single-member etcd for one test or one suite.
class EtcdProcess {
 public:
  explicit EtcdProcess(EtcdProcessOptions options = {});
  // Starts etcd and waits until it answers; false (and why in *error) when
  // it did not within start_timeout.
  bool start(std::string* error);
  std::string endpoint() const { return member_.endpoint(); }
  EtcdMember& member() { return member_; }
  void stop() { member_.stop(); }
  bool kill() { return member_.kill(); }
  bool pause() { return member_.pause(); }
  bool resume() { return member_.resume(); }

 private:
  EtcdProcessOptions options_;
  TempDir dir_;
  EtcdMember member_;
};

// A cluster of `size` members (3 by default) started together with one
// --initial-cluster. Members are stopped, killed, paused and restarted one by
// one through member(i), to test failover and a lost quorum.
class EtcdCluster {
 public:
  explicit EtcdCluster(int size = 3, EtcdProcessOptions options = {});
  // Starts every member and waits until each answers /health (a leader is
  // elected); on a bind failure the whole cluster starts again on new ports.
  bool start(std::string* error);
  int size() const { return static_cast<int>(members_.size()); }
  EtcdMember& member(int i) { return *members_[static_cast<size_t>(i)]; }
  std::vector<std::string> endpoints() const;
  // Every member's endpoint, member `first`'s first (a client then starts on it).
  std::vector<std::string> endpoints_from(int first) const;
  // A member that is not raft's leader — one to lose without an election,
  // during which etcd drops writes — or -1 when no member named a leader
  // within `timeout`.
  int follower(std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000));

 private:
  std::string initial_cluster() const;

  EtcdProcessOptions options_;
  TempDir dir_;
  std::vector<std::unique_ptr<EtcdMember>> members_;
};

}  // namespace corral::testing
