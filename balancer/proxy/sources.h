// Where the data plane's Balancers come from.
//
//   load_balancer_file  --file: one Balancer manifest (YAML or JSON) carrying
//                       its endpoints in status.endpoints; no controller. Read
//                       once; errors name file:line and the field.
//   ApiWatcher          --server/--balancer: per Balancer, GET then a watch
//                       (fieldSelector=metadata.name=NAME) from its
//                       resourceVersion; every ADDED/MODIFIED goes to
//                       Proxy::apply, DELETED to Proxy::remove. The controller
//                       being down or restarting changes nothing: the last
//                       endpoints keep serving and the watch is re-made every
//                       second until it answers.
//   StatusReporter      every second, writes what the data plane knows —
//                       health, active connections, drained — back to each
//                       Balancer's status (PUT /status, resourceVersion
//                       precondition; a conflict waits for the next round),
//                       and the condition Serving. Writes only on change, and
//                       at least every 15 s so lastReportTime stays fresh.
//
// Thread safety: each watcher and the reporter run on threads of their own
// (libcurl blocks); the proxy is thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "base/error.h"
#include "api/types.h"
#include "balancer/proxy/proxy.h"

namespace corral::balancer {

Result<Balancer> load_balancer_file(const std::string& path);

// An interruptible sleep shared by the background threads.
class StopFlag {
 public:
  void stop();
  bool stopped() const { return stopped_.load(); }
  // False when stopped during the wait.
  bool wait_for(std::chrono::milliseconds d);

 private:
  std::atomic<bool> stopped_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

class ApiWatcher {
 public:
  ApiWatcher(ClientConfig config, std::vector<std::string> names, Proxy& proxy);
  ~ApiWatcher();
  void start();
  void stop();
  // True once every Balancer was read at least once (found or not).
  bool synced() const;

 private:
  void run(const std::string& name);
  ClientConfig config_;
  std::vector<std::string> names_;
  Proxy& proxy_;
  StopFlag stop_;
  std::atomic<size_t> synced_{0};
  std::vector<std::thread> threads_;
};

class StatusReporter {
 public:
  StatusReporter(ClientConfig config, std::string instance, Proxy& proxy);
  ~StatusReporter();
  void start();
  void stop();

 private:
  void run();
  Result<void> report_one(ApiClient& api, const BalancerReport& report);
  ClientConfig config_;
  std::string instance_;
  Proxy& proxy_;
  StopFlag stop_;
  std::map<std::string, std::string> last_sent_;  // name → encoded report; reporter thread only
  std::map<std::string, std::chrono::steady_clock::time_point> last_time_;
  // Balancers whose status writes were refused (403), logged once each until
  // a write succeeds again; reporter thread only.
  std::set<std::string> forbidden_;
  std::thread thread_;
};

}  // namespace corral::balancer
