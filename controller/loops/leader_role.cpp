#include "controller/loops/leader_role.h"

#include "api/heartbeat.h"
#include "base/log.h"

namespace corral::loops {

namespace {

etcd::EtcdOptions election_client_options(store::EtcdStore& store,
                                          const LeaderRoleOptions& options) {
  etcd::EtcdOptions o;
  o.endpoints = store.client().options().endpoints;
  o.connect_timeout = options.connect_timeout;
  o.request_timeout = options.request_timeout;
  o.observer = options.observer;
  return o;
}

// The leader key's value: {"name", "apiURL"}; empty strings when unreadable.
std::pair<std::string, std::string> who_leads(const etcd::Leadership& l) {
  Json who = Json::parse(l.leader_value, nullptr, /*allow_exceptions=*/false);
  if (!who.is_object()) return {"", ""};
  return {who.value("name", ""), who.value("apiURL", "")};
}

}  // namespace

LeaderRole::LeaderRole(store::EtcdStore& store, LeaderRoleOptions options)
    : store_(store),
      options_(std::move(options)),
      client_(election_client_options(store, options_)) {}

LeaderRole::~LeaderRole() { stop(); }

store::FenceSource LeaderRole::fence_source() const {
  return [this]() -> std::optional<etcd::Compare> {
    etcd::LeaderElector* elector = running_.load();
    return elector ? elector->fence() : std::nullopt;
  };
}

bool LeaderRole::leading() const {
  etcd::LeaderElector* elector = running_.load();
  return elector && elector->current().leading;
}

Result<void> LeaderRole::gate_heartbeat() const {
  etcd::LeaderElector* elector = running_.load();
  etcd::Leadership l = elector ? elector->current() : etcd::Leadership{};
  if (l.leading) return Ok{};
  auto [name, url] = who_leads(l);
  return not_the_leader(name, url);
}

Json LeaderRole::info() const {
  etcd::LeaderElector* elector = running_.load();
  etcd::Leadership l = elector ? elector->current() : etcd::Leadership{};
  auto [name, url] = who_leads(l);
  std::lock_guard lock(mu_);
  return Json{{"self", name_}, {"leading", l.leading}, {"leader", name},
              {"leaderURL", url},  {"term", l.term}};
}

void LeaderRole::start(const std::string& name, const std::string& api_url, LeaderLoops* loops,
                       metrics::Registry& registry) {
  {
    std::lock_guard lock(mu_);
    name_ = name;
  }
  if (!options_.campaign) {
    logger("controller")->warn(
        "no control loops here: this controller does not campaign for leadership");
    return;
  }
  auto& leading_gauge =
      registry
          .gauge("corral_controller_leading",
                 "1 while this controller leads (runs the loops, takes heartbeats), else 0.")
          .with({});
  auto& changes = registry
                      .counter("corral_controller_leader_changes_total",
                               "Changes of leader this controller has seen (its own included).")
                      .with({});
  etcd::ElectionOptions election;
  election.key = options_.key;
  election.value = Json{{"name", name}, {"apiURL", api_url}}.dump();
  elector_ = std::make_unique<etcd::LeaderElector>(
      client_, election,
      [loops, &leading_gauge, &changes, last_term = int64_t{-1}](const etcd::Leadership& l) mutable {
        leading_gauge.set(l.leading ? 1 : 0);
        if (l.term != last_term) {
          changes.inc();
          last_term = l.term;
          logger("controller")->info("leader: {} (term {}){}",
                                     l.leader_value.empty() ? "none" : l.leader_value, l.term,
                                     l.leading ? ", this controller" : "");
        }
        if (loops) loops->set_leading(l.leading);
      });
  running_ = elector_.get();
  elector_->start();
  maintenance_ = std::make_unique<store::EtcdMaintenance>(
      store_, options_.maintenance, [this] { return leading(); }, fence_source());
}

void LeaderRole::stop() {
  maintenance_.reset();
  if (elector_) elector_->stop();
  running_ = nullptr;
}

}  // namespace corral::loops
