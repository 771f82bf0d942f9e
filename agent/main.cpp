// corral-agent: runs the VMs the controller binds to this node.
//
//   corral-agent --server URL --node NAME --driver process|sim|... --data-dir DIR
//       [--token-file F] [--ca FILE] [--labels k=v,...] [--zone Z] [--heartbeat-interval 1s]
//       [--listen 127.0.0.1:0] [--cpu 4] [--memory 8Gi] [--reserved-cpu 500m]
//       [--reserved-memory 1Gi] [--proc-root /] [--log-level info] [--ready-file F]
//       [--stop-grace 10s] [--advertise-address HOST:PORT] [--restart-window 5m]
//
// SIGTERM / SIGINT stop the loop and exit 0, LEAVING THE VMs RUNNING: they are
// in their own process groups, the drivers' destructors do not stop them, and
// the state file lets the next agent adopt them. The last beat tells the
// controller so (--restart-window): the node keeps its VMs that long while no
// agent beats, so an upgrade never runs them twice.
// Exit codes: 0 after a graceful stop; 1 for a bad flag or anything that
// prevents running (unusable data dir, unknown driver, port in use).
#include <pthread.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <thread>

#include "agent/control_plane.h"
#include "agent/drivers/driver.h"
#include "agent/fence/guard_file.h"
#include "agent/fence/watchdog.h"
#include "agent/flags.h"
#include "agent/local_endpoint.h"
#include "agent/loop_health.h"
#include "agent/sync_loop.h"
#include "agent/watched_control_plane.h"
#include "base/private_file.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/stop_signals.h"
#include "base/ready_file.h"
#include "base/metrics.h"
#include "api/node_labels.h"
#include "api/validate.h"

namespace {

using corral::ErrorCode;
using corral::Result;

struct Flags {
  std::string server, node, driver, data_dir, token, token_file, ca, labels, zone;
  std::string heartbeat_interval = "1s";
  std::string listen = "127.0.0.1:0";
  std::string cpu, memory, reserved_cpu, reserved_memory;
  std::string proc_root = "/";
  std::string log_level = "info";
  std::string ready_file;
  std::string stop_grace = "10s";
  std::string restart_window = "5m";
  std::string advertise_address;
  std::string qemu_accel = "auto";
  std::string qemu_probe_kernel;
};

int fail(const std::string& message) {
  std::cerr << "corral-agent: " << message << "\n";
  return 1;
}

// 127.0.0.0/8, ::1, localhost: where an unauthenticated endpoint may listen.
bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  return host.rfind("127.", 0) == 0 && host.find_first_not_of("0123456789.") == std::string::npos;
}


void add_flags(CLI::App& app, Flags& f) {
  app.add_option("--server", f.server, "Controller base URL, or several comma-separated (one cluster's controllers: a beat that cannot reach one goes to the next), e.g. https://c1:7443,https://c2:7443")->required();
  app.add_option("--node", f.node, "This node's name (DNS-1123)")->required();
  app.add_option("--driver", f.driver, "process | sim | libvirt | qemu: how VMs run here")->required();
  app.add_option("--data-dir", f.data_dir,
                 "Directory for the state file and VM logs (logs/<vm>.log); created if missing")
      ->required();
  app.add_option("--token-file", f.token_file,
                 "File holding the bearer token (role node:<name>), mode 600; default: "
                 "$CORRAL_TOKEN");
  // Refused with a pointer to --token-file: argv is readable by every user.
  app.add_option("--token", f.token)->group("");
  app.add_option("--ca", f.ca, "PEM bundle that verifies the controller's certificate");
  app.add_option("--labels", f.labels,
                 "Node labels k=v,k2=v2, applied when the Node is created (with "
                 "corral.io/hostname=NODE, always)");
  app.add_option("--zone", f.zone,
                 "The node's zone: the label topology.corral.io/zone, for spread and "
                 "antiAffinity over zones");
  app.add_option("--heartbeat-interval", f.heartbeat_interval, "500ms, 1s, ...")
      ->capture_default_str();
  app.add_option("--listen", f.listen,
                 "HOST:PORT of the local endpoint (health, metrics, logs, probe); port 0 picks "
                 "one. Loopback unless you mean to expose it")
      ->capture_default_str();
  app.add_option("--cpu", f.cpu, "Override the measured CPU capacity (cores, e.g. 4 or 3500m)");
  app.add_option("--memory", f.memory, "Override the measured memory capacity (e.g. 8Gi)");
  app.add_option("--reserved-cpu", f.reserved_cpu, "CPU kept for the host (default 0)");
  app.add_option("--reserved-memory", f.reserved_memory, "Memory kept for the host (default 0)");
  app.add_option("--proc-root", f.proc_root, "Root of the /proc tree to measure")
      ->capture_default_str();
  app.add_option("--log-level", f.log_level, "trace | debug | info | warn | error | off")
      ->capture_default_str();
  app.add_option("--ready-file", f.ready_file,
                 "Once listening, write the local endpoint's URL (http://HOST:PORT) here, "
                 "atomically");
  app.add_option("--stop-grace", f.stop_grace,
                 "How long a VM may take to stop after SIGTERM (or ACPI shutdown) before it is "
                 "killed; bounds self-fencing, so the controller's --fence-stop-timeout must be at "
                 "least this")
      ->capture_default_str();
  app.add_option("--restart-window", f.restart_window,
                 "On SIGTERM/SIGINT, ask the controller to keep this node's VMs where they are "
                 "for up to this long while no agent reports (an upgrade); the pools' "
                 "failover.restartWindowSeconds caps it. 0: do not ask")
      ->capture_default_str();
  app.add_option("--advertise-address", f.advertise_address,
                 "HOST:PORT the controller and peers use to reach the local endpoint (the "
                 "node's address); default: the address --listen bound. For NAT or a proxy");
  app.add_option("--qemu-accel", f.qemu_accel,
                 "qemu driver: auto (KVM when /dev/kvm opens and a probe kernel boots on it, "
                 "else TCG) | kvm | tcg")
      ->capture_default_str();
  app.add_option("--qemu-probe-kernel", f.qemu_probe_kernel,
                 "qemu driver: the kernel the KVM probe boots (default: the newest "
                 "/boot/vmlinuz-*)");
}

// Everything the flags say, checked; the first problem is returned.
Result<corral::agent::SyncOptions> sync_options(const Flags& f) {
  using namespace corral::agent;  // NOLINT: flag parsers
  SyncOptions o;
  o.node = f.node;
  o.agent_version = CORRAL_VERSION;
  auto labels = parse_labels_flag("--labels", f.labels);
  if (!labels) return labels.take_error();
  o.labels = *labels;
  // The well-known labels (api/node_labels.h): the hostname always, the zone
  // when given; --labels may not contradict them.
  if (auto it = o.labels.find(corral::node_label::kHostname);
      it != o.labels.end() && it->second != f.node)
    return corral::make_error(corral::ErrorCode::kBadRequest,
                              std::string("--labels: ") + corral::node_label::kHostname +
                                  " is the node's name (\"" + f.node + "\"), set by the agent");
  if (auto why = corral::check_label_value(f.node))
    return corral::make_error(corral::ErrorCode::kBadRequest,
                              "--node \"" + f.node + "\": the name is also the node's " +
                                  corral::node_label::kHostname + " label, so " + *why);
  o.labels[corral::node_label::kHostname] = f.node;
  if (!f.zone.empty()) {
    auto zone = parse_labels_flag("--zone", std::string(corral::node_label::kZone) + "=" + f.zone);
    if (!zone) return zone.take_error();
    if (auto it = o.labels.find(corral::node_label::kZone); it != o.labels.end() && it->second != f.zone)
      return corral::make_error(corral::ErrorCode::kBadRequest,
                                std::string("--labels sets ") + corral::node_label::kZone + "=" +
                                    it->second + " but --zone says " + f.zone);
    o.labels.insert(zone->begin(), zone->end());
  }
  auto interval = corral::parse_duration_flag("--heartbeat-interval", f.heartbeat_interval,
                                              std::chrono::milliseconds(1), std::chrono::hours(1));
  if (!interval) return interval.take_error();
  o.heartbeat_interval = *interval;
  o.host.smoothing.interval = *interval;
  o.max_retry_interval = std::max(o.max_retry_interval, *interval);
  auto restart_window = corral::parse_duration_flag("--restart-window", f.restart_window,
                                                    std::chrono::milliseconds(0), std::chrono::hours(24));
  if (!restart_window) return restart_window.take_error();
  o.restart_window = *restart_window;
  struct {
    const char* flag;
    const std::string& text;
    corral::Quantity& out;
  } quantities[] = {{"--cpu", f.cpu, o.host.capacity_override.cpu},
                    {"--memory", f.memory, o.host.capacity_override.memory},
                    {"--reserved-cpu", f.reserved_cpu, o.host.reserved.cpu},
                    {"--reserved-memory", f.reserved_memory, o.host.reserved.memory}};
  for (auto& q : quantities) {
    auto parsed = parse_quantity_flag(q.flag, q.text);
    if (!parsed) return parsed.take_error();
    q.out = *parsed;
  }
  if (!f.cpu.empty() && o.host.capacity_override.cpu.milli == 0)
    return corral::make_error(ErrorCode::kBadRequest, "--cpu " + f.cpu + ": must be positive");
  if (!f.memory.empty() && o.host.capacity_override.memory.milli == 0)
    return corral::make_error(ErrorCode::kBadRequest, "--memory " + f.memory + ": must be positive");
  o.state_file = std::filesystem::path(f.data_dir) / "agent-state.json";
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  // The fence watchdog is this binary re-executed (agent/fence/watchdog.h).
  if (argc > 1 && std::string(argv[1]) == "fence-watchdog")
    return corral::agent::watchdog_main(argc, argv);
  Flags f;
  CLI::App app{"corral-agent: runs the VMs the Corral controller binds to this node."};
  add_flags(app, f);
  app.set_version_flag("--version", std::string("corral-agent ") + CORRAL_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help or the error
    return code == 0 ? 0 : 1;
  }
  if (!corral::set_log_level(f.log_level)) return fail("unknown --log-level " + f.log_level);
  if (auto why = corral::check_dns1123_subdomain(f.node)) return fail("--node " + f.node + ": " + *why);
  auto options = sync_options(f);
  if (!options) return fail(options.error().message);
  auto listen = corral::agent::parse_listen_flag("--listen", f.listen);
  if (!listen) return fail(listen.error().message);
  auto stop_grace = corral::parse_duration_flag("--stop-grace", f.stop_grace,
                                                std::chrono::milliseconds(1), std::chrono::hours(1));
  if (!stop_grace) return fail(stop_grace.error().message);
  if (!f.advertise_address.empty()) {
    auto advertised = corral::agent::parse_listen_flag("--advertise-address", f.advertise_address);
    if (!advertised) return fail(advertised.error().message);
    if (advertised->second == 0)
      return fail("--advertise-address " + f.advertise_address + ": the port must not be 0");
  }
  if (!std::filesystem::is_directory(std::filesystem::path(f.proc_root) / "proc"))
    return fail("--proc-root " + f.proc_root + ": no proc/ directory under it");

  // The logs directory is where the process driver writes; creating it is
  // also the check that the data dir is usable.
  const std::filesystem::path data_dir(f.data_dir);
  std::error_code ec;
  std::filesystem::create_directories(data_dir / "logs", ec);
  if (ec || ::access(data_dir.c_str(), W_OK) != 0)
    return fail("cannot use --data-dir " + f.data_dir + ": " +
                (ec ? ec.message() : std::string("not writable")));

  // Before any thread starts (VMs get a clean mask: spawn.cpp).
  corral::StopSignals stop_signals;

  auto log = corral::logger("agent");
  const corral::Clock& clock = corral::RealClock::instance();
  corral::agent::DriverOptions driver_options;
  driver_options.data_dir = data_dir;
  driver_options.proc_root = f.proc_root;
  driver_options.clock = &clock;
  driver_options.stop_grace = *stop_grace;
  driver_options.qemu_accel = f.qemu_accel;
  driver_options.qemu_probe_kernel = f.qemu_probe_kernel;
  // Process VMs are fenced by a watchdog outside this process too, so that a
  // dead or frozen agent still fences (agent/fence/watchdog.h). The sim
  // driver runs nothing outside the agent; libvirt domains are fenced by the
  // agent's own thread only (agent/README.md says why).
  std::unique_ptr<corral::agent::GuardFile> guard;
  const auto watchdog_paths = corral::agent::watchdog_paths(data_dir);
  // A qemu VM is a QEMU process run by the process driver: fenced the same way.
  if (f.driver == "process" || f.driver == "qemu") {
    auto opened = corral::agent::GuardFile::open(watchdog_paths.guard, *stop_grace);
    if (!opened) return fail(opened.error().message);
    guard = std::move(*opened);
    driver_options.guard = guard.get();
  }
  auto driver = corral::agent::make_driver(f.driver, driver_options);
  if (!driver) return fail("--driver: " + driver.error().message);

  auto token = corral::client_token(f.token_file, f.token);
  if (!token) return fail(token.error().message);
  // With a node token the endpoint takes only the controller's signed calls;
  // without one (the loopback quick start, a controller without --tokens) it
  // is open, and then only on loopback, as the controller's API is.
  corral::agent::EndpointGuardOptions guard_options;
  guard_options.node = f.node;
  guard_options.mode = token->empty() ? corral::agent::EndpointGuardOptions::Mode::kOpen
                                      : corral::agent::EndpointGuardOptions::Mode::kSigned;
  if (guard_options.mode == corral::agent::EndpointGuardOptions::Mode::kOpen &&
      !is_loopback_host(listen->first))
    return fail("refusing to serve the local endpoint on " + f.listen +
                " without authentication: give the node's token (--token-file or "
                "$CORRAL_TOKEN), with which the controller hands this agent the key its calls "
                "are signed with, or listen on a loopback address (127.0.0.1, ::1)");
  corral::agent::EndpointGuard endpoint_guard(guard_options, clock);
  if (endpoint_guard.open())
    log->warn("local endpoint without authentication (no token): loopback only, for a local "
              "quick start");
  // Wedged: no round finished for ten intervals plus the longest a healthy
  // round takes (a heartbeat that times out twice, then a VM's stop grace).
  corral::agent::ControlPlaneOptions cp_defaults;
  corral::agent::LoopHealth health(
      clock, 10 * options->heartbeat_interval + 2 * cp_defaults.timeout + *stop_grace);

  corral::metrics::Registry registry;
  corral::agent::LocalEndpointOptions endpoint_options;
  endpoint_options.guard = &endpoint_guard;
  endpoint_options.health = &health;
  endpoint_options.clock = &clock;
  endpoint_options.host = listen->first;
  endpoint_options.port = listen->second;
  endpoint_options.log_dir = data_dir / "logs";
  // The endpoint starts before the loop exists (its address goes into every
  // heartbeat); a nudge that arrives before the loop does is simply dropped.
  std::atomic<corral::agent::SyncLoop*> sync_target{nullptr};
  endpoint_options.on_sync = [&sync_target] {
    if (auto* loop = sync_target.load()) loop->poke();
  };
  corral::agent::LocalEndpoint endpoint(endpoint_options, registry);
  if (auto started = endpoint.start(); !started) return fail(started.error().message);

  corral::agent::ControlPlaneOptions cp_options;
  cp_options.server = f.server;
  cp_options.token = *token;
  cp_options.ca_file = f.ca;
  corral::agent::HttpControlPlane http_control_plane(cp_options);
  corral::agent::WatchedControlPlane control_plane(http_control_plane, &endpoint_guard, &health);
  corral::agent::MetricsSource source(f.proc_root);
  options->address = f.advertise_address.empty() ? endpoint.address() : f.advertise_address;
  options->metrics = &registry;
  // A sim agent stands for a whole host: its use is its simulated VMs' load.
  options->simulated_host = f.driver == "sim";
  // The one random seed of this run (the holder identity's random part).
  options->seed = std::random_device{}();
  options->fence_lease = guard.get();
  // The agent keeps a watchdog on duty: started now, and again whenever it
  // is found dead (checked every second).
  std::jthread watchdog_keeper;
  if (guard)
    watchdog_keeper = std::jthread([&watchdog_paths](std::stop_token stop) {
      corral::agent::keep_watchdog_on_duty(stop, watchdog_paths, std::chrono::seconds(1));
    });
  corral::agent::SyncLoop loop(control_plane, **driver, source, clock, *options);
  log->info("node/{} as {}: driver {}, controller {}, heartbeat every {} ms", f.node,
            loop.holder_identity(), f.driver, f.server, options->heartbeat_interval.count());
  sync_target = &loop;
  std::jthread loop_thread([&loop](std::stop_token stop) { loop.run(stop); });

  if (!f.ready_file.empty()) {
    if (auto w = corral::write_file_atomically(f.ready_file, endpoint.base_url() + "\n"); !w) {
      endpoint.stop();
      loop_thread.request_stop();
      loop_thread.join();
      return fail(w.error().message);
    }
  }

  log->info("{} received: stopping; VMs are left running{}", stop_signals.wait(),
            options->restart_window.count() > 0 ? " and the controller is told this is a restart"
                                                 : "");
  endpoint.stop();  // first: no nudge may reach the loop once it is gone
  loop_thread.request_stop();
  loop_thread.join();  // the loop writes the state file on its way out
  log->info("stopped");
  return 0;
}
