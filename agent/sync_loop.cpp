#include "agent/sync_loop.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "agent/beat_schedule.h"
#include "agent/sync_internal.h"

namespace corral::agent {

using sync_internal::agent_log;
using sync_internal::format_delay;
using sync_internal::find_instance;
using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

namespace {

std::string new_holder_identity(const std::string& node, uint64_t seed) {
  std::mt19937 random(static_cast<std::mt19937::result_type>(seed ^ (seed >> 32)));
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(random()));
  return node + "/" + std::to_string(::getpid()) + "-" + hex;
}

}  // namespace

SyncLoop::SyncLoop(ControlPlane& control_plane, Driver& driver, MetricsSource& source,
                   const Clock& clock, SyncOptions options)
    : control_plane_(control_plane),
      driver_(driver),
      clock_(clock),
      options_(std::move(options)),
      host_(source, options_.host),
      lease_grace_(options_.default_lease_grace),
      fencer_(driver, clock, options_.fence_lease) {
  if (options_.holder_identity.empty()) options_.holder_identity = new_holder_identity(options_.node, options_.seed);
  options_.full_report_every = std::max(1, options_.full_report_every);
  report_context_.vm_host = options_.vm_host;
  metrics::Registry* reg = options_.metrics;
  if (!reg) {
    own_metrics_ = std::make_unique<metrics::Registry>();
    reg = own_metrics_.get();
  }
  heartbeats_ = &reg->counter("corral_agent_heartbeats_total", "Heartbeats the controller answered.")
                     .with({});
  heartbeat_failures_ = &reg->counter("corral_agent_heartbeat_failures_total",
                                      "Heartbeats that failed, by reason.", {"reason"});
  heartbeat_seconds_ = &reg->histogram("corral_agent_heartbeat_duration_seconds",
                                       "Heartbeat round-trip time (answered or not).")
                            .with({});
  vms_running_ = &reg->gauge("corral_agent_vms_running", "VMs running on this node.").with({});
  restarts_ = &reg->counter("corral_agent_vm_restarts_total", "VM restarts by the agent.").with({});
}

SyncLoop::~SyncLoop() = default;

void SyncLoop::poke() {
  poked_ = true;
  std::lock_guard lock(wake_mu_);
  wake_.notify_all();
}

void SyncLoop::run(std::stop_token stop) {
  // Fencing runs beside the rounds: a heartbeat call, a slow stop of a stale
  // copy or a converge cannot delay it (agent/fence/fencer.h).
  std::jthread fence_thread([this](std::stop_token s) { fencer_.run(s); });
  SteadyTime next = clock_.steady_now();
  while (!stop.stop_requested()) {
    SteadyTime now = clock_.steady_now();
    if (now >= next || poked_) {
      const bool on_schedule = now >= next;
      run_once();
      next = next_round(next, clock_.steady_now(), on_schedule, options_.heartbeat_interval);
    } else {
      fence_if_due(now);  // woken for the fence deadline, between rounds
    }
    // The fence deadline may fall between two rounds: wake for it rather than
    // up to a whole interval late.
    SteadyTime wake = next;
    if (auto deadline = fence_deadline(); deadline && *deadline < wake) wake = *deadline;
    now = clock_.steady_now();
    std::unique_lock lock(wake_mu_);
    wake_.wait_for(lock, stop, std::max(wake - now, SteadyTime::duration::zero()),
                   [this] { return poked_.load(); });
  }
  announce_restart();
  write_state_if_changed();
}

void SyncLoop::announce_restart() {
  // Nothing to keep before the first answer, nor while another agent holds
  // the node; a host whose capacity is unknown could not beat at all.
  if (options_.restart_window.count() <= 0 || !has_answer_ || conflicted_ ||
      !host_.has_capacity())
    return;
  HeartbeatRequest request = host_request();
  request.restartWindowSeconds = static_cast<int32_t>(std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(options_.restart_window).count()));
  auto answer = control_plane_.heartbeat(options_.node, request);
  if (!answer) {
    agent_log()->warn("node/{}: could not tell the controller this is a restart ({}); it judges "
                      "the node by its lease",
                      options_.node, answer.error().message);
    return;
  }
  agent_log()->info("node/{}: told the controller this is a restart: its VMs stay for up to {}",
                    options_.node, format_delay(options_.restart_window));
}

HeartbeatRequest SyncLoop::host_request() const {
  HeartbeatRequest request;
  request.holderIdentity = options_.holder_identity;
  request.time = format_time(clock_.now());
  request.labels = options_.labels;
  request.capacity = host_.capacity();
  request.allocatable = host_.allocatable();
  request.usage = host_.usage();
  request.address = options_.address;
  request.driver = driver_.name();
  request.agentVersion = options_.agent_version;
  return request;
}

ResourceList SyncLoop::simulated_host_use() {
  int64_t cpu = 0, memory = 0;
  for (const InstanceStatus& i : driver_.list()) {
    if (i.state != InstanceState::kRunning) continue;
    if (auto stats = driver_.stats(i.name)) {
      cpu += stats->cpu_milli;
      memory += stats->memory_bytes;
    }
  }
  ResourceList use;
  use.cpu = Quantity::from_milli(cpu);
  use.memory = Quantity::from_bytes(memory);
  return use;
}

void SyncLoop::run_once() {
  SteadyTime now = clock_.steady_now();
  if (!recovered_) recover();
  if (options_.simulated_host) {
    host_.sample_simulated(simulated_host_use(), now);
  } else {
    host_.sample(now);
  }
  // A poke asks for a beat now — unless the controller is failing and the
  // back-off says wait.
  const bool poked = poked_.exchange(false) && last_heartbeat_ok_;
  // Fence before the heartbeat too: it may block for its whole timeout.
  fence_if_due(now);
  if (poked || due(next_heartbeat_, now)) heartbeat(now);
  fence_if_due(clock_.steady_now());
  // Before the first answer nothing is known to converge to (adopted VMs are
  // kept as they are); while another agent holds the node nothing is touched.
  if (has_answer_ && !conflicted_) {
    converge(now);
    // Recorded before reported: once the controller hears a VM runs here, a
    // kill -9 of this agent must not lose the record a restarted agent needs
    // to adopt (or stop) that VM.
    write_state_if_changed();
    // A VM that just started, stopped or failed is reported at once rather
    // than one interval later: during a fail-over that interval is on the
    // clock (kill → replacement Running). At most one extra beat per round.
    if (last_heartbeat_ok_ && (full_report_pending_ || phase_changed_since_ack())) heartbeat(now);
  }
  write_state_if_changed();
}

// What a tracked VM's report describes: its running copy of this binding's
// epoch (a copy of another epoch is about to be stopped; it is not this
// binding), else a start the driver refused, else nothing.
const InstanceStatus* SyncLoop::reported_instance(const TrackedVm& vm,
                                                  const std::vector<InstanceStatus>& instances) {
  const InstanceStatus* instance = find_instance(instances, vm.binding.name);
  if (instance && instance->epoch != vm.binding.epoch) instance = nullptr;
  if (!instance && vm.refused_start) instance = &*vm.refused_start;
  return instance;
}

bool SyncLoop::phase_changed_since_ack() {
  auto instances = driver_.list();
  for (const auto& [name, vm] : tracked_) {
    auto acked = acked_.find(name);
    if (acked == acked_.end()) return true;
    if (phase_of(vm, reported_instance(vm, instances)) != acked->second.phase) return true;
  }
  return false;
}

// ---- heartbeat -------------------------------------------------------------------

std::vector<VmReport> SyncLoop::current_reports() {
  auto instances = driver_.list();
  std::vector<VmReport> reports;
  for (const auto& [name, vm] : tracked_) {
    const InstanceStatus* instance = reported_instance(vm, instances);
    std::optional<InstanceStats> stats;
    if (instance && instance->state == InstanceState::kRunning) {
      if (auto s = driver_.stats(name); s) stats = *s;
    }
    reports.push_back(make_report(vm, instance, stats ? &*stats : nullptr, report_context_));
  }
  return reports;
}

void SyncLoop::heartbeat(SteadyTime now) {
  if (!host_.has_capacity()) {
    agent_log()->error("node/{}: cannot heartbeat: host capacity unknown ({}); pass --cpu and --memory",
                 options_.node, host_.capacity_error());
    on_heartbeat_error(make_error(ErrorCode::kInternal, "capacity unknown"), now);
    return;
  }
  HeartbeatRequest request = host_request();
  // The first beat after an outage (or of a restarted agent that adopted
  // VMs) reports no VM: the bindings may have moved while the controller
  // could not hear us, so its answer is converged to first — stale copies
  // stopped — and the full report follows at once in the same round
  // (full_report_pending_). A stale copy is never reported as running.
  const bool withhold = !last_heartbeat_ok_ && !tracked_.empty();
  std::vector<VmReport> reports;
  if (!withhold) reports = current_reports();
  request.fullReport = !withhold && (!last_heartbeat_ok_ || full_report_pending_ ||
                                     heartbeats_attempted_ % options_.full_report_every == 0);
  ++heartbeats_attempted_;
  for (const auto& r : reports) {
    auto acked = acked_.find(r.name);
    if (request.fullReport || acked == acked_.end() ||
        report_changed(acked->second, r, options_.usage_report_change))
      request.vms.push_back(r);
  }

  SteadyTime sent = clock_.steady_now();
  auto answer = control_plane_.heartbeat(options_.node, request);
  heartbeat_seconds_->observe(std::chrono::duration<double>(clock_.steady_now() - sent).count());
  if (!answer) {
    on_heartbeat_error(answer.error(), now);
    return;
  }
  heartbeats_->inc();
  // The controller renewed the lease no earlier than `sent`.
  last_ack_sent_ = sent;
  if (answer->leaseDurationSeconds > 0)
    lease_grace_ = std::chrono::seconds(answer->leaseDurationSeconds);
  if (fencer_.renew(sent, lease_grace_)) {
    agent_log()->warn(
        "node/{}: lease renewed again after self-fencing; selfFence VMs still bound here at the "
        "same epoch start again after one more answer, re-placed ones stay stopped",
        options_.node);
    fence_lifted_at_ = sent;
  }

  // What was sent is now what the controller knows; VMs no longer reported are
  // forgotten, so that one coming back is reported again.
  if (!withhold) {
    std::map<std::string, VmReport> acked;
    for (const auto& r : reports) {
      if (auto old = acked_.find(r.name); old != acked_.end()) acked[r.name] = old->second;
    }
    for (const auto& r : request.vms) acked[r.name] = r;
    acked_ = std::move(acked);
  }
  full_report_pending_ = withhold;

  desired_.clear();
  for (auto& vm : answer->vms) desired_[vm.name] = std::move(vm);
  if (!has_answer_)
    agent_log()->info("node/{}: registered as {}; {} VMs bound here", options_.node,
                options_.holder_identity, desired_.size());
  if (conflicted_) agent_log()->warn("node/{}: the controller accepts this agent again", options_.node);
  if (retry_delay_.count() > 0)
    agent_log()->info("node/{}: controller answered again; full report sent", options_.node);
  has_answer_ = true;
  conflicted_ = false;
  last_heartbeat_ok_ = true;
  retry_delay_ = milliseconds{0};
  next_heartbeat_ = now + options_.heartbeat_interval;
}

// ---- self-fencing ----------------------------------------------------------------

std::optional<SteadyTime> SyncLoop::fence_deadline() const { return fencer_.deadline(); }

void SyncLoop::update_guarded() {
  std::set<std::string> names;
  for (const auto& [name, vm] : desired_)
    if (vm.fencing == kSelfFence) names.insert(name);
  for (const auto& [name, vm] : tracked_)
    if (vm.binding.fencing == kSelfFence) names.insert(name);
  fencer_.set_guarded(std::move(names));
}

void SyncLoop::fence_if_due(SteadyTime now) {
  fencer_.fence_if_due(now);
  if (!fencer_.fenced()) return;
  const std::string why = fencer_.reason();
  for (auto& [name, vm] : tracked_) {
    if (vm.binding.fencing != kSelfFence || vm.fenced) continue;
    vm.fenced = true;
    vm.restart_at.reset();
    vm.message = "stopped by self-fencing: " + why;
  }
}

void SyncLoop::on_heartbeat_error(const Error& error, SteadyTime now) {
  last_heartbeat_ok_ = false;
  retry_delay_ = retry_delay_.count() == 0 ? options_.heartbeat_interval
                                           : std::min(retry_delay_ * 2, options_.max_retry_interval);
  next_heartbeat_ = now + retry_delay_;
  const std::string retry = "retrying in " + format_delay(retry_delay_);
  switch (error.code) {
    case ErrorCode::kConflict:
    case ErrorCode::kAlreadyExists:
      conflicted_ = true;
      heartbeat_failures_->with({"conflict"}).inc();
      agent_log()->error(
          "node/{}: REFUSED: another live agent holds this node ({}). This agent ({}) starts "
          "nothing until the controller accepts it; {}",
          options_.node, error.message, options_.holder_identity, retry);
      return;
    case ErrorCode::kInvalid:
      heartbeat_failures_->with({"invalid"}).inc();
      agent_log()->error("node/{}: heartbeat refused as invalid, a bug in corral-agent: {}; {}",
                   options_.node, error.to_string(), retry);
      return;
    case ErrorCode::kUnavailable:
    case ErrorCode::kTimeout:
      heartbeat_failures_->with({"unreachable"}).inc();
      agent_log()->warn("node/{}: controller unreachable: {}; keeping {} VMs running, {}", options_.node,
                  error.message, tracked_.size(), retry);
      return;
    default:
      heartbeat_failures_->with({"error"}).inc();
      agent_log()->error("node/{}: heartbeat failed: {}; {}", options_.node, error.to_string(), retry);
      return;
  }
}

}  // namespace corral::agent
