#include "balancer/proxy/sources.h"

#include <iostream>

#include "api/json.h"
#include "api/conditions.h"
#include "base/clock.h"
#include "api/kinds.h"
#include "base/log.h"
#include "api/manifest.h"

namespace corral::balancer {

namespace {

constexpr std::chrono::milliseconds kRetry{1000};
constexpr std::chrono::seconds kWatchTimeout{30};
constexpr std::chrono::milliseconds kReportPeriod{1000};
constexpr std::chrono::seconds kReportRefresh{15};

}  // namespace

Result<Balancer> load_balancer_file(const std::string& path) {
  auto docs = load_manifests(path, std::cin);
  if (!docs) return docs.error();
  auto objects = normalize_manifests(*docs);
  if (!objects) return objects.error();
  std::vector<Balancer> found;
  for (const Json& o : *objects) {
    if (o.value("kind", "") != "Balancer") continue;
    auto b = from_json<Balancer>(o);
    if (!b) return b.error();
    found.push_back(std::move(*b));
  }
  if (found.size() != 1)
    return make_error(ErrorCode::kInvalid, path + ": expected exactly one Balancer, found " +
                                               std::to_string(found.size()));
  return found.front();
}

void StopFlag::stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
}

bool StopFlag::wait_for(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return stopped_.load(); });
}

ApiWatcher::ApiWatcher(ClientConfig config, std::vector<std::string> names, Proxy& proxy)
    : config_(std::move(config)), names_(std::move(names)), proxy_(proxy) {}

ApiWatcher::~ApiWatcher() { stop(); }

void ApiWatcher::start() {
  for (const std::string& name : names_) threads_.emplace_back([this, name] { run(name); });
}

void ApiWatcher::stop() {
  stop_.stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

bool ApiWatcher::synced() const { return synced_.load() >= names_.size(); }

void ApiWatcher::run(const std::string& name) {
  auto log = logger("balancer");
  ApiClient api(config_);
  bool counted = false;
  std::string last_error;
  auto apply = [&](const Json& object) {
    auto b = from_json<Balancer>(object);
    if (!b) {
      log->error("balancer {}: cannot decode it: {}", name, b.error().message);
      return;
    }
    if (auto r = proxy_.apply(*b); !r) log->error("{}", r.error().message);
  };
  while (!stop_.stopped()) {
    auto got = api.call("GET", ApiClient::resource_path("balancers", name));
    // Synced once the controller answered, yes or no; a transport error or a
    // timeout (a loaded controller) is retried before main writes the ready file.
    bool answered =
        got || (got.error().code != ErrorCode::kUnavailable && got.error().code != ErrorCode::kTimeout);
    if (!counted && answered) {
      counted = true;
      ++synced_;
    }
    if (!got) {
      if (got.error().code == ErrorCode::kNotFound) proxy_.remove(name);
      if (got.error().message != last_error)
        log->warn("balancer {}: {} (retrying every second; the last endpoints keep serving)", name,
                  got.error().message);
      last_error = got.error().message;
      stop_.wait_for(kRetry);
      continue;
    }
    last_error.clear();
    apply(*got);
    std::string rv = got->value("metadata", Json::object()).value("resourceVersion", "");
    std::string path = ApiClient::resource_path("balancers") + "?watch=true&fieldSelector=" +
                       ApiClient::url_encode("metadata.name=" + name) +
                       "&resourceVersion=" + ApiClient::url_encode(rv) +
                       "&timeoutSeconds=" + std::to_string(kWatchTimeout.count());
    auto watched = api.stream_lines(
        path,
        [&](const std::string& line) {
          if (stop_.stopped()) return false;
          auto ev = parse_json(line, "watch event");
          if (!ev || !ev->is_object()) return false;
          std::string type = ev->value("type", "");
          if (type == "ADDED" || type == "MODIFIED") apply(ev->value("object", Json::object()));
          else if (type == "DELETED") proxy_.remove(name);
          else if (type == "ERROR") return false;  // e.g. Gone: re-list
          return true;
        },
        kWatchTimeout + std::chrono::seconds(2));
    if (!watched && !stop_.stopped()) stop_.wait_for(kRetry);
  }
}

StatusReporter::StatusReporter(ClientConfig config, std::string instance, Proxy& proxy)
    : config_(std::move(config)), instance_(std::move(instance)), proxy_(proxy) {}

StatusReporter::~StatusReporter() { stop(); }

void StatusReporter::start() { thread_ = std::thread([this] { run(); }); }

void StatusReporter::stop() {
  stop_.stop();
  if (thread_.joinable()) thread_.join();
}

void StatusReporter::run() {
  ApiClient api(config_);
  int round = 0;
  while (stop_.wait_for(kReportPeriod)) {
    if (++round % 5 == 0) proxy_.retry_listeners();
    for (const BalancerReport& r : proxy_.report()) {
      auto w = report_one(api, r);
      if (w) {
        forbidden_.erase(r.name);
      } else if (w.error().code == ErrorCode::kForbidden) {
        // A token scoped to other Balancers (balancer:<name>...), or one of
        // another role: nothing gets better by retrying, so say it plainly once.
        if (forbidden_.insert(r.name).second)
          logger("balancer")
              ->error(
                  "balancer {}: the controller refuses this balancer's status reports (403 "
                  "Forbidden): {} -- the token's role must be balancer:{} (or name it among its "
                  "Balancers); traffic is still served, but health and connections are not "
                  "reported",
                  r.name, w.error().message, r.name);
      } else {
        logger("balancer")->debug("balancer {}: status report: {}", r.name, w.error().message);
      }
    }
  }
}

Result<void> StatusReporter::report_one(ApiClient& api, const BalancerReport& r) {
  Json encoded = Json::object();
  encoded["serving"] = r.serving;
  encoded["listen"] = r.listen;
  encoded["error"] = r.listen_error;
  Json eps = Json::array();
  for (const EndpointReport& e : r.endpoints)
    eps.push_back({e.vm, e.epoch, e.health, e.active, e.drained});
  encoded["endpoints"] = eps;
  std::string key = encoded.dump();
  auto now = std::chrono::steady_clock::now();
  auto last = last_time_.find(r.name);
  if (last_sent_[r.name] == key && last != last_time_.end() && now - last->second < kReportRefresh)
    return Ok{};

  std::string path = ApiClient::resource_path("balancers", r.name);
  auto got = api.call("GET", path);
  if (!got) return got.error();
  auto b = from_json<Balancer>(*got);
  if (!b) return b.error();
  for (Endpoint& ep : b->status.endpoints) {
    for (const EndpointReport& e : r.endpoints) {
      if (e.vm != ep.vm || e.epoch != ep.epoch) continue;
      ep.health = e.health;
      ep.activeConnections = e.active;
      ep.drained = ep.draining && e.drained;
    }
  }
  b->status.lastReportTime = format_time(std::chrono::system_clock::now());
  b->status.reportedBy = instance_;
  Condition c;
  c.type = condition_type::kServing;
  c.status = r.serving ? condition_status::kTrue : condition_status::kFalse;
  c.reason = r.serving ? "Listening" : "ListenFailed";
  c.message = r.serving ? "listening on " + r.listen + " (" + instance_ + ")" : r.listen_error;
  c.lastTransitionTime = b->status.lastReportTime;
  c.observedGeneration = b->metadata.generation;
  set_condition(b->status.conditions, std::move(c));
  Json body = to_json(*b);
  auto put = api.call("PUT", ApiClient::resource_path("balancers", r.name, "status"), &body);
  if (!put) return put.error();
  last_sent_[r.name] = key;
  last_time_[r.name] = now;
  return Ok{};
}

}  // namespace corral::balancer
