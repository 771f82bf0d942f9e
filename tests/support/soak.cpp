#include "tests/support/soak.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <stop_token>
#include <thread>

#include "api/json.h"
#include "client/client.h"
#include "tests/support/cluster.h"
#include "tests/support/e2e_util.h"
#include "tests/support/soak_host.h"

namespace corral::testing {

namespace soak_impl {

using namespace std::chrono_literals;
using Clock = SoakClock;

// VMSet names say where their VMs run and how they are fenced, so that a VM's
// name ("rf-12-x7k2p") is enough to judge its copies.
constexpr const char* kSelfFenced = "rf";  // process agents, fencing: selfFence
constexpr const char* kUnfenced = "rn";    // process agents, fencing: none
constexpr const char* kSimulated = "sm";   // sim agents
constexpr const char* kVmSetLabel = "corral.io/vmset";
constexpr int kMaxViolationsKept = 50;
constexpr int kSettledBeats = 2;  // answered heartbeats after which an agent has converged
constexpr auto kProgressPeriod = std::chrono::seconds(60);  // a progress line a minute
// What each controller life records at its start and end (SoakReport::Life).
constexpr const char* kLifeResources[] = {"controller RSS", "controller open fds",
                                          "controller threads", "database size (file + WAL)"};

// A write that failed this way may still have been committed.
bool may_have_landed(const Error& e) {
  return e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kTimeout ||
         e.code == ErrorCode::kInternal;
}

bool is_real(const std::string& set) { return set.rfind("r", 0) == 0; }

// One VMSet this soak wrote. guarded by Soak::mu_ (the map that holds it).
struct SetState {
  int replicas = 0;             // as last acknowledged
  uint64_t resource_version = 0;  // of the last acknowledged write
  bool uncertain = false;       // a write failed: the store may or may not have it
  // A create or scale-up waiting for every VM to be bound.
  std::optional<Clock::time_point> pending_since;
  int pending_new = 0;          // VMs that write added
  bool pending_late = false;    // already reported late
};

uint64_t rv_of(const Json& object) {
  const std::string rv = object.value("metadata", Json::object()).value("resourceVersion", "");
  return rv.empty() ? 0 : std::strtoull(rv.c_str(), nullptr, 10);
}

class Soak {
 public:
  explicit Soak(const SoakOptions& options)
      : o_(options), churn_rng_(options.seed), chaos_rng_(options.seed + 1), marker_("CORRAL_SOAK=" + std::to_string(::getpid()) + "-" +
                                                  std::to_string(options.seed)) {}
  ~Soak() { teardown(); }

  SoakReport run() {
    start_ = Clock::now();
    std::string error;
    if (!setup(&error)) {
      report_.error = error;
      return finish();
    }
    say("soak: " + std::to_string(o_.real_agents) + " process agents, " +
        std::to_string(o_.sim_agents) + " sim agents, controller " + controller_->url() + " for " +
        std::to_string(o_.duration.count()) + " s");
    {
      std::jthread churn([this](std::stop_token stop) { churn_loop(stop); });
      std::jthread checker([this](std::stop_token stop) { check_loop(stop); });
      chaos();
      churn.request_stop();
      checker.request_stop();
      wake_.notify_all();
    }
    if (!failed()) check_acknowledged("at the end");
    return finish();
  }

 private:
  // --- set-up and tear-down ------------------------------------------------

  bool setup(std::string* error) {
    ControllerOptions c;
    c.binary = controller_binary();
    c.data_dir = (dir_.path() / "controller").string();
    c.extra_args = {"--log-level", "warn"};
    c.extra_args.insert(c.extra_args.end(), o_.controller_args.begin(), o_.controller_args.end());
    controller_ = std::make_unique<Controller>(c);
    if (!controller_->start(error)) return false;
    controller_pid_ = controller_->process()->pid();
    for (int i = 0; i < o_.real_agents + o_.sim_agents; ++i) {
      const bool real = i < o_.real_agents;
      const std::string node = real ? "proc-" + std::to_string(i) : "sim-" + std::to_string(i - o_.real_agents);
      AgentOptions a = local_agent_options(controller_->url(), dir_.path(), node);
      a.driver = real ? "process" : "sim";
      a.labels = std::string("soak=") + (real ? "process" : "sim");
      a.extra_args.insert(a.extra_args.end(), {"--log-level", "warn"});
      auto agent = std::make_unique<Agent>(a);
      if (!agent->start(error)) return false;
      if (real) {
        const std::string url = agent->url();
        real_.push_back(RealAgent{node, std::move(agent), url});
      } else {
        sim_.push_back({node, std::move(agent)});
      }
    }
    ApiClient api(client_config());
    for (const char* pool : {"process", "sim"}) {
      Json p = {{"apiVersion", "corral/v1"},
                {"kind", "Pool"},
                {"metadata", {{"name", std::string("soak-") + pool}}},
                {"spec", {{"nodeSelector", {{"soak", pool}}}, {"placement", "spread"}}}};
      auto r = api.call("POST", ApiClient::resource_path("pools"), &p);
      if (!r) {
        *error = "creating pool soak-" + std::string(pool) + ": " + r.error().to_string();
        return false;
      }
    }
    // Every node Ready before the clock of the checks starts.
    const int nodes = o_.real_agents + o_.sim_agents;
    if (!wait_for(
            [&] {
              auto r = api.call("GET", ApiClient::resource_path("nodes"));
              if (!r) return false;
              int ready = 0;
              for (const Json& n : (*r)["items"])
                ready += n.value("status", Json::object()).value("phase", "") == "Ready";
              return ready == nodes;
            },
            120s, 250ms)) {
      *error = "not every node turned Ready within 120 s\n" + controller_->logs();
      return false;
    }
    return true;
  }

  void teardown() {
    for (auto& a : real_) a.agent->stop(5s);
    for (auto& a : sim_) a.agent->stop(5s);
    if (controller_) controller_->stop(5s);
    // What agents leave running by design: their VMs and fence watchdogs.
    kill_process_vms(marker_);
    kill_processes_matching({"fence-watchdog", dir_.path().string()});
  }

  SoakReport finish() {
    report_.seconds = seconds_since_start(Clock::now());
    report_.violation_count = violation_count_;
    for (auto& [name, samples] : resource_samples_) {
      ResourceReport r;
      r.name = name;
      r.unit = resource_units_[name];
      r.growth = growth_after_warmup(samples, o_.duration.count() * o_.warmup_fraction, o_.growth_window);
      r.flagged = r.growth.percent > o_.growth_limit_percent;
      report_.resources.push_back(r);
    }
    // Each controller life (start or restart to the next kill): the first and
    // last samples of the controller's resources and the database in it. A
    // restart resets what the controller holds in memory (its watch history
    // starts empty and refills for the whole life), so the median windows
    // above compare two phases of a saw-tooth; compared at the same phase of
    // a life — its end — what is left is a leak.
    std::vector<double> kills;
    for (const auto& [down, up] : outages_) kills.push_back(seconds_since_start(down));
    kills.push_back(report_.seconds + 1);
    double from = 0;
    for (double to : kills) {
      SoakReport::Life life;
      life.from_s = from;
      life.to_s = std::min(to, report_.seconds);
      for (const char* name : kLifeResources) {
        std::pair<double, double> first{-1, -1}, last{-1, -1};
        for (const auto& sample : resource_samples_[name]) {
          if (sample.first < from || sample.first >= to) continue;
          if (first.first < 0) first = sample;
          last = sample;
        }
        life.first.push_back(first.second);
        life.last.push_back(last.second);
      }
      report_.lives.push_back(life);
      from = to;
    }
    // The first life is the warm-up (the Events of the churn accumulate up to
    // their TTL, connections settle after the first restart): from the end of
    // the second life to the end of the last. A last life shorter than the
    // others (the run ended before the next restart was due) is at another
    // phase: the one before it is compared. With fewer lives (short runs),
    // from the first.
    auto last = report_.lives.end() - 1;
    const double first_length = report_.lives.front().to_s - report_.lives.front().from_s;
    if (report_.lives.size() >= 3 && last->to_s - last->from_s < 0.9 * first_length) --last;
    auto early = report_.lives.size() >= 4 && last - report_.lives.begin() >= 2
                     ? report_.lives.begin() + 1
                     : report_.lives.begin();
    if (report_.lives.size() >= 2 && early != last) {
      const char* units[] = {"MiB", "fds", "threads", "MiB"};
      for (size_t i = 0; i < std::size(kLifeResources); ++i) {
        ResourceReport r;
        r.name = std::string(kLifeResources[i]) + " at life ends";
        r.unit = units[i];
        r.growth.early = early->last[i];
        r.growth.late = last->last[i];
        r.growth.early_samples = r.growth.late_samples = 1;
        if (r.growth.early <= 0 || r.growth.late < 0) continue;
        r.growth.percent = (r.growth.late - r.growth.early) / r.growth.early * 100;
        r.flagged = r.growth.percent > o_.growth_limit_percent;
        report_.resources.push_back(r);
      }
      // With lives to compare at one phase, the median windows of the
      // controller's resources are information, not the target.
      for (ResourceReport& r : report_.resources) {
        if (r.name.rfind("controller ", 0) == 0 || r.name.rfind("database ", 0) == 0)
          r.target = r.name.find(" at life ends") != std::string::npos;
      }
    }
    return report_;
  }

  // --- the chaos schedule (the calling thread) ------------------------------

  void chaos() {
    const auto end = start_ + o_.duration;
    auto next_kill = start_ + o_.agent_kill_period;
    auto next_restart = start_ + o_.controller_restart_period;
    while (!failed()) {
      const auto next = std::min({next_kill, next_restart, end});
      std::this_thread::sleep_until(next);
      if (Clock::now() >= end) break;
      if (Clock::now() >= next_restart) {
        restart_controller();
        next_restart += o_.controller_restart_period;
      }
      if (Clock::now() >= next_kill && !failed() && o_.real_agents > 0) {
        kill_and_restart_agent();
        next_kill += o_.agent_kill_period;
      }
    }
  }

  void restart_controller() {
    {
      std::lock_guard lock(mu_);
      controller_up_ = false;
      outages_.push_back({Clock::now(), Clock::time_point::max()});
    }
    controller_->kill_hard();
    std::string error;
    bool started = false;
    for (int attempt = 0; attempt < 3 && !started; ++attempt) started = controller_->start(&error);
    if (!started) {
      std::lock_guard lock(mu_);
      report_.error = "the controller did not restart: " + error;
      return;
    }
    double down_s = 0;
    {
      std::lock_guard lock(mu_);
      outages_.back().second = Clock::now();
      down_s = std::chrono::duration<double>(outages_.back().second - outages_.back().first).count();
      controller_pid_ = controller_->process()->pid();
      controller_up_ = true;
      ++report_.controller_restarts;
    }
    say(stamp() + "controller killed (-9) and restarted in " + fixed(down_s) + " s");
    check_acknowledged("after controller restart " + std::to_string(report_.controller_restarts));
  }

  void kill_and_restart_agent() {
    const size_t i = std::uniform_int_distribution<size_t>(0, real_.size() - 1)(chaos_rng_);
    RealAgent& a = real_[i];
    {
      std::lock_guard lock(mu_);
      a.url.clear();  // not settled until it has converged again
      ++report_.agent_kills;
    }
    a.agent->kill_hard();
    std::this_thread::sleep_for(o_.agent_down);
    std::string error;
    if (!a.agent->start(&error)) {
      std::lock_guard lock(mu_);
      report_.error = "agent " + a.node + " did not restart: " + error;
      return;
    }
    std::lock_guard lock(mu_);
    a.url = a.agent->url();
  }

  // --- churn (a thread) -------------------------------------------------------

  void churn_loop(std::stop_token stop) {
    ApiClient api(client_config());
    for (auto next = Clock::now(); !stop.stop_requested(); next += o_.churn_period) {
      {
        std::unique_lock lock(mu_);
        wake_.wait_until(lock, next, [&] { return stop.stop_requested(); });
        if (stop.stop_requested()) return;
        if (!controller_up_) continue;
      }
      std::lock_guard writes(writes_mu_);
      guarded("churn", [&] {
        resolve_uncertain(api);
        churn_once(api);
      });
    }
  }

  // A set whose write failed: what the store has now is the truth.
  void resolve_uncertain(ApiClient& api) {
    std::vector<std::string> names;
    {
      std::lock_guard lock(mu_);
      for (const auto& [name, s] : sets_)
        if (s.uncertain) names.push_back(name);
    }
    for (const std::string& name : names) {
      auto r = api.request("GET", ApiClient::resource_path("vmsets", name));
      if (!r) return;  // the controller is away again
      std::lock_guard lock(mu_);
      if (r->status == 404) {
        sets_.erase(name);
      } else if (r->status == 200) {
        const Json j = Json::parse(r->body, nullptr, false);
        SetState& s = sets_[name];
        s.replicas = j["spec"].value("replicas", 0);
        s.resource_version = rv_of(j);
        s.uncertain = false;
      }
    }
  }

  void churn_once(ApiClient& api) {
    std::string scale_target, delete_target;
    int live = 0;
    {
      std::lock_guard lock(mu_);
      std::vector<std::string> scalable, deletable;
      for (const auto& [name, s] : sets_) {
        ++live;
        if (s.uncertain) continue;
        deletable.push_back(name);
        if (!s.pending_since) scalable.push_back(name);
      }
      const int roll = std::uniform_int_distribution<int>(0, 99)(churn_rng_);
      if (live < o_.max_sets / 2 || (live < o_.max_sets && roll < 40)) {
        // create, below
      } else if (!scalable.empty() && (roll < 75 || deletable.empty())) {
        scale_target = scalable[std::uniform_int_distribution<size_t>(0, scalable.size() - 1)(churn_rng_)];
      } else if (!deletable.empty()) {
        delete_target = deletable[std::uniform_int_distribution<size_t>(0, deletable.size() - 1)(churn_rng_)];
      } else {
        return;
      }
    }
    if (!scale_target.empty()) return scale(api, scale_target);
    if (!delete_target.empty()) return remove(api, delete_target);
    create(api);
  }

  int random_replicas(const std::string& set, int other_than) {
    const int max = is_real(set) ? o_.max_real_replicas : o_.max_sim_replicas;
    int r = other_than;
    while (r == other_than && max > 1) r = std::uniform_int_distribution<int>(1, max)(churn_rng_);
    return max > 1 ? r : 1;
  }

  void create(ApiClient& api) {
    const int kind = std::uniform_int_distribution<int>(0, 3)(churn_rng_);
    const char* prefix = kind < 2 ? kSimulated : kind == 2 ? kSelfFenced : kUnfenced;
    const std::string name = std::string(prefix) + "-" + std::to_string(++set_counter_);
    const int replicas = random_replicas(name, 0);
    Json runtime = is_real(name)
                       ? Json{{"driver", "process"},
                              {"command", {"/bin/sleep", "infinity"}},
                              {"env", {{marker_.substr(0, marker_.find('=')), marker_.substr(marker_.find('=') + 1)}}}}
                       : Json{{"driver", "sim"}};
    Json body = {{"apiVersion", "corral/v1"},
                 {"kind", "VMSet"},
                 {"metadata", {{"name", name}}},
                 {"spec",
                  {{"pool", is_real(name) ? "soak-process" : "soak-sim"},
                   {"replicas", replicas},
                   {"fencing", std::string(prefix) == kSelfFenced ? "selfFence" : "none"},
                   {"template",
                    {{"spec", {{"resources", {{"cpu", "100m"}, {"memory", "32Mi"}}}, {"runtime", runtime}}}}}}}};
    auto r = api.call("POST", ApiClient::resource_path("vmsets"), &body);
    std::lock_guard lock(mu_);
    if (!r) {
      ++report_.unacknowledged_writes;
      // Refused for a reason (a 4xx): not there. Otherwise it may have landed.
      if (may_have_landed(r.error())) sets_[name].uncertain = true;
      return;
    }
    SetState& s = sets_[name];
    s.replicas = replicas;
    s.resource_version = rv_of(*r);
    s.pending_since = Clock::now();
    s.pending_new = replicas;
    s.pending_late = false;
    ++report_.creates;
  }

  void scale(ApiClient& api, const std::string& name) {
    auto got = api.call("GET", ApiClient::resource_path("vmsets", name));
    if (!got) {
      std::lock_guard lock(mu_);
      if (got.error().code == ErrorCode::kNotFound)
        violation("acknowledged vmset/" + name + " is gone (GET before a scale: " +
                  got.error().to_string() + ")");
      return;
    }
    Json body = *got;
    const int before = body["spec"].value("replicas", 0);
    const int replicas = random_replicas(name, before);
    body["spec"]["replicas"] = replicas;
    auto r = api.call("PUT", ApiClient::resource_path("vmsets", name), &body);
    std::lock_guard lock(mu_);
    SetState& s = sets_[name];
    if (!r) {
      ++report_.unacknowledged_writes;
      if (may_have_landed(r.error())) s.uncertain = true;
      return;
    }
    s.replicas = replicas;
    s.resource_version = rv_of(*r);
    if (replicas > before) {
      s.pending_since = Clock::now();
      s.pending_new = replicas - before;
      s.pending_late = false;
    }
    ++report_.scales;
  }

  void remove(ApiClient& api, const std::string& name) {
    auto r = api.request("DELETE", ApiClient::resource_path("vmsets", name));
    std::lock_guard lock(mu_);
    if (r && r->status == 404) {
      violation("acknowledged vmset/" + name + " is gone (DELETE answered 404)");
      sets_.erase(name);
      return;
    }
    if (!r || r->status / 100 != 2) {
      ++report_.unacknowledged_writes;
      if (!r) sets_[name].uncertain = true;
      return;
    }
    sets_.erase(name);
    deleted_.insert(name);
    ++report_.deletes;
  }

  // --- the checker (a thread) -------------------------------------------------

  void check_loop(std::stop_token stop) {
    ApiClient api(client_config());
    auto next_copies = Clock::now();
    auto next_resources = Clock::now();
    auto next_progress = Clock::now() + kProgressPeriod;
    // Placements are polled more often than the rest, and only while a write
    // waits for its VMs to be bound: their latency's resolution.
    const auto tick = std::min<std::chrono::milliseconds>(o_.check_period, o_.placement_poll);
    for (auto next = Clock::now(); !stop.stop_requested(); next += tick) {
      {
        std::unique_lock lock(mu_);
        wake_.wait_until(lock, next, [&] { return stop.stop_requested(); });
        if (stop.stop_requested()) return;
      }
      if (Clock::now() >= next_copies) {
        guarded("copy check", [&] { check_copies(); });
        next_copies += o_.check_period;
      }
      guarded("placement check", [&] { check_placements(api); });
      if (Clock::now() >= next_resources) {
        sample_resources();
        next_resources += o_.resource_period;
      }
      if (Clock::now() >= next_progress) {
        progress();
        next_progress += kProgressPeriod;
      }
    }
  }

  // (a) no VM runs twice. The agents' heartbeat counts are read before the
  // copies: an agent settled then has stopped its stale copies by the scan.
  void check_copies() {
    std::map<std::string, std::string> urls;
    {
      std::lock_guard lock(mu_);
      for (const RealAgent& a : real_) urls[a.node] = a.url;
    }
    std::set<std::string> settled;
    for (const auto& [node, url] : urls) {
      if (url.empty()) continue;
      auto beats = scrape_metric(url, "corral_agent_heartbeats_total");
      if (beats && *beats >= kSettledBeats) settled.insert(node);
    }
    std::vector<VmCopy> copies = process_vm_copies(marker_);
    for (const SimAgent& a : sim_) {
      auto more = state_file_copies(a.node, dir_.path() / a.node / "agent-state.json");
      copies.insert(copies.end(), more.begin(), more.end());
    }
    int tolerated = 0;
    auto found = copy_violations(
        copies,
        [&](const std::string& node) { return node.rfind("sim-", 0) == 0 || settled.count(node) > 0; },
        [](const std::string& vm) { return vm.rfind(std::string(kSelfFenced) + "-", 0) == 0; }, &tolerated);
    std::lock_guard lock(mu_);
    report_.stale_copies_tolerated += tolerated;
    ++report_.copy_samples;
    report_.max_copies_seen = std::max<int>(report_.max_copies_seen, static_cast<int>(copies.size()));
    for (const std::string& v : found) violation(v);
  }

  // (b) every VM of a set that fits bound within the deadline (every set
  // fits: the pools hold max_sets sets of the largest size with one process
  // agent down, 100m each on 4-CPU nodes).
  void check_placements(ApiClient& api) {
    {
      std::lock_guard lock(mu_);
      if (!controller_up_) return;
      bool any = false;
      for (const auto& [name, s] : sets_) any = any || s.pending_since.has_value();
      if (!any) return;
    }
    auto list = api.call("GET", ApiClient::resource_path("vms"));
    if (!list) return;  // the controller went away meanwhile: the next sample
    const auto now = Clock::now();
    std::map<std::string, int> bound;
    for (const Json& vm : (*list)["items"]) {
      const Json labels = vm["metadata"].value("labels", Json::object());
      if (!vm["spec"].value("nodeName", "").empty()) ++bound[labels.value(kVmSetLabel, "")];
    }
    std::lock_guard lock(mu_);
    for (auto& [name, s] : sets_) {
      if (!s.pending_since) continue;
      const double waited = up_time_between(*s.pending_since, now, outages_).count();
      if (bound[name] >= s.replicas) {
        report_.placements_checked += s.pending_new;
        report_.max_placement_s = std::max(report_.max_placement_s, waited);
        s.pending_since.reset();
      } else if (waited > o_.placement_deadline.count() && !s.pending_late) {
        s.pending_late = true;
        ++report_.placements_late;
        violation("vmset/" + name + ": " + std::to_string(bound[name]) + " of " +
                  std::to_string(s.replicas) + " VMs bound " + fixed(waited) +
                  " s (controller up) after the write was acknowledged");
      }
    }
  }

  // (c) no acknowledged object lost. Holds writes_mu_: the churn waits.
  void check_acknowledged(const std::string& when) {
    std::lock_guard writes(writes_mu_);
    ApiClient api(client_config());
    auto sets = api.call("GET", ApiClient::resource_path("vmsets"));
    auto pools = api.call("GET", ApiClient::resource_path("pools"));
    std::lock_guard lock(mu_);
    if (!sets || !pools) {
      violation(when + ": cannot list: " + (sets ? pools.error() : sets.error()).to_string());
      return;
    }
    std::map<std::string, Json> stored;
    for (const Json& item : (*sets)["items"]) stored[item["metadata"].value("name", "")] = item;
    std::set<std::string> stored_pools;
    for (const Json& item : (*pools)["items"]) stored_pools.insert(item["metadata"].value("name", ""));
    for (const char* pool : {"soak-process", "soak-sim"}) {
      ++report_.objects_checked;
      if (!stored_pools.count(pool)) violation(when + ": acknowledged pool/" + std::string(pool) + " lost");
    }
    for (auto& [name, s] : sets_) {
      auto it = stored.find(name);
      if (s.uncertain) {  // either is right; what is there is the truth from now on
        if (it != stored.end()) {
          s.uncertain = false;
          s.replicas = it->second["spec"].value("replicas", 0);
          s.resource_version = rv_of(it->second);
        }
        continue;
      }
      ++report_.objects_checked;
      if (it == stored.end()) {
        violation(when + ": acknowledged vmset/" + name + " (rv " + std::to_string(s.resource_version) + ") lost");
        continue;
      }
      const int replicas = it->second["spec"].value("replicas", 0);
      if (rv_of(it->second) < s.resource_version || replicas != s.replicas)
        violation(when + ": vmset/" + name + " is rv " + std::to_string(rv_of(it->second)) + " replicas " +
                  std::to_string(replicas) + ", acknowledged rv " + std::to_string(s.resource_version) +
                  " replicas " + std::to_string(s.replicas));
    }
    std::erase_if(sets_, [&](const auto& entry) { return entry.second.uncertain && !stored.count(entry.first); });
    for (const std::string& name : deleted_) {
      ++report_.objects_checked;
      if (stored.count(name)) violation(when + ": vmset/" + name + " was deleted (acknowledged) and is back");
    }
  }

  void sample_resources() {
    pid_t pid;
    {
      std::lock_guard lock(mu_);
      if (!controller_up_) return;
      pid = controller_pid_;
    }
    const double t = seconds_since_start(Clock::now());
    const ProcStats c = proc_stats(pid);
    const double db = files_mib(dir_.path() / "controller", "corral.db");
    std::lock_guard lock(mu_);
    add_sample("controller RSS", "MiB", t, c.rss_mib);
    add_sample("controller open fds", "fds", t, c.fds);
    add_sample("controller threads", "threads", t, c.threads);
    add_sample("database size (file + WAL)", "MiB", t, db);
    if (!sim_.empty()) {
      const ProcStats a = proc_stats(sim_.front().agent->process()->pid());
      add_sample("sim agent RSS", "MiB", t, a.rss_mib);
      add_sample("sim agent open fds", "fds", t, a.fds);
      add_sample("sim agent threads", "threads", t, a.threads);
    }
  }

  // A line a minute: how far it got, and the last resource samples.
  void progress() {
    std::string line;
    {
      std::lock_guard lock(mu_);
      line = stamp() + std::to_string(sets_.size()) + " sets, " + std::to_string(report_.max_copies_seen) +
             " VM copies at most, " + std::to_string(violation_count_) + " violations, " +
             std::to_string(report_.placements_checked) + " placements, " +
             std::to_string(report_.controller_restarts) + " controller restarts, " +
             std::to_string(report_.agent_kills) + " agent kills";
      for (const auto& [name, samples] : resource_samples_)
        if (!samples.empty() && name.rfind("controller", 0) == 0) line += "; " + name + " " + fixed(samples.back().second);
      const auto db = resource_samples_.find("database size (file + WAL)");
      if (db != resource_samples_.end() && !db->second.empty()) line += "; database " + fixed(db->second.back().second) + " MiB";
    }
    say(line);
  }

  // --- small things -------------------------------------------------------------

  bool failed() {
    std::lock_guard lock(mu_);
    return !report_.error.empty();
  }

  // Runs `step` of a thread; an exception (an answer of an unexpected shape)
  // ends the soak with an error instead of std::terminate.
  void guarded(const char* what, const std::function<void()>& step) {
    try {
      step();
    } catch (const std::exception& e) {
      std::lock_guard lock(mu_);
      if (report_.error.empty()) report_.error = std::string(what) + " threw: " + e.what();
    }
  }

  // REQUIRES: mu_ held.
  void add_sample(const std::string& name, const std::string& unit, double t, double value) {
    if (value < 0) return;
    resource_units_[name] = unit;
    resource_samples_[name].push_back({t, value});
  }

  // REQUIRES: mu_ held.
  void violation(const std::string& what) {
    ++violation_count_;
    const std::string line = stamp() + what;
    if (report_.violations.size() < kMaxViolationsKept) report_.violations.push_back(line);
    say("VIOLATION " + line);
  }

  ClientConfig client_config() const {
    ClientConfig cfg;
    cfg.server = controller_->url();  // the same port across restarts
    cfg.timeout = 10s;
    cfg.connect_timeout = 2s;
    return cfg;
  }

  double seconds_since_start(Clock::time_point t) const {
    return std::chrono::duration<double>(t - start_).count();
  }
  std::string stamp() const { return "[" + fixed(seconds_since_start(Clock::now())) + " s] "; }
  static std::string fixed(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
  }
  void say(const std::string& line) {
    if (o_.log) o_.log(line);
  }

  struct RealAgent {
    std::string node;
    std::unique_ptr<Agent> agent;
    std::string url;  // its endpoint while it runs; guarded by mu_
  };
  struct SimAgent {
    std::string node;
    std::unique_ptr<Agent> agent;
  };

  const SoakOptions o_;
  std::mt19937_64 churn_rng_;  // the churn thread's
  std::mt19937_64 chaos_rng_;  // the chaos thread's
  const std::string marker_;
  TempDir dir_;
  Clock::time_point start_;
  // The processes: created by setup(), then touched only by the chaos thread
  // (the checker reads real_[i].url under mu_ and the sim agents' pids,
  // which never change).
  std::unique_ptr<Controller> controller_;
  std::vector<RealAgent> real_;
  std::vector<SimAgent> sim_;

  std::mutex writes_mu_;  // held by each churn write and by check_acknowledged
  std::mutex mu_;
  std::condition_variable wake_;
  // guarded by mu_:
  bool controller_up_ = true;
  pid_t controller_pid_ = 0;
  Outages outages_;
  std::map<std::string, SetState> sets_;
  std::set<std::string> deleted_;
  int set_counter_ = 0;
  int violation_count_ = 0;
  SoakReport report_;
  std::map<std::string, std::vector<std::pair<double, double>>> resource_samples_;
  std::map<std::string, std::string> resource_units_;
};

}  // namespace soak_impl

bool SoakReport::resources_ok() const {
  for (const ResourceReport& r : resources)
    if (r.flagged && r.target) return false;
  return true;
}

std::string SoakReport::format(double growth_limit_percent) const {
  char buf[512];
  std::string out;
  auto line = [&](const char* fmt, auto... args) {
    std::snprintf(buf, sizeof buf, fmt, args...);
    out += buf;
    out += "\n";
  };
  if (!error.empty()) out += "soak: ERROR " + error + "\n";
  line("soak: ran %.0f s", seconds);
  line("invariant violations: %d (expected 0)", violation_count);
  for (const std::string& v : violations) out += "  " + v + "\n";
  line("copy samples: %d (largest: %d VM copies; %d stale unfenced copies beside a dead or unsettled agent, allowed)",
       copy_samples, max_copies_seen, stale_copies_tolerated);
  line("placements checked: %d VMs, %d sets late", placements_checked, placements_late);
  line("max placement latency: %.1f s (target <= 5 s, controller outages excluded)", max_placement_s);
  line("acknowledged objects checked: %d", objects_checked);
  line("controller restarts: %d", controller_restarts);
  line("agent kills: %d", agent_kills);
  line("writes: %d creates, %d scales, %d deletes, %d unacknowledged", creates, scales, deletes,
       unacknowledged_writes);
  for (const Life& l : lives)
    line("controller life %.0f-%.0f s: RSS %.1f -> %.1f MiB, fds %.0f -> %.0f, threads %.0f -> %.0f, "
         "database %.1f -> %.1f MiB",
         l.from_s, l.to_s, l.first[0], l.last[0], l.first[1], l.last[1], l.first[2], l.last[2],
         l.first[3], l.last[3]);
  for (const ResourceReport& r : resources) {
    if (r.target)
      line("growth %s: %+.1f %% (%.1f -> %.1f %s; target < %.0f %%)%s", r.name.c_str(),
           r.growth.percent, r.growth.early, r.growth.late, r.unit.c_str(), growth_limit_percent,
           r.flagged ? " FLAGGED" : "");
    else
      line("growth %s: %+.1f %% (%.1f -> %.1f %s; information: the median windows compare two "
           "phases of a controller life)",
           r.name.c_str(), r.growth.percent, r.growth.early, r.growth.late, r.unit.c_str());
  }
  return out;
}

SoakReport run_soak(const SoakOptions& options) {
  soak_impl::Soak soak(options);
  return soak.run();
}

}  // namespace corral::testing
