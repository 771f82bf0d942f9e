#include "controller/scheduler/outcome.h"

#include <algorithm>

namespace corral::scheduler {

std::vector<const VM*> order_batch(std::vector<const VM*> pending, size_t max_batch) {
  std::sort(pending.begin(), pending.end(), [](const VM* a, const VM* b) {
    if (a->spec.priority != b->spec.priority) return a->spec.priority > b->spec.priority;
    return a->metadata.name < b->metadata.name;
  });
  if (pending.size() > max_batch) pending.resize(max_batch);
  return pending;
}

DecisionOutcome decision_outcome(const VM& vm, const Decision& d) {
  DecisionOutcome out;
  out.next = vm;
  VMStatus& st = out.next.status;
  if (d.bound()) {
    out.write = WriteKind::kSpecAndStatus;
    out.next.spec.nodeName = d.node;
    out.next.spec.epoch = d.epoch;
    st.phase = vm_phase::kScheduled;
    st.message.clear();
    // What the agent reported belongs to the previous copy (the one that was
    // Lost or is being replaced): the new binding's agent reports its own.
    st.nodeName.clear();
    st.epoch = 0;
    st.address.clear();
    st.pid = 0;
    st.usage = {};
    st.startTime.clear();
    out.event = EventNote{event_type::kNormal, "Scheduled",
                          "Successfully assigned vm/" + vm.metadata.name + " to node/" + d.node};
    return out;
  }
  out.park = true;
  if (st.phase != vm_phase::kLost) st.phase = vm_phase::kPending;
  st.message = d.message;
  if (st.phase == vm.status.phase && vm.status.message == d.message) return out;  // no write
  out.write = WriteKind::kStatus;
  if (vm.status.message != d.message)
    out.event = EventNote{event_type::kWarning, "FailedScheduling", d.message};
  return out;
}

}  // namespace corral::scheduler
