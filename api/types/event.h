// Event: something that happened to an object, for people (kubectl-style).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/types/meta.h"

namespace corral {

// Event.type.
namespace event_type {
inline constexpr const char* kNormal = "Normal";
inline constexpr const char* kWarning = "Warning";
}  // namespace event_type

struct ObjectReference {
  std::string kind;
  std::string name;
  std::string uid;
  template <class V> void visit(V& v) { v("kind", kind); v("name", name); v("uid", uid); }
};
struct EventSource {
  std::string component;           // controller, agent, scheduler, ...
  std::string host;
  template <class V> void visit(V& v) { v("component", component); v("host", host); }
};

// Events have no spec/status split (as in Kubernetes): their fields are top level.
struct Event {
  static constexpr const char* kKind = "Event";
  ObjectMeta metadata;
  ObjectReference involvedObject;
  std::string reason;              // CamelCase: NodeNotReady, VMLost, Scheduled, ...
  std::string message;
  std::string type = "Normal";     // Normal | Warning
  int32_t count = 1;
  std::string firstTimestamp;
  std::string lastTimestamp;
  EventSource source;
  template <class V> void visit(V& v) {
    v("metadata", metadata); v("involvedObject", involvedObject); v("reason", reason);
    v("message", message); v("type", type); v("count", count);
    v("firstTimestamp", firstTimestamp); v("lastTimestamp", lastTimestamp); v("source", source);
  }
};

}  // namespace corral
