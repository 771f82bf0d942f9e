#include "controller/loops/controller_manager.h"

#include <algorithm>

#include "base/log.h"

namespace corral::loops {

struct ControllerManager::Metrics {
  explicit Metrics(metrics::Registry& r)
      : pass_seconds(r.histogram("corral_controller_loop_pass_seconds",
                                 "Duration of one pass of a control loop.", {"loop"})),
        write_errors(r.counter("corral_controller_write_errors_total",
                               "Store writes of the control loops that failed.", {"loop"})),
        bindings(r.counter("corral_scheduler_bindings_total", "VMs bound to a node.").with({})),
        unschedulable(r.counter("corral_scheduler_unschedulable_total",
                                "Scheduling attempts that found no node.")
                          .with({})),
        conflicts(r.counter("corral_scheduler_conflicts_total",
                            "Bindings refused because the VM changed meanwhile.")
                      .with({})),
        pending(
            r.gauge("corral_scheduler_pending_vms", "VMs waiting for a node (pending and parked).")
                .with({})),
        transitions(r.counter("corral_node_transitions_total", "Node health transitions written.")
                        .with({})),
        lost(r.counter("corral_vms_lost_total", "VMs marked Lost because their node died.")
                 .with({})),
        created(r.counter("corral_vmset_vms_created_total", "VMs created by VMSets.").with({})),
        deleted(r.counter("corral_vmset_vms_deleted_total", "VMs deleted by VMSets.").with({})),
        moves(r.counter("corral_moves_total",
                        "VM moves (rebalance, drain) by outcome: started, completed, cancelled.",
                        {"outcome"})),
        rebalance_rounds(r.counter("corral_rebalance_rounds_total",
                                   "Rebalance plans of a pool that started at least one move.")
                             .with({})),
        balancer_writes(r.counter("corral_balancer_status_writes_total",
                                  "Balancer statuses (endpoints) written by the endpoints loop.")
                            .with({})),
        balancer_no_endpoints(r.counter("corral_balancer_no_endpoints_total",
                                        "Times a Balancer's Ready condition turned False.")
                                  .with({})) {}

  metrics::HistogramFamily& pass_seconds;
  metrics::CounterFamily& write_errors;
  metrics::Counter& bindings;
  metrics::Counter& unschedulable;
  metrics::Counter& conflicts;
  metrics::Gauge& pending;
  metrics::Counter& transitions;
  metrics::Counter& lost;
  metrics::Counter& created;
  metrics::Counter& deleted;
  metrics::CounterFamily& moves;
  metrics::Counter& rebalance_rounds;
  metrics::Counter& balancer_writes;
  metrics::Counter& balancer_no_endpoints;
};

namespace {

// Times a pass into the histogram (real time: a measurement, not logic).
class PassTimer {
 public:
  PassTimer(metrics::HistogramFamily* family, const char* loop)
      : family_(family), loop_(loop), start_(std::chrono::steady_clock::now()) {}
  ~PassTimer() {
    if (!family_) return;
    std::chrono::duration<double> d = std::chrono::steady_clock::now() - start_;
    family_->with({loop_}).observe(d.count());
  }

 private:
  metrics::HistogramFamily* family_;
  const char* loop_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

ControllerManager::ControllerManager(store::Store& store, const Clock& clock,
                                     const heartbeat::LeaseTable& leases, PeerProber& prober,
                                     ControllerManagerOptions options)
    : clock_(clock),
      options_(std::move(options)),
      events_(store, clock, options_.events),
      writers_(options_.writer_threads),
      cache_(store),
      node_lifecycle_(store, cache_, leases, prober, events_, writers_, clock,
                      options_.node_lifecycle),
      scheduler_(store, cache_, events_, writers_, clock, options_.scheduler),
      vmsets_(store, cache_, events_, writers_, clock, options_.vmset),
      moves_(store, cache_, events_, writers_, clock,
             [this]() -> scheduler::ClusterSnapshot& { return scheduler_.snapshot(); }, options_.moves),
      endpoints_(store, cache_, events_, writers_, clock, options_.writes),
      pool_status_(store, cache_, writers_, clock, options_.writes),
      event_ttl_(store, clock, options_.event_ttl) {
  if (options_.metrics) {
    metrics_ = std::make_unique<Metrics>(*options_.metrics);
    pillars_ = std::make_unique<PillarGauges>(*options_.metrics, clock_);
  }
}

ControllerManager::~ControllerManager() { stop(); }

Result<void> ControllerManager::init() {
  if (initialized_) return Ok{};
  if (auto ok = cache_.start(); !ok) return ok;
  // After the cache synced: every node gets one full grace from here.
  node_lifecycle_.set_controller_started(clock_.steady_now());
  initialized_ = true;
  return Ok{};
}

void ControllerManager::dispatch() {
  CacheDelta delta = cache_.sync();
  if (delta.empty() && delta.vm_owners.empty()) return;
  node_lifecycle_.observe(delta);
  vmsets_.observe(delta);
  moves_.observe(delta);
  scheduler_.observe(delta);
  endpoints_.observe(delta);
  pool_status_.observe(delta);
}

void ControllerManager::run_node_lifecycle() {
  PassTimer timer(metrics_ ? &metrics_->pass_seconds : nullptr, "node-lifecycle");
  NodeLifecyclePassStats s = node_lifecycle_.run_once();
  if (!metrics_) return;
  metrics_->transitions.inc(static_cast<double>(s.transitions));
  metrics_->lost.inc(static_cast<double>(s.vms_lost));
  if (s.write_errors)
    metrics_->write_errors.with({"node-lifecycle"}).inc(static_cast<double>(s.write_errors));
}

void ControllerManager::run_vmsets() {
  PassTimer timer(metrics_ ? &metrics_->pass_seconds : nullptr, "vmset");
  VmSetPassStats s = vmsets_.run_once();
  if (!metrics_) return;
  metrics_->created.inc(static_cast<double>(s.created));
  metrics_->deleted.inc(static_cast<double>(s.deleted));
  if (s.errors) metrics_->write_errors.with({"vmset"}).inc(static_cast<double>(s.errors));
}

void ControllerManager::run_moves() {
  PassTimer timer(metrics_ ? &metrics_->pass_seconds : nullptr, "moves");
  MovePassStats s = moves_.run_once();
  if (!metrics_) return;
  if (s.started) metrics_->moves.with({"started"}).inc(static_cast<double>(s.started));
  if (s.completed) metrics_->moves.with({"completed"}).inc(static_cast<double>(s.completed));
  if (s.cancelled) metrics_->moves.with({"cancelled"}).inc(static_cast<double>(s.cancelled));
  if (s.rebalance_rounds) metrics_->rebalance_rounds.inc(static_cast<double>(s.rebalance_rounds));
  if (s.errors) metrics_->write_errors.with({"moves"}).inc(static_cast<double>(s.errors));
}

void ControllerManager::run_scheduler() {
  PassTimer timer(metrics_ ? &metrics_->pass_seconds : nullptr, "scheduler");
  SchedulerPassStats s = scheduler_.run_once();
  if (!metrics_) return;
  metrics_->bindings.inc(static_cast<double>(s.bound));
  metrics_->unschedulable.inc(static_cast<double>(s.unschedulable));
  metrics_->conflicts.inc(static_cast<double>(s.conflicts));
  metrics_->pending.set(static_cast<double>(scheduler_.pending() + scheduler_.parked()));
  if (s.write_errors)
    metrics_->write_errors.with({"scheduler"}).inc(static_cast<double>(s.write_errors));
}

void ControllerManager::run_endpoints() {
  PassTimer timer(metrics_ ? &metrics_->pass_seconds : nullptr, "endpoints");
  EndpointsPassStats s = endpoints_.run_once();
  if (!metrics_) return;
  if (s.writes) metrics_->balancer_writes.inc(static_cast<double>(s.writes));
  if (s.no_endpoints) metrics_->balancer_no_endpoints.inc(static_cast<double>(s.no_endpoints));
  if (s.errors) metrics_->write_errors.with({"endpoints"}).inc(static_cast<double>(s.errors));
}

void ControllerManager::run_pool_status() {
  PassTimer timer(metrics_ ? &metrics_->pass_seconds : nullptr, "pool-status");
  PoolStatusPassStats s = pool_status_.run_once();
  if (metrics_ && s.errors)
    metrics_->write_errors.with({"pool-status"}).inc(static_cast<double>(s.errors));
}

void ControllerManager::run_pool_status_if_due() {
  if (!pool_status_.urgent() && clock_.steady_now() < next_pool_status_) return;
  next_pool_status_ = clock_.steady_now() + options_.pool_status_period;
  run_pool_status();
  dispatch();
}

void ControllerManager::run_event_ttl_if_due() {
  if (clock_.steady_now() < event_ttl_.next_due()) return;
  PassTimer timer(metrics_ ? &metrics_->pass_seconds : nullptr, "event-ttl");
  EventTtlPassStats s = event_ttl_.run_once();
  if (metrics_ && s.errors)
    metrics_->write_errors.with({"event-ttl"}).inc(static_cast<double>(s.errors));
}

void ControllerManager::update_pillar_gauges() {
  if (pillars_) pillars_->maybe_update(cache_);
}

Result<void> ControllerManager::run_once() {
  if (auto ok = init(); !ok) return ok;
  dispatch();
  run_node_lifecycle();
  dispatch();
  run_every_pass();
  run_pool_status_if_due();
  run_event_ttl_if_due();
  update_pillar_gauges();
  return Ok{};
}

void ControllerManager::run_every_pass() {
  run_vmsets();
  dispatch();
  run_moves();
  dispatch();
  run_scheduler();
  dispatch();
  run_endpoints();
  dispatch();
}

Result<void> ControllerManager::start() {
  if (thread_.joinable()) return Ok{};
  if (auto ok = init(); !ok) return ok;
  stop_ = false;
  cache_.start_pump();
  thread_ = std::thread([this] { thread_loop(); });
  logger("loops")->info("control loops started (node monitor every {} ms, {} writer threads)",
                        options_.node_monitor_period.count(), writers_.threads());
  return Ok{};
}

void ControllerManager::stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  cache_.stop_pump();  // also wakes the loop thread
  thread_.join();
  logger("loops")->info("control loops stopped");
}

void ControllerManager::thread_loop() {
  auto next_node = clock_.steady_now();
  while (!stop_) {
    const auto now = clock_.steady_now();
    // Rounded up: rounding down would spin through the last millisecond
    // before each deadline.
    auto wait = std::min({options_.loop_tick,
                          std::chrono::ceil<std::chrono::milliseconds>(next_node - now),
                          std::chrono::ceil<std::chrono::milliseconds>(next_pool_status_ - now)});
    if (wait.count() > 0) cache_.wait_for_events(wait);
    if (stop_) break;
    dispatch();
    if (clock_.steady_now() >= next_node || node_lifecycle_.take_fresh_answer()) {
      next_node = clock_.steady_now() + options_.node_monitor_period;
      run_node_lifecycle();
      dispatch();
    }
    run_every_pass();
    run_pool_status_if_due();
    run_event_ttl_if_due();
    update_pillar_gauges();
  }
}

}  // namespace corral::loops
