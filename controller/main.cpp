// corral-controller: the HTTP API over the embedded SQLite store, or over
// etcd shared with other controllers.
//
//   corral-controller --listen 127.0.0.1:7443 --data-dir /var/lib/corral
//   corral-controller --listen 127.0.0.1:7443 --store etcd
//       --etcd-endpoints http://127.0.0.1:2379[,...] [--etcd-prefix /corral]
//       [--tokens FILE] [--tls-cert F --tls-key F] [--log-level info] [--ready-file F]
//       [--node-monitor-period 250ms] [--fence-stop-timeout 10s] [--writer-threads 128]
//       [--heartbeat-listen HOST:PORT|off] [--request-head-timeout 10s]
//       [--max-connections 10000] [--max-connections-per-address 256]
//       [--max-heartbeat-connections 20000]
//       [--max-watches 1024] [--max-watches-per-identity 128]
//       [--trust-node-addresses]
//
// SIGHUP reloads the --tokens file (a token revoked there is refused from
// then on); a file that does not load leaves the previous tokens in force.
// Exit codes: 0 after a graceful stop (SIGTERM, SIGINT); 1 for a bad flag or
// anything that prevents serving (unusable data dir, port in use, bad TLS,
// a store file that cannot be opened or written); 74 (EX_IOERR) when a store
// commit failed while serving (full disk, failed fsync): the log says why, and
// a restart recovers what is on disk (controller/store/fatal_commit.h).
#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "api/json.h"
#include "base/clock.h"
#include "base/duration.h"
#include "base/log.h"
#include "base/private_file.h"
#include "base/stop_signals.h"
#include "base/ready_file.h"
#include "controller/heartbeat/ha_admission.h"
#include "controller/heartbeat/heartbeat_service.h"
#include "controller/heartbeat/lease_table.h"
#include "controller/loops/agent_notifier.h"
#include "controller/loops/controller_manager.h"
#include "client/agent_auth.h"
#include "controller/loops/agent_log_reader.h"
#include "controller/loops/agent_signer.h"
#include "controller/loops/http_peer_prober.h"
#include "controller/server/server.h"
#include "api/heartbeat.h"
#include "base/metrics.h"
#include "controller/loops/leader_loops.h"
#include "controller/loops/leader_role.h"
#include "controller/store/etcd/etcd_client.h"
#include "controller/store/etcd_store.h"
#include "controller/store/fatal_commit.h"
#include "controller/store/store.h"

namespace {

using corral::Error;
using corral::ErrorCode;
using corral::Result;

struct Flags {
  std::string listen = "127.0.0.1:7443";
  std::string store = "sqlite";
  std::string etcd_endpoints;
  std::string etcd_prefix = "/corral";
  std::string name;  // this controller's name among several; default: HOST:PORT of --listen
  std::string etcd_compaction_interval = "5m";
  std::string data_dir;
  std::string tokens;
  std::string tls_cert;
  std::string ui_dir;
  std::string tls_key;
  std::string log_level = "info";
  std::string ready_file;
  std::string node_monitor_period = "250ms";
  std::string fence_stop_timeout = "10s";
  std::string event_ttl = "1h";  // as kube-apiserver's --event-ttl
  int writer_threads = 128;
  bool no_loops = false;
  std::string heartbeat_listen;  // "": the API's host, any free port; "off": none
  // Both listeners (server/http_core.h): slowloris and connection floods.
  std::string request_head_timeout = "10s";
  int max_connections = 10000;
  int max_connections_per_address = 256;
  int max_heartbeat_connections = 20000;
  int max_watches = 1024;
  int max_watches_per_identity = 128;
  bool trust_node_addresses = false;
};

// A duration flag ("250ms", "10s"). A bare number is how these flags were
// spelled before they took durations (milliseconds): still accepted, with a
// warning, so that existing unit files keep working.
Result<std::chrono::milliseconds> duration_flag(const std::string& flag, const std::string& text,
                                                std::chrono::milliseconds min,
                                                std::chrono::milliseconds max,
                                                std::vector<std::string>& warnings) {
  std::string spelled = text;
  if (!text.empty() && text.size() < 10 &&
      text.find_first_not_of("0123456789") == std::string::npos) {
    spelled = text + "ms";
    warnings.push_back(flag + " " + text + ": a number without a unit is read as milliseconds; " +
                       "write " + spelled + " (durations: 500ms, 10s, 2m)");
  }
  return corral::parse_duration_flag(flag, spelled, min, max);
}

// "HOST:PORT", "[::1]:PORT" or ":PORT" (all addresses).
Result<std::pair<std::string, int>> parse_listen(const std::string& flag, const std::string& text) {
  auto bad = [&](const std::string& why) {
    return corral::make_error(ErrorCode::kBadRequest, flag + " " + text + ": " + why);
  };
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return bad("expected HOST:PORT");
  std::string host = text.substr(0, colon);
  std::string port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos)
    return bad("the port must be a number from 0 to 65535");
  int port = std::stoi(port_text);
  if (port > 65535) return bad("the port must be a number from 0 to 65535");
  return std::make_pair(host, port);
}


int fail(const std::string& message) {
  std::cerr << "corral-controller: " << message << "\n";
  return 1;
}

// "http://a:2379,http://b:2379" → each endpoint; an empty item or one that is
// not http(s)://HOST:PORT is refused by name.
Result<std::vector<std::string>> parse_endpoints(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos
                                                                      : comma - start);
    if (item.rfind("http://", 0) != 0 && item.rfind("https://", 0) != 0) {
      return corral::make_error(ErrorCode::kBadRequest,
                                "--etcd-endpoints: \"" + item +
                                    "\" is not an endpoint (expected http://HOST:PORT, "
                                    "several separated by commas)");
    }
    out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// etcd's latency and errors per operation, for /metrics. The store's client
// exists before the server (and its registry) does: the families are set
// once it does, and calls before then are not counted.
struct EtcdMetrics {
  std::atomic<corral::metrics::HistogramFamily*> seconds{nullptr};
  std::atomic<corral::metrics::CounterFamily*> errors{nullptr};

  void register_in(corral::metrics::Registry& registry) {
    seconds = &registry.histogram("corral_etcd_request_seconds",
                                  "etcd calls of this controller, by operation (failover included).",
                                  {"operation"});
    errors = &registry.counter("corral_etcd_errors_total",
                               "etcd calls that failed, by operation.", {"operation"});
  }
  auto observer() {
    return [this](const char* operation, std::chrono::nanoseconds took, const Error* error) {
      if (auto* h = seconds.load()) h->with({operation}).observe(std::chrono::duration<double>(took).count());
      if (error)
        if (auto* c = errors.load()) c->with({operation}).inc();
    };
  }
};

// The agents' endpoint master key, shared by every controller of an etcd
// store (an agent must verify what any leader signs): read from `key`, or
// created there by whichever controller comes first (create-if-absent, so
// two starting together agree).
Result<std::string> load_or_create_shared_master_key(corral::etcd::EtcdClient& etcd,
                                                     const std::string& key) {
  auto fresh = corral::random_key_hex();
  if (!fresh) return fresh.take_error();
  corral::etcd::TxnRequest txn;
  txn.compare.push_back(corral::etcd::Compare::absent(key));
  txn.success.push_back(corral::etcd::PutRequest{key, *fresh});
  txn.failure.push_back(corral::etcd::RangeRequest{key});
  auto done = etcd.txn(txn);
  if (!done) return done.take_error();
  if (done->succeeded) return *fresh;
  const auto& range = std::get<corral::etcd::RangeResult>(done->responses.front());
  if (range.kvs.empty() || range.kvs.front().value.size() != 64 ||
      range.kvs.front().value.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return corral::make_error(ErrorCode::kBadRequest,
                              "etcd key " + key +
                                  ": expected 64 hex digits (the agents' endpoint master key); "
                                  "delete it to have a new one made");
  }
  return range.kvs.front().value;
}

}  // namespace

namespace {

// Every agent keeps a connection to the heartbeat listener: 5,000 agents are
// 5,000 descriptors, far above the usual soft limit of 1,024. Raised to the
// hard limit, as nginx's worker_rlimit_nofile or Go's runtime do.
void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
    corral::logger("controller")->warn("cannot raise the open-file limit to {}", limit.rlim_max);
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  CLI::App app{"corral-controller: the Corral API server over the embedded SQLite store, or over an etcd cluster shared with other controllers."};
  app.add_option("--listen", f.listen,
                 "HOST:PORT to serve the API on ([::1]:PORT for IPv6); port 0 picks a free "
                 "port (see --ready-file). Without --tokens only loopback is allowed")
      ->capture_default_str();
  app.add_option("--store", f.store,
                 "sqlite: the embedded store in --data-dir (one controller); etcd: an etcd "
                 "cluster (--etcd-endpoints) that several controllers share")
      ->capture_default_str()
      ->check(CLI::IsMember({"sqlite", "etcd"}));
  app.add_option("--etcd-endpoints", f.etcd_endpoints,
                 "With --store etcd: the members' client URLs, comma-separated "
                 "(http://127.0.0.1:2379,http://10.0.0.2:2379)");
  app.add_option("--etcd-prefix", f.etcd_prefix,
                 "With --store etcd: every key of this cluster lives under it")
      ->capture_default_str();
  app.add_option("--etcd-compaction-interval", f.etcd_compaction_interval,
                 "With --store etcd: the leader discards etcd's history older than this, as "
                 "kube-apiserver does (a watch further behind re-lists); 1s to 24h")
      ->capture_default_str();
  app.add_option("--name", f.name,
                 "With --store etcd: this controller's name among the cluster's controllers "
                 "(shown as the leader in `corralctl version` and /readyz); default: the "
                 "--listen address");
  app.add_option("--data-dir", f.data_dir,
                 "Directory that holds the store (corral.db) and the agents' endpoint key; "
                 "created if missing. Required with --store sqlite");
  app.add_option("--tokens", f.tokens,
                 "Token file: `token,user,role` lines, roles admin | viewer | "
                 "balancer:<name>[+<name>...] | balancer (unscoped) | node:<name>; without it "
                 "authentication is off (loopback only)");
  app.add_option("--tls-cert", f.tls_cert, "PEM certificate: serve HTTPS (needs --tls-key)");
  app.add_option("--tls-key", f.tls_key, "PEM private key of --tls-cert");
  app.add_option("--ui-dir", f.ui_dir,
                 "serve the dashboard (/ui/) from this directory (an installed copy of ui/, "
                 "e.g. /usr/share/corral/ui); default: the copy built into this binary")
      ->check(CLI::ExistingDirectory);
  app.add_option("--log-level", f.log_level, "trace | debug | info | warn | error | off")
      ->capture_default_str();
  app.add_option("--ready-file", f.ready_file,
                 "Once listening, write the base URL (http://HOST:PORT) to this file, "
                 "atomically");
  app.add_option("--node-monitor-period", f.node_monitor_period,
                 "Time between node lifecycle passes, 10ms to 1s (keep well under the 2 s grace)")
      ->capture_default_str();
  app.add_option("--fence-stop-timeout", f.fence_stop_timeout,
                 "How long an agent may take to stop a VM (its --stop-grace), 0s to 10m; a "
                 "NotReady node's selfFence VMs are re-placed (and a new agent may take the node "
                 "over) after grace + this + 2 s")
      ->capture_default_str();
  app.add_option("--event-ttl", f.event_ttl,
                 "How long an Event is kept after it last happened, 1s to 720h; older Events "
                 "are deleted (swept every minute)")
      ->capture_default_str();
  app.add_option("--writer-threads", f.writer_threads,
                 "Threads that write one control-loop pass concurrently (group commit)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--heartbeat-listen", f.heartbeat_listen,
                 "HOST:PORT of the event-driven heartbeat listener, where agents keep one "
                 "connection each (heartbeat answers name it); default: the API's host, any "
                 "free port; `off`: agents beat on the API port, one connection per beat");
  app.add_option("--request-head-timeout", f.request_head_timeout,
                 "A request's whole head must arrive within this (408, then closed), on both "
                 "listeners: a client trickling its headers holds nothing longer")
      ->capture_default_str();
  app.add_option("--max-connections", f.max_connections,
                 "Connections the API listener holds at once; more are closed at once "
                 "(corral_api_refused_total{reason=\"max_connections\"}); 0: no cap")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  app.add_option("--max-heartbeat-connections", f.max_heartbeat_connections,
                 "Connections the heartbeat listener holds at once: one per host, plus room for "
                 "agents reconnecting before their old connection is noticed gone; 0: no cap")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  app.add_option("--max-connections-per-address", f.max_connections_per_address,
                 "Connections one client address may hold on each listener; more are closed at "
                 "once; 0: no cap (benchmarks that run every agent from one address)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  app.add_option("--max-watches", f.max_watches,
                 "Watches open at once on the API, all clients together; more get 429 with "
                 "Retry-After. A watch holds a connection and a buffer of events, no thread")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app.add_option("--max-watches-per-identity", f.max_watches_per_identity,
                 "Watches one identity (a token's user) may hold open at once; more get 429")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app.add_flag("--trust-node-addresses", f.trust_node_addresses,
               "Keep the agent address a heartbeat reports even when its host is not the "
               "heartbeat's source address (agents behind NAT); without it such a heartbeat "
               "gets 403, since the controller calls that address and has peers probe it");
  app.set_version_flag("--version", std::string("corral-controller ") + CORRAL_VERSION);
  app.add_flag("--no-loops", f.no_loops,
               "Serve the API only: run no control loop (nothing is scheduled, judged or "
               "reconciled; heartbeats are still taken — with --store etcd it never leads, and "
               "answers heartbeats \"not the leader\"). For maintenance and API tests");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help or the error
    return code == 0 ? 0 : 1;
  }

  if (!corral::set_log_level(f.log_level)) return fail("unknown --log-level " + f.log_level);
  std::vector<std::string> warnings;
  auto node_monitor_period =
      duration_flag("--node-monitor-period", f.node_monitor_period, std::chrono::milliseconds(10),
                    std::chrono::seconds(1), warnings);
  if (!node_monitor_period) return fail(node_monitor_period.error().message);
  auto fence_stop_timeout =
      duration_flag("--fence-stop-timeout", f.fence_stop_timeout, std::chrono::milliseconds(0),
                    std::chrono::minutes(10), warnings);
  if (!fence_stop_timeout) return fail(fence_stop_timeout.error().message);
  auto event_ttl = corral::parse_duration_flag("--event-ttl", f.event_ttl, std::chrono::seconds(1),
                                               std::chrono::hours(720));
  if (!event_ttl) return fail(event_ttl.error().message);
  auto head_timeout = corral::parse_duration_flag("--request-head-timeout", f.request_head_timeout,
                                                  std::chrono::milliseconds(100),
                                                  std::chrono::minutes(10));
  if (!head_timeout) return fail(head_timeout.error().message);
  auto compaction_interval = corral::parse_duration_flag(
      "--etcd-compaction-interval", f.etcd_compaction_interval, std::chrono::seconds(1),
      std::chrono::hours(24));
  if (!compaction_interval) return fail(compaction_interval.error().message);
  raise_open_file_limit();
  auto listen = parse_listen("--listen", f.listen);
  if (!listen) return fail(listen.error().message);
  std::pair<std::string, int> heartbeat_listen{listen->first, 0};
  if (f.heartbeat_listen == "off") {
    heartbeat_listen.second = -1;
  } else if (!f.heartbeat_listen.empty()) {
    auto parsed = parse_listen("--heartbeat-listen", f.heartbeat_listen);
    if (!parsed) return fail(parsed.error().message);
    heartbeat_listen = *parsed;
  }

  if (f.store == "sqlite" && f.data_dir.empty()) return fail("--data-dir is required with --store sqlite");
  if (f.store == "etcd" && f.etcd_endpoints.empty())
    return fail("--etcd-endpoints is required with --store etcd");
  if (f.store == "etcd" && (f.etcd_prefix.empty() || f.etcd_prefix.front() != '/' ||
                            f.etcd_prefix.back() == '/'))
    return fail("--etcd-prefix " + f.etcd_prefix + ": must start with / and not end with /");

  // What the controller creates (the data directory, the database and its
  // WAL) is its own: others may not read the cluster's state.
  ::umask(0077);
  std::string db_path;
  if (!f.data_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(f.data_dir, ec);
    if (ec || !std::filesystem::is_directory(f.data_dir))
      return fail("cannot use --data-dir " + f.data_dir + ": " +
                  (ec ? ec.message() : std::string("not a directory")));
    if (auto ok = corral::require_private(f.data_dir, "--data-dir"); !ok)
      return fail(ok.error().message);
    db_path = (std::filesystem::path(f.data_dir) / "corral.db").string();
  }

  corral::StopSignals stop_signals;  // before any thread starts

  auto log = corral::logger("controller");
  for (const std::string& w : warnings) log->warn("{}", w);
  const corral::Clock& clock = corral::RealClock::instance();
  corral::store::StoreOptions store_options;
  EtcdMetrics etcd_metrics;  // registered once the server (its registry) exists
  std::unique_ptr<corral::store::Store> store;
  corral::store::EtcdStore* etcd_store = nullptr;  // with --store etcd: `store`
  if (f.store == "etcd") {
    auto endpoints = parse_endpoints(f.etcd_endpoints);
    if (!endpoints) return fail(endpoints.error().message);
    corral::store::EtcdStoreOptions etcd_options;
    etcd_options.endpoints = *endpoints;
    etcd_options.prefix = f.etcd_prefix;
    etcd_options.observer = etcd_metrics.observer();
    auto opened = corral::store::open_etcd_store(etcd_options, clock, store_options);
    if (!opened) return fail("--store etcd: " + opened.error().message);
    etcd_store = opened->get();
    store = std::move(*opened);
    log->info("store: etcd {} under {}", f.etcd_endpoints, f.etcd_prefix);
  } else {
    store_options.on_commit_failure = corral::store::exit_on_commit_failure(db_path);
    auto opened = corral::store::open_sqlite_store(db_path, clock, store_options);
    if (!opened) return fail(opened.error().message);
    store = std::move(*opened);
    log->info("store: {}", db_path);
  }

  corral::server::ServerOptions options;
  options.host = listen->first;
  options.port = listen->second;
  options.heartbeat_host = heartbeat_listen.first;
  options.heartbeat_port = heartbeat_listen.second;
  options.tokens_file = f.tokens;
  options.tls_cert_file = f.tls_cert;
  options.ui_dir = f.ui_dir;
  options.tls_key_file = f.tls_key;
  options.request_head_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(*head_timeout);
  options.max_connections = static_cast<size_t>(f.max_connections);
  options.max_connections_per_address = static_cast<size_t>(f.max_connections_per_address);
  options.max_heartbeat_connections = static_cast<size_t>(f.max_heartbeat_connections);
  options.max_watches = static_cast<size_t>(f.max_watches);
  options.max_watches_per_identity = static_cast<size_t>(f.max_watches_per_identity);
  options.trust_node_addresses = f.trust_node_addresses;
  // Heartbeats renew leases in `leases` (memory); the node lifecycle loop
  // judges nodes from the same table. VMSet writes pass HA admission control.
  // Declared before the server, so they outlive its threads.
  corral::heartbeat::LeaseTable leases;
  // Seeded once per start: replacement names, new replicas' names and Event
  // names must differ from a previous run's (its objects may still exist).
  std::mt19937_64 seeds(std::random_device{}());
  // The agents' endpoint keys derive from one master key kept with the data
  // (client/agent_auth.h): the same across restarts, so agents keep theirs.
  auto agent_master_key =
      etcd_store ? load_or_create_shared_master_key(etcd_store->client(),
                                                    f.etcd_prefix + "/secrets/agent-endpoint-key")
                 : corral::load_or_create_master_key(
                       (std::filesystem::path(f.data_dir) / "agent-endpoint.key").string());
  if (!agent_master_key) return fail(agent_master_key.error().message);
  const corral::loops::AgentSigner agent_signer(*agent_master_key, clock);
  corral::heartbeat::HeartbeatOptions heartbeat_options;
  // Each node's last 15 minutes of CPU and memory, for the dashboard.
  corral::heartbeat::UsageHistory usage_history;
  heartbeat_options.usage_history = &usage_history;
  heartbeat_options.endpoint_key = [key = *agent_master_key](const std::string& node) {
    return corral::derive_agent_key(key, node);
  };
  heartbeat_options.events.seed = seeds();
  // One fence wait for both paths that hand a node's selfFence VMs on: the
  // node lifecycle re-placing them, a new agent taking the node over.
  corral::reconcile::FenceOptions fence;
  fence.stop_timeout = *fence_stop_timeout;
  heartbeat_options.fence_wait = fence.total();
  // Several controllers (etcd): the loops and the heartbeat service write
  // only while this controller leads, fenced in each write's transaction
  // (etcd_store.h); the API writes unfenced, on any controller.
  std::unique_ptr<corral::loops::LeaderRole> role;
  std::unique_ptr<corral::store::Store> fenced_store;
  if (etcd_store) {
    corral::loops::LeaderRoleOptions role_options;
    role_options.key = f.etcd_prefix + "/leader";
    role_options.campaign = !f.no_loops;
    role_options.maintenance.compaction_interval =
        std::chrono::duration_cast<std::chrono::milliseconds>(*compaction_interval);
    role_options.observer = etcd_metrics.observer();
    role = std::make_unique<corral::loops::LeaderRole>(*etcd_store, role_options);
    fenced_store = etcd_store->fenced(role->fence_source());
  }
  corral::store::Store& loop_store = fenced_store ? *fenced_store : *store;
  corral::heartbeat::HeartbeatService heartbeats(loop_store, leases, clock, heartbeat_options);
  // `corralctl logs` asks the API (GET vms/<name>/log), which reads the log
  // from the VM's agent with the node's key, as the notifier and prober call.
  corral::loops::HttpAgentLogReader agent_logs(&agent_signer);
  corral::server::Server server(*store, clock, options);
  server.set_agent_log_reader(&agent_logs);
  if (etcd_store) etcd_metrics.register_in(server.metrics());
  server.set_heartbeat_handler([&heartbeats, &role](const std::string& node, const corral::Json& body,
                                                     std::chrono::steady_clock::time_point received)
                                                        -> Result<std::string> {
    // Several controllers: only the leader judges heartbeats; the others name it.
    if (role) {
      if (auto leads = role->gate_heartbeat(); !leads) return leads.take_error();
    }
    return heartbeats.handle_text(node, body, received);
  });
  if (role) server.set_control_plane_info([&role] { return role->info(); });
  server.set_usage_history([&usage_history, &clock] { return usage_history.snapshot(clock.now()); });
  server.set_admission([&s = *store](const corral::KindInfo& kind, const corral::Json& object,
                                      const corral::store::RecordPtr& old) {
    return corral::heartbeat::admit_vmset(s, kind, object, old);
  });

  auto port = server.start();
  if (!port) return fail(port.error().message);
  log->info("listening on {}", server.base_url());

  // The control loops, after the server is up (agents can heartbeat at once)
  // and stopped before the store closes. The prober and the notifier outlive the
  // manager.
  corral::loops::HttpPeerProber prober(4, &agent_signer);
  corral::loops::ControllerManagerOptions loop_options;
  loop_options.node_monitor_period = *node_monitor_period;
  loop_options.writer_threads = static_cast<size_t>(f.writer_threads);
  loop_options.node_lifecycle.decide.fence = fence;
  loop_options.metrics = &server.metrics();
  loop_options.vmset.seed = seeds();
  loop_options.moves.seed = seeds();
  loop_options.events.seed = seeds();
  // The loops' Events are written off their passes (see EventRecorder): up to
  // 100,000 waiting (~30 MB), one writer on SQLite (500 to a commit).
  loop_options.events.async_queue = 100'000;
  loop_options.event_ttl.ttl = std::chrono::ceil<std::chrono::seconds>(*event_ttl);
  if (etcd_store) {
    // On etcd a write_batch is one transaction per entry, in order: the
    // scheduler's bindings and the Events go one per call instead, spread
    // over the writer threads (scheduler_bench --etcd 1, 2,000 VMs: 575 instead of
    // 307 placements/s; then etcd itself is the bound, two transactions a placement).
    loop_options.scheduler.write_batch = 1;
    loop_options.events.create_chunk = 1;
    loop_options.events.async_writers = 16;  // one transaction per Event: 16 in flight
    loop_options.vmset.writes.store_batch = 1;  // the VMSet loop's creates likewise
  }
  corral::loops::HttpAgentNotifier notifier(&agent_signer);  // outlives the manager's passes
  // One controller: the loops run from the start. Several (etcd): only while
  // this one leads, each term with a fresh manager (leader_loops.h).
  std::unique_ptr<corral::loops::ControllerManager> loops;
  std::unique_ptr<corral::loops::LeaderLoops> leader_loops;
  if (f.no_loops) {
    log->warn("--no-loops: control loops are off; nothing will be scheduled or failed over");
  } else if (!etcd_store) {
    loops = std::make_unique<corral::loops::ControllerManager>(*store, clock, leases, prober,
                                                               loop_options);
    loops->scheduler().set_notifier(&notifier);
    if (auto started = loops->start(); !started) {
      server.stop();
      return fail("control loops: " + started.error().message);
    }
  } else {
    leader_loops = std::make_unique<corral::loops::LeaderLoops>([&]() {
      // New seeds each term: a name drawn in an earlier term may still exist.
      corral::loops::ControllerManagerOptions term = loop_options;
      term.vmset.seed = seeds();
      term.moves.seed = seeds();
      term.events.seed = seeds();
      auto manager = std::make_unique<corral::loops::ControllerManager>(loop_store, clock, leases,
                                                                        prober, term);
      manager->scheduler().set_notifier(&notifier);
      return manager;
    });
  }
  if (role) {
    // This controller's name: --name, or the address it serves on.
    std::string name = f.name.empty() ? server.base_url().substr(server.base_url().find("//") + 2)
                                      : f.name;
    role->start(name, server.base_url(), leader_loops.get(), server.metrics());
  }
  // In this order: hand over first (a follower leads at its next poll, not
  // after the TTL, and no leadership change reaches the loops any more),
  // then the loops, then the server.
  auto shut_down = [&] {
    if (role) role->stop();
    if (leader_loops) leader_loops->stop();
    if (loops) loops->stop();
    server.stop();
  };
  if (!f.ready_file.empty()) {
    if (auto w = corral::write_file_atomically(f.ready_file, server.base_url() + "\n"); !w) {
      shut_down();
      return fail(w.error().message);
    }
  }

  log->info("{} received: stopping", stop_signals.wait([&server, &log, &f] {
    if (f.tokens.empty()) {
      log->warn("SIGHUP: nothing to reload (no --tokens: authentication is off)");
      return;
    }
    auto reloaded = server.reload_tokens();
    if (reloaded) {
      log->info("SIGHUP: {} token(s) reloaded from {}", *reloaded, f.tokens);
    } else {
      log->error("SIGHUP: tokens not reloaded, the previous ones stay in force: {}",
                 reloaded.error().message);
    }
  }));
  shut_down();
  log->info("stopped");
  return 0;
}
