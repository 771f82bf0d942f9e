#include "controller/loops/scheduler_loop.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "api/log.h"
#include "controller/loops/status_update.h"

namespace corral::loops {
namespace {

using scheduler::NodeInfo;

bool same_taints(const std::vector<Taint>& a, const std::vector<Taint>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].key != b[i].key || a[i].value != b[i].value || a[i].effect != b[i].effect)
      return false;
  }
  return true;
}

// What of a node the filters read: a change here may make room.
bool same_for_filters(const NodeInfo& a, const NodeInfo& b) {
  return a.present == b.present && a.ready == b.ready && a.unschedulable == b.unschedulable &&
         a.allocatable_cpu == b.allocatable_cpu && a.allocatable_memory == b.allocatable_memory &&
         a.labels == b.labels && same_taints(a.taints, b.taints);
}

std::string spec_key(const ObjectMeta& m) { return m.uid + ":" + std::to_string(m.generation); }

}  // namespace

SchedulerLoop::SchedulerLoop(store::Store& store, ObjectCache& cache, EventRecorder& events,
                             WriterPool& writers, const Clock& clock, SchedulerLoopOptions options)
    : store_(store),
      cache_(cache),
      events_(events),
      writers_(writers),
      clock_(clock),
      options_(std::move(options)),
      scheduler_(options_.scheduler),
      last_retry_(clock.steady_now()) {}

bool SchedulerLoop::specs_changed(const CacheDelta& delta) {
  bool changed = false;
  auto check = [&](const ObjectMeta* meta, const std::string& name,
                   std::unordered_map<std::string, std::string>& known) {
    if (!meta) {
      if (known.erase(name)) changed = true;
      return;
    }
    std::string key = spec_key(*meta);
    auto [it, inserted] = known.try_emplace(name, key);
    if (inserted || it->second != key) {
      it->second = std::move(key);
      changed = true;
    }
  };
  for (const std::string& name : delta.pools) {
    const Pool* p = cache_.pools().find(name);
    check(p ? &p->metadata : nullptr, name, pool_specs_);
  }
  for (const std::string& name : delta.vmsets) {
    const VMSet* s = cache_.vmset(name);
    check(s ? &s->metadata : nullptr, name, vmset_specs_);
  }
  return changed;
}

void SchedulerLoop::observe(const CacheDelta& delta) {
  if (delta.resynced || specs_changed(delta)) rebuild_ = true;
  if (rebuild_) return;  // the rebuild reads everything from the cache
  bool room_changed = false;
  for (const std::string& name : delta.nodes) observe_node(name, room_changed);
  for (const std::string& name : delta.vms) observe_vm(name, room_changed);
  if (room_changed) unpark_all();
}

void SchedulerLoop::observe_node(const std::string& name, bool& room_changed) {
  const Node* node = cache_.node(name);
  const NodeInfo* before = snapshot_.node(name);
  if (!node) {
    if (before && before->present) {
      snapshot_.remove_node(name);
      room_changed = true;
    }
    return;
  }
  std::optional<NodeInfo> old;
  if (before) old = *before;
  snapshot_.upsert_node(*node);
  const NodeInfo* after = snapshot_.node(name);
  if (!old || !after || !same_for_filters(*old, *after)) room_changed = true;
}

void SchedulerLoop::observe_vm(const std::string& name, bool& room_changed) {
  const NodeInfo* held_before = snapshot_.node_of_vm(name);
  const uint32_t before = held_before ? held_before->index : scheduler::kNoIndex;
  const VM* vm = cache_.vm(name);
  if (!vm) {
    snapshot_.remove_vm(name);
    pending_.erase(name);
    parked_.erase(name);
    if (before != scheduler::kNoIndex) room_changed = true;
    return;
  }
  snapshot_.upsert_vm(*vm);
  const NodeInfo* held_after = snapshot_.node_of_vm(name);
  const uint32_t after = held_after ? held_after->index : scheduler::kNoIndex;
  if (before != scheduler::kNoIndex && before != after) room_changed = true;
  if (scheduler::needs_placement(*vm)) {
    if (!parked_.count(name)) pending_.insert(name);
  } else {
    pending_.erase(name);
    parked_.erase(name);
  }
}

void SchedulerLoop::unpark_all() {
  for (const std::string& name : parked_) pending_.insert(name);
  parked_.clear();
}

void SchedulerLoop::rebuild() {
  snapshot_ = scheduler::ClusterSnapshot::build(cache_.nodes().items(), cache_.pools().items(),
                                                cache_.vmsets().items(), cache_.vms().items());
  pool_specs_.clear();
  vmset_specs_.clear();
  for (const Pool& p : cache_.pools().items()) pool_specs_[p.metadata.name] = spec_key(p.metadata);
  for (const VMSet& s : cache_.vmsets().items())
    vmset_specs_[s.metadata.name] = spec_key(s.metadata);
  pending_.clear();
  parked_.clear();
  for (const VM& vm : cache_.vms().items()) {
    if (scheduler::needs_placement(vm)) pending_.insert(vm.metadata.name);
  }
  rebuild_ = false;
}

SchedulerPassStats SchedulerLoop::run_once() {
  SchedulerPassStats stats;
  if (rebuild_) {
    rebuild();
    stats.rebuilt = true;
  }
  const auto now = clock_.steady_now();
  if (now - last_retry_ >= options_.unschedulable_retry) {
    unpark_all();
    last_retry_ = now;
  }
  if (pending_.empty()) return stats;
  const auto started = std::chrono::steady_clock::now();  // for the log line only

  std::vector<const VM*> batch;
  batch.reserve(pending_.size());
  for (auto it = pending_.begin(); it != pending_.end();) {
    const VM* vm = cache_.vm(*it);
    if (!vm || !scheduler::needs_placement(*vm)) {
      it = pending_.erase(it);
      continue;
    }
    batch.push_back(vm);
    ++it;
  }
  if (batch.size() > options_.max_batch) {
    auto first = [](const VM* a, const VM* b) {
      if (a->spec.priority != b->spec.priority) return a->spec.priority > b->spec.priority;
      return a->metadata.name < b->metadata.name;
    };
    std::partial_sort(batch.begin(), batch.begin() + options_.max_batch, batch.end(), first);
    batch.resize(options_.max_batch);
  }
  std::vector<scheduler::VmRequest> requests;
  requests.reserve(batch.size());
  std::unordered_map<std::string_view, const VM*> by_name;
  for (const VM* vm : batch) {
    requests.push_back(scheduler::make_request(*vm, snapshot_));
    by_name.emplace(vm->metadata.name, vm);
  }
  stats.attempted = requests.size();
  const std::vector<scheduler::Decision> decisions =
      scheduler_.schedule_batch(snapshot_, std::move(requests));
  const auto decided = std::chrono::steady_clock::now();

  // One task per decision; each owns a copy of its VM (the cache is not
  // touched until every write is back).
  struct Task {
    const scheduler::Decision* decision = nullptr;
    VM vm;  // as cached when scheduled
    bool message_changed = false;
    Result<store::RecordPtr> result = store::RecordPtr{};
    bool spec_written = false;  // bind: the spec update went through
    VM written;                 // the VM as stored after the task
    int64_t revision = 0;
  };
  std::vector<Task> tasks;
  tasks.reserve(decisions.size());
  for (const scheduler::Decision& d : decisions) {
    auto it = by_name.find(d.vm);
    if (it == by_name.end()) continue;
    const VM& vm = *it->second;
    if (!d.bound()) {
      ++stats.unschedulable;
      parked_.insert(d.vm);
      pending_.erase(d.vm);
      // Only a new message is worth a write (and an Event).
      const bool phase_ok = vm.status.phase == "Pending" || vm.status.phase == "Lost";
      if (phase_ok && vm.status.message == d.message) continue;
    }
    Task t;
    t.decision = &d;
    t.vm = vm;
    t.message_changed = vm.status.message != d.message;
    tasks.push_back(std::move(t));
  }

  std::vector<std::function<void()>> fns;
  fns.reserve(tasks.size());
  for (Task& task : tasks) {
    if (task.decision->bound()) {
      fns.push_back([this, &task] {
        const scheduler::Decision& d = *task.decision;
        VM next = task.vm;
        next.spec.nodeName = d.node;
        next.spec.epoch = d.epoch;
        auto updated = store_.update(VM::kKind, to_json(next));
        if (!updated) {
          task.result = updated.take_error();
          return;
        }
        task.spec_written = true;
        task.revision = (*updated)->revision;
        next.metadata.resourceVersion = std::to_string(task.revision);
        next.metadata.generation = (*updated)->generation;
        task.written = next;
        task.result = update_status_rmw<VM>(
            store_, std::move(next),
            [&](VM& vm) {
              // On a re-read: moved by someone else since → not ours to mark.
              if (vm.spec.nodeName != d.node || vm.spec.epoch != d.epoch) return false;
              vm.status.phase = "Scheduled";
              vm.status.message.clear();
              vm.status.nodeName.clear();
              vm.status.epoch = 0;
              return true;
            },
            &task.written);
        if (task.result && *task.result) task.revision = (*task.result)->revision;
      });
    } else {
      fns.push_back([this, &task] {
        const scheduler::Decision& d = *task.decision;
        task.result = update_status_rmw<VM>(
            store_, task.vm,
            [&](VM& vm) {
              if (!scheduler::needs_placement(vm)) return false;
              // A Lost VM stays Lost (that is what keeps it pending and off
              // its dead node's heartbeat answer); others are Pending.
              if (vm.status.phase != "Lost") vm.status.phase = "Pending";
              vm.status.message = d.message;
              return true;
            },
            &task.written);
        if (!task.result || !*task.result) return;
        task.revision = (*task.result)->revision;
        if (!task.message_changed) return;
        auto ev = events_.record({VM::kKind, d.vm, task.vm.metadata.uid}, "Warning",
                                 "FailedScheduling", d.message);
        if (!ev) logger("scheduler")->warn("event for vm/{}: {}", d.vm, ev.error().message);
      });
    }
  }
  writers_.run_all(std::move(fns));

  // Apply the outcomes on this thread.
  auto log = logger("scheduler");
  for (Task& task : tasks) {
    const scheduler::Decision& d = *task.decision;
    if (!d.bound()) {
      if (!task.result) {
        ++stats.write_errors;
        log->warn("vm/{}: cannot write why it is unschedulable: {}", d.vm,
                  task.result.error().message);
      } else if (*task.result) {
        cache_.apply_vm(std::move(task.written), task.revision);
      }
      continue;
    }
    if (task.spec_written) {
      // Bound. Even if the status write failed, the binding stands (epochs
      // fence any second placement a stale status might cause).
      cache_.apply_vm(std::move(task.written), task.revision);
      pending_.erase(d.vm);
      ++stats.bound;
      if (notifier_) {
        if (const Node* node = cache_.node(d.node)) notifier_->notify(d.node, node->status.address);
      }
      log->debug("vm/{} bound to node/{} (epoch {}, score {:.3f})", d.vm, d.node, d.epoch, d.score);
      if (!task.result) {
        ++stats.write_errors;
        log->warn("vm/{} bound to node/{}, but its status was not written: {}", d.vm, d.node,
                  task.result.error().message);
      }
      continue;
    }
    // The binding was refused: the snapshot's bind must be undone.
    const Error& err = task.result.error();
    if (err.code == ErrorCode::kNotFound) {
      snapshot_.remove_vm(d.vm);
      pending_.erase(d.vm);
      continue;
    }
    if (err.code == ErrorCode::kConflict) {
      ++stats.conflicts;
      log->debug("vm/{}: changed while being scheduled; re-reading", d.vm);
      if (auto fresh = store_.get(VM::kKind, d.vm); fresh) cache_.apply(*fresh);
    } else {
      ++stats.write_errors;
      log->warn("vm/{}: binding to node/{} failed: {}", d.vm, d.node, err.message);
    }
    if (const VM* vm = cache_.vm(d.vm)) {
      snapshot_.upsert_vm(*vm);
    } else {
      snapshot_.remove_vm(d.vm);
    }
  }
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const auto done = std::chrono::steady_clock::now();
  if (stats.bound || stats.conflicts || stats.write_errors) {
    log->info(
        "pass: {} bound, {} unschedulable, {} conflicts, {} errors of {} in {} ms "
        "({} ms deciding, {} ms writing)",
        stats.bound, stats.unschedulable, stats.conflicts, stats.write_errors, stats.attempted,
        duration_cast<milliseconds>(done - started).count(),
        duration_cast<milliseconds>(decided - started).count(),
        duration_cast<milliseconds>(done - decided).count());
  }
  return stats;
}

}  // namespace corral::loops
