#include "controller/loops/endpoints_loop.h"

#include <deque>
#include <vector>

#include "api/kinds.h"
#include "base/log.h"
#include "controller/loops/status_update.h"
#include "controller/reconcile/endpoints.h"

namespace corral::loops {
namespace {

bool ready_is_false(const BalancerStatus& st) {
  const Condition* c = reconcile::balancer_ready_condition(st);
  return c && c->status == condition_status::kFalse;
}

}  // namespace

EndpointsLoop::EndpointsLoop(store::Store& store, ObjectCache& cache,
                             events::EventRecorder& events, WriterPool& writers,
                             const Clock& clock, WriteBatchOptions writes)
    : store_(store),
      cache_(cache),
      events_(events),
      clock_(clock),
      writes_(writers, clock, "loops", std::move(writes)) {}

void EndpointsLoop::observe(const CacheDelta& delta) {
  if (delta.resynced || !delta.balancers.empty() || !delta.vms.empty() || !delta.nodes.empty())
    dirty_ = true;
}

EndpointsPassStats EndpointsLoop::run_once() {
  EndpointsPassStats stats;
  const bool retry_due = retry_at_ && clock_.steady_now() >= *retry_at_;
  if (!dirty_ && !retry_due) return stats;
  dirty_ = false;
  const auto now = clock_.now();
  const std::vector<VM>& vms = cache_.vms().items();
  const std::vector<Node>& nodes = cache_.nodes().items();
  struct Change {
    Balancer cached;  // what the Event compares with
    Balancer written;
  };
  std::deque<Change> changes;  // built in place: elements never move
  std::vector<KeyedWrite> writes;
  for (const Balancer& b : cache_.balancers().items()) {
    ++stats.balancers;
    BalancerStatus st = reconcile::compute_balancer_status(b, vms, nodes, now);
    if (same_json(st, b.status)) continue;
    Change& c = changes.emplace_back(Change{b, {}});
    KeyedWrite w;
    w.key = w.what = "lb/" + b.metadata.name + " status";
    w.not_found_is_done = true;  // gone: nothing to publish
    // The writers only read the cache (the owner thread waits in run()).
    w.write = [&, now, c = &c] {
      return update_status_rmw<Balancer>(
          store_, c->cached,
          [&](Balancer& fresh) {
            // On the fresh copy after a 409: the data plane's new report is kept.
            fresh.status = reconcile::compute_balancer_status(fresh, vms, nodes, now);
            return true;
          },
          &c->written);
    };
    writes.push_back(std::move(w));
  }
  writes_.run(writes, WriteBatch::Unlisted::kForget);  // every Balancer was looked at
  retry_at_ = writes_.next_due();

  for (size_t i = 0; i < writes.size(); ++i) {
    const KeyedWrite& w = writes[i];
    if (w.outcome == WriteOutcome::kRetry) dirty_ = true;  // recompute on the fresh copy
    if (w.outcome == WriteOutcome::kFailed) ++stats.errors;
    if (w.outcome != WriteOutcome::kWritten || !w.record) continue;
    ++stats.writes;
    cache_.apply(w.record);
    note_written(changes[i].cached, changes[i].written.status, stats);
  }
  return stats;
}

void EndpointsLoop::note_written(const Balancer& before, const BalancerStatus& st,
                                 EndpointsPassStats& stats) {
  const std::string& name = before.metadata.name;
  logger("loops")->debug("lb/{}: {} endpoints", name, st.endpoints.size());
  if (!ready_is_false(st) || ready_is_false(before.status)) return;
  // A new Balancer whose VMSet exists waits for that set's VMs to start: its
  // condition says so, but a Warning Event at every first apply would be
  // noise. One that had endpoints and lost them, or whose VMSet does not
  // exist, is worth a warning.
  if (reconcile::balancer_ready_condition(before.status) == nullptr && !before.spec.vmSet.empty() &&
      cache_.vmset(before.spec.vmSet) != nullptr)
    return;
  ++stats.no_endpoints;
  const Condition* c = reconcile::balancer_ready_condition(st);
  logger("loops")->warn("lb/{} has no endpoints: {}", name, c->message);
  (void)events_.record(ObjectReference{Balancer::kKind, name, before.metadata.uid}, event_type::kWarning,
                       "NoEndpoints", c->message);
}

}  // namespace corral::loops
