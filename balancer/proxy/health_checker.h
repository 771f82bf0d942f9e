// Active health checks (spec.healthCheck), on loop 0.
//
// Every intervalSeconds each backend of each installed set is checked: tcp —
// a connection is made within timeoutSeconds; http — `GET path` answers
// 2xx or 3xx within timeoutSeconds. `fall` failures in a row mark it
// unhealthy, `rise` successes healthy again. A new backend counts as healthy
// (traffic flows at once, as HAProxy starts servers up) but reports
// "Unknown" until a verdict. Live state is shared with the sessions through
// BackendState::healthy, so a backend the checker fails stops receiving new
// connections on every loop at once.
//
// Thread safety: runs on its io_context's thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "balancer/proxy/loop_balancer.h"

namespace corral::balancer {

class HealthChecker : public std::enable_shared_from_this<HealthChecker> {
 public:
  using SetsFn = std::function<std::vector<std::shared_ptr<const InstalledSet>>()>;
  HealthChecker(boost::asio::io_context& io, SetsFn sets);
  void start();
  void stop();

 private:
  struct Track {
    std::weak_ptr<BackendState> state;
    std::chrono::steady_clock::time_point next_due;
    int successes = 0;
    int failures = 0;
    bool in_flight = false;
  };
  void tick();
  void check(std::shared_ptr<const InstalledSet> set, const Backend* backend, Track& track);
  void verdict(Track& track, const HealthCheck& spec, bool ok);

  boost::asio::io_context& io_;
  SetsFn sets_;
  boost::asio::steady_timer timer_;
  std::unordered_map<const BackendState*, Track> tracks_;
  bool stopped_ = false;
};

}  // namespace corral::balancer
