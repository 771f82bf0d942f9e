#include "controller/loops/scheduler_loop.h"

#include <algorithm>
#include <functional>
#include <thread>
#include <vector>

#include "controller/store/batch_write.h"
#include "base/log.h"
#include "controller/loops/status_update.h"
#include "controller/loops/write_batch.h"

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

SchedulerLoop::SchedulerLoop(store::Store& store, ObjectCache& cache,
                             events::EventRecorder& events, WriterPool& writers,
                             const Clock& clock, SchedulerLoopOptions options)
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
    // A set never seen joins the snapshot as it is (a build per new VMSet
    // costs O(VMs): 300,000 of them); its VMs already known are re-counted.
    if (s && !vmset_specs_.count(name) && snapshot_.add_vmset(*s)) {
      vmset_specs_.emplace(name, spec_key(s->metadata));
      for (const VM* vm : cache_.vms_for_vmset(*s)) snapshot_.upsert_vm(*vm);
      continue;
    }
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

void SchedulerLoop::write_batches(
    size_t begin, size_t end, const std::function<store::BatchWrite(size_t)>& make,
    const std::function<void(size_t, Result<store::RecordPtr>)>& done) {
  std::vector<std::function<void()>> chunks;
  for (size_t first = begin; first < end; first += options_.write_batch) {
    const size_t last = std::min(end, first + options_.write_batch);
    chunks.push_back([&, first, last] {
      std::vector<store::BatchWrite> writes;
      writes.reserve(last - first);
      for (size_t i = first; i < last; ++i) writes.push_back(make(i));
      std::vector<Result<store::RecordPtr>> results = store_.write_batch(std::move(writes));
      for (size_t i = first; i < last; ++i) done(i, std::move(results[i - first]));
    });
  }
  writers_.run_all(std::move(chunks));
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

  const std::vector<const VM*> batch = take_batch();
  stats.attempted = batch.size();
  Pass pass;
  decide_and_write(batch, pass, stats);

  // Apply the outcomes on this thread.
  std::vector<events::EventWrite> event_writes;
  for (Task& task : pass.tasks) {
    if (task.decision->bound()) {
      apply_binding(task, stats, event_writes);
    } else {
      apply_unschedulable(task, stats, event_writes);
    }
  }
  // The pass's Events (a Scheduled per binding): a few store commits.
  record_events(events_, writers_, std::move(event_writes));
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const auto done = std::chrono::steady_clock::now();
  if (stats.bound || stats.conflicts || stats.write_errors) {
    logger("scheduler")->info(
        "pass: {} bound, {} unschedulable, {} conflicts, {} errors of {} in {} ms "
        "({} ms of it deciding, overlapped with writing)",
        stats.bound, stats.unschedulable, stats.conflicts, stats.write_errors, stats.attempted,
        duration_cast<milliseconds>(done - started).count(),
        duration_cast<milliseconds>(pass.deciding).count());
  }
  return stats;
}

std::vector<const VM*> SchedulerLoop::take_batch() {
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
  // Highest priority first: the slices are decided in this order.
  return scheduler::order_batch(std::move(batch), options_.max_batch);
}

void SchedulerLoop::decide_and_write(const std::vector<const VM*>& batch, Pass& pass,
                                     SchedulerPassStats& stats) {
  // One write per decision, in store batches: a binding writes spec
  // (nodeName, epoch) and status (Scheduled) together; an unschedulable VM
  // its new message. Decided in slices, each slice written while the next is
  // decided: deciding is this thread's work, writing the writer pool's, and
  // the two overlap.
  pass.tasks.reserve(batch.size());  // never reallocated: a slice's writes read it meanwhile
  auto write_tasks = [this, &pass](size_t first, size_t last) {
    write_batches(
        first, last,
        [&pass](size_t i) {
          const Task& t = pass.tasks[i];
          return store::BatchWrite{t.outcome.write == scheduler::WriteKind::kSpecAndStatus
                                       ? store::BatchWrite::Part::kSpecAndStatus
                                       : store::BatchWrite::Part::kStatus,
                                   VM::kKind, to_json(t.outcome.next)};
        },
        [&pass](size_t i, Result<store::RecordPtr> r) { pass.tasks[i].result = std::move(r); });
  };
  std::thread writing;  // the previous slice's writes
  for (size_t from = 0; from < batch.size(); from += options_.decide_slice) {
    const size_t to = std::min(batch.size(), from + options_.decide_slice);
    std::vector<scheduler::VmRequest> requests;
    requests.reserve(to - from);
    std::unordered_map<std::string_view, const VM*> by_name;
    for (size_t i = from; i < to; ++i) {
      requests.push_back(scheduler::make_request(*batch[i], snapshot_));
      by_name.emplace(batch[i]->metadata.name, batch[i]);
    }
    const auto slice_started = std::chrono::steady_clock::now();
    const size_t first_decision = pass.decisions.size();
    for (scheduler::Decision& d : scheduler_.schedule_batch(snapshot_, std::move(requests)))
      pass.decisions.push_back(std::move(d));
    pass.deciding += std::chrono::steady_clock::now() - slice_started;

    const size_t first_task = pass.tasks.size();
    add_tasks(pass, first_decision, by_name, stats);
    if (writing.joinable()) writing.join();
    if (to == batch.size()) {
      write_tasks(first_task, pass.tasks.size());  // the last slice: no one to overlap with
    } else {
      writing = std::thread(write_tasks, first_task, pass.tasks.size());
    }
  }
  if (writing.joinable()) writing.join();
}

void SchedulerLoop::add_tasks(Pass& pass, size_t first_decision,
                              const std::unordered_map<std::string_view, const VM*>& by_name,
                              SchedulerPassStats& stats) {
  for (size_t k = first_decision; k < pass.decisions.size(); ++k) {
    const scheduler::Decision& d = pass.decisions[k];
    auto it = by_name.find(d.vm);
    if (it == by_name.end()) continue;
    scheduler::DecisionOutcome outcome = scheduler::decision_outcome(*it->second, d);
    if (outcome.park) {
      ++stats.unschedulable;
      parked_.insert(d.vm);
      pending_.erase(d.vm);
    }
    if (outcome.write == scheduler::WriteKind::kNone) continue;
    pass.tasks.push_back(Task{&d, std::move(outcome)});
  }
}

void SchedulerLoop::apply_unschedulable(Task& task, SchedulerPassStats& stats,
                                        std::vector<events::EventWrite>& events) {
  const scheduler::Decision& d = *task.decision;
  VM& next = task.outcome.next;
  if (task.result) {
    const std::string uid = next.metadata.uid;
    if (*task.result) {
      const store::Record& stored = **task.result;
      next.metadata.resourceVersion = std::to_string(stored.revision);
      next.metadata.generation = stored.generation;
      cache_.apply_vm(std::move(next), stored.revision);
    }
    if (const auto& e = task.outcome.event) {
      events.push_back({ObjectReference{VM::kKind, d.vm, uid}, e->type, e->reason, e->message, ""});
    }
    return;
  }
  const Error& err = task.result.error();
  if (err.code == ErrorCode::kConflict) {
    // Someone else wrote it meanwhile: re-read, and write the reason next pass.
    if (auto fresh = store_.get(VM::kKind, d.vm); fresh) cache_.apply(*fresh);
    parked_.erase(d.vm);
    pending_.insert(d.vm);
  } else if (err.code != ErrorCode::kNotFound) {
    ++stats.write_errors;
    logger("scheduler")->warn("vm/{}: cannot write why it is unschedulable: {}", d.vm,
                              err.message);
  }
}

void SchedulerLoop::apply_binding(Task& task, SchedulerPassStats& stats,
                                  std::vector<events::EventWrite>& events) {
  const scheduler::Decision& d = *task.decision;
  auto log = logger("scheduler");
  if (task.result) {
    if (const auto& e = task.outcome.event) {
      events.push_back({ObjectReference{VM::kKind, d.vm, task.outcome.next.metadata.uid}, e->type,
                        e->reason, e->message, d.node});
    }
    if (*task.result) {
      const store::Record& stored = **task.result;
      VM& next = task.outcome.next;
      next.metadata.resourceVersion = std::to_string(stored.revision);
      next.metadata.generation = stored.generation;
      cache_.apply_vm(std::move(next), stored.revision);
    }
    pending_.erase(d.vm);
    ++stats.bound;
    if (notifier_) {
      if (const Node* node = cache_.node(d.node)) notifier_->notify(d.node, node->status.address);
    }
    log->debug("vm/{} bound to node/{} (epoch {}, score {:.3f})", d.vm, d.node, d.epoch, d.score);
    return;
  }
  // The binding was refused: the snapshot's bind must be undone.
  const Error& err = task.result.error();
  if (err.code == ErrorCode::kNotFound) {
    snapshot_.remove_vm(d.vm);
    pending_.erase(d.vm);
    return;
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

}  // namespace corral::loops
