// One entry of Store::write_batch (controller/store/store.h), apart from the
// Store's interface so that its includers need not compile nlohmann/json.
#pragma once

#include <string>

#include "api/json.h"

namespace corral::store {

// One entry of Store::write_batch.
struct BatchWrite {
  enum class Part {
    kStatus,         // status only, as update_status
    kSpecAndStatus,  // spec and status in one write, for a controller that owns
                     // both halves of one decision: the scheduler's binding sets
                     // spec.nodeName and status.phase together, as Kubernetes'
                     // pods/binding subresource does
    kCreate,         // a new object, as create (AlreadyExists when the name is
                     // taken): the Events of a pass, many per commit
  };
  Part part = Part::kStatus;
  std::string kind;
  Json object;  // carries its metadata.resourceVersion precondition, as update's
};

}  // namespace corral::store
