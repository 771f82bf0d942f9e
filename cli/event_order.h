// The order `corralctl get events` prints Events in: oldest first, as people
// read a timeline (and as `-w` then appends newer ones below).
//
// Key: lastTimestamp, else firstTimestamp, else metadata.creationTimestamp
// (parsed, so "…:05Z" and "…:05.000Z" compare equal); then firstTimestamp;
// then name. An Event without any time sorts first (it says nothing of when).
//
// Thread safety: pure function.
#pragma once

#include <vector>

#include "api/json_fwd.h"

namespace corral::cli {

void sort_events_oldest_first(std::vector<Json>& events);

}  // namespace corral::cli
