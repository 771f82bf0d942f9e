#include "controller/loops/endpoints_loop.h"

#include <deque>
#include <functional>
#include <vector>

#include "api/kinds.h"
#include "base/log.h"
#include "controller/loops/status_update.h"
#include "controller/reconcile/endpoints.h"

namespace corral::loops {
namespace {

bool ready_is_false(const BalancerStatus& st) {
  const Condition* c = reconcile::balancer_ready_condition(st);
  return c && c->status == "False";
}

}  // namespace

EndpointsLoop::EndpointsLoop(store::Store& store, ObjectCache& cache,
                             events::EventRecorder& events, WriterPool& writers,
                             const Clock& clock)
    : store_(store), cache_(cache), events_(events), writers_(writers), clock_(clock) {}

void EndpointsLoop::observe(const CacheDelta& delta) {
  if (delta.resynced || !delta.balancers.empty() || !delta.vms.empty() || !delta.nodes.empty())
    dirty_ = true;
}

EndpointsPassStats EndpointsLoop::run_once() {
  EndpointsPassStats stats;
  if (!dirty_) return stats;
  dirty_ = false;
  const auto now = clock_.now();
  const std::vector<VM>& vms = cache_.vms().items();
  const std::vector<Node>& nodes = cache_.nodes().items();
  struct Write {
    Balancer balancer;  // as cached: what the Event compares with
    Balancer written;
    Result<store::RecordPtr> result = store::RecordPtr{};
  };
  std::deque<Write> writes;  // built in place: elements never move
  for (const Balancer& b : cache_.balancers().items()) {
    ++stats.balancers;
    BalancerStatus st = reconcile::compute_balancer_status(b, vms, nodes, now);
    if (same_json(st, b.status)) continue;
    writes.emplace_back();
    writes.back().balancer = b;
  }
  // The writers only read the cache (the owner thread waits in run_all).
  std::vector<std::function<void()>> fns;
  for (Write& w : writes) {
    fns.push_back([&, now] {
      w.result = update_status_rmw<Balancer>(
          store_, w.balancer,
          [&](Balancer& fresh) {
            // On the fresh copy after a 409: the data plane's new report is kept.
            fresh.status = reconcile::compute_balancer_status(fresh, vms, nodes, now);
            return true;
          },
          &w.written);
    });
  }
  writers_.run_all(std::move(fns));

  for (Write& w : writes) {
    const std::string& name = w.balancer.metadata.name;
    if (!w.result) {
      // Conflict five times, or gone: the next change brings it back.
      if (w.result.error().code == ErrorCode::kNotFound) continue;
      ++stats.errors;
      dirty_ = true;
      logger("loops")->warn("lb/{} status: {}", name, w.result.error().message);
      continue;
    }
    if (!*w.result) continue;
    ++stats.writes;
    cache_.apply(*w.result);
    const BalancerStatus& st = w.written.status;
    logger("loops")->debug("lb/{}: {} endpoints", name, st.endpoints.size());
    if (ready_is_false(st) && !ready_is_false(w.balancer.status)) {
      ++stats.no_endpoints;
      const Condition* c = reconcile::balancer_ready_condition(st);
      logger("loops")->warn("lb/{} has no endpoints: {}", name, c->message);
      (void)events_.record(ObjectReference{Balancer::kKind, name, w.balancer.metadata.uid},
                           "Warning", "NoEndpoints", c->message);
    }
  }
  return stats;
}

}  // namespace corral::loops
