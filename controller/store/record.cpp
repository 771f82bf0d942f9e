#include "controller/store/store.h"

#include "api/json.h"

namespace corral::store {

Json Record::parse() const { return Json::parse(json); }

const char* watch_event_type_name(WatchEvent::Type type) {
  switch (type) {
    case WatchEvent::Type::kAdded: return "ADDED";
    case WatchEvent::Type::kModified: return "MODIFIED";
    case WatchEvent::Type::kDeleted: return "DELETED";
  }
  return "UNKNOWN";
}

}  // namespace corral::store
