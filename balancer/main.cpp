// corral-balancer: the load-balancing data plane.
//
//   corral-balancer --server URL --balancer NAME[,NAME] [--token-file F]
//                   [--threads N] [--admin ADDR:PORT] [--instance NAME] [--ready-file F]
//   corral-balancer --file BALANCER.yaml [...]     (no controller: endpoints from the file)
//
// With --ready-file it writes, once its listeners are up, a JSON object:
//   {"admin": "127.0.0.1:9901", "listeners": {"<balancer>": "127.0.0.1:8080"}}
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>
#include <thread>

#include "api/json.h"
#include "base/private_file.h"
#include "base/log.h"
#include "base/ready_file.h"
#include "balancer/proxy/proxy.h"
#include "balancer/proxy/sources.h"

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop = true; }

// 10,000 idle clients need more descriptors than the usual soft limit of 1,024.
void raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "corral-balancer";
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace corral;
  using namespace corral::balancer;
  CLI::App app{"corral-balancer: proxies TCP or HTTP to the endpoints the controller publishes for a Balancer"};
  std::string server, names, token, token_file, file, ready_file, log_level = "info";
  ProxyOptions options;
  app.add_option("--server", server, "the controller's URL, or several comma-separated (e.g. http://127.0.0.1:7443)");
  app.add_option("--balancer", names, "the Balancer(s) to serve, comma-separated");
  app.add_option("--token-file", token_file,
                 "file holding the bearer token (a `balancer` or `admin` role), mode 600; "
                 "default: $CORRAL_TOKEN");
  // Refused with a pointer to --token-file: argv is readable by every user.
  app.add_option("--token", token)->group("");
  app.add_option("--file", file, "run without a controller, from one Balancer manifest with status.endpoints");
  app.add_option("--threads", options.threads, "event loops (default: one per core)");
  app.add_option("--admin", options.admin, "address of /metrics and /healthz (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--instance", options.instance, "this copy's name in status.reportedBy (default: host name)");
  app.add_option("--ready-file", ready_file, "write the admin and listen addresses here once listening");
  app.add_option("--log-level", log_level, "trace | debug | info | warn | error")->capture_default_str();
  app.set_version_flag("--version", std::string("corral-balancer ") + CORRAL_VERSION);
  CLI11_PARSE(app, argc, argv);
  if (!set_log_level(log_level)) {
    std::cerr << "corral-balancer: --log-level " << log_level << ": one of trace, debug, info, warn, error\n";
    return 2;
  }
  if (file.empty() == server.empty()) {
    std::cerr << "corral-balancer: give either --file, or --server with --balancer\n";
    return 2;
  }
  std::vector<std::string> balancer_names;
  for (size_t start = 0; start <= names.size();) {
    size_t comma = names.find(',', start);
    if (comma == std::string::npos) comma = names.size();
    if (comma > start) balancer_names.push_back(names.substr(start, comma - start));
    start = comma + 1;
  }
  if (!server.empty() && balancer_names.empty()) {
    std::cerr << "corral-balancer: --server needs --balancer NAME[,NAME]\n";
    return 2;
  }
  if (options.instance.empty()) options.instance = hostname();
  raise_fd_limit();
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  auto log = logger("balancer");

  Proxy proxy(options);
  if (auto r = proxy.start(); !r) {
    std::cerr << "corral-balancer: " << r.error().message << "\n";
    return 1;
  }
  std::unique_ptr<ApiWatcher> watcher;
  std::unique_ptr<StatusReporter> reporter;
  if (!file.empty()) {
    auto b = load_balancer_file(file);
    if (!b) {
      std::cerr << "corral-balancer: " << b.error().message << "\n";
      return 1;
    }
    if (auto r = proxy.apply(*b); !r) {
      std::cerr << "corral-balancer: " << r.error().message << "\n";
      return 1;
    }
  } else {
    ClientConfig cfg;
    cfg.server = server;
    auto resolved = client_token(token_file, token);
    if (!resolved) {
      std::cerr << "corral-balancer: " << resolved.error().message << "\n";
      return 1;
    }
    cfg.token = *resolved;
    cfg.timeout = std::chrono::seconds(5);
    proxy.expect(balancer_names);
    watcher = std::make_unique<ApiWatcher>(cfg, balancer_names, proxy);
    watcher->start();
    reporter = std::make_unique<StatusReporter>(cfg, options.instance, proxy);
    reporter->start();
    // The ready file names the listeners, so wait for the controller's first
    // answer: bounded, as a controller that is down must not stop the data
    // plane from starting (it listens once the controller answers).
    for (int i = 0; i < 300 && !watcher->synced() && !g_stop; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!watcher->synced())
      log->warn("the controller at {} has not answered in 15 s; starting without its Balancers",
                server);
  }
  Json ready = Json::object();
  ready["admin"] = proxy.admin_address();
  ready["listeners"] = Json::object();
  for (const BalancerReport& r : proxy.report()) {
    if (r.serving) {
      ready["listeners"][r.name] = r.listen;
      log->info("balancer {}: listening on {}, {} endpoints", r.name, r.listen, r.endpoints.size());
    } else {
      log->error("balancer {}: {}", r.name, r.listen_error);
    }
  }
  if (!ready_file.empty()) {
    if (auto w = write_file_atomically(ready_file, ready.dump() + "\n"); !w) {
      std::cerr << "corral-balancer: " << w.error().message << "\n";
      return 1;
    }
  }
  log->info("corral-balancer {}: admin on {}", CORRAL_VERSION, proxy.admin_address());
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  log->info("stopping");
  if (reporter) reporter->stop();
  if (watcher) watcher->stop();
  proxy.stop();
  return 0;
}
