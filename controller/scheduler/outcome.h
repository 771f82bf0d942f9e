// What a scheduling pass writes about each VM it tried: the decision → status
// mapping, as pure functions of (VM, Decision). The loop
// (controller/loops/scheduler_loop.h) writes what these say and handles the
// store's answers; nothing here reads a store, a cache or a clock.
//
//   batch      pending VMs by spec.priority (higher first), then name; at most
//              max_batch of them per pass (the rest wait for the next)
//   bound      one write of spec (nodeName, epoch) and status together:
//              phase Scheduled, message "", status.nodeName/epoch reset (the
//              agent reports them for the new binding); once it landed, a
//              Normal Event Scheduled "Successfully assigned vm/x to node/y"
//              (kube-scheduler's wording)
//   not bound  parked until room may have appeared; status phase Pending (a
//              Lost VM stays Lost: that keeps it pending and off its dead
//              node's heartbeat answer) and message = why. Written only when
//              phase or message changed; a new message also records a Warning
//              Event FailedScheduling once the write landed.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "api/types.h"
#include "controller/scheduler/scheduler.h"

namespace corral::scheduler {

// `pending` ordered as the pass decides them (spec.priority desc, then name),
// cut to `max_batch`.
std::vector<const VM*> order_batch(std::vector<const VM*> pending, size_t max_batch);

enum class WriteKind {
  kNone,           // nothing changed: no write
  kStatus,         // status only (an unschedulable VM's phase and message)
  kSpecAndStatus,  // a binding: spec.nodeName + spec.epoch and status together
};

// An Event to record about the VM once its write landed.
struct EventNote {
  std::string type;  // "Normal" | "Warning"
  std::string reason;
  std::string message;
};

struct DecisionOutcome {
  WriteKind write = WriteKind::kNone;
  VM next;            // the VM as it is to be stored (when write != kNone)
  bool park = false;  // not bound: wait for room (or the retry period)
  std::optional<EventNote> event;
};

// REQUIRES: d.vm == vm.metadata.name.
DecisionOutcome decision_outcome(const VM& vm, const Decision& d);

}  // namespace corral::scheduler
