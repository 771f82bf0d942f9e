#include "controller/store/object_rules.h"

#include "api/json.h"
#include "api/kinds.h"
#include "controller/store/record_builder.h"

namespace corral::store {

namespace {

// Kubernetes' wording, so that kubectl users recognise it.
constexpr const char* kConflictMessage =
    "the object has been modified; please apply your changes to the latest version and try "
    "again";

// Order-insensitive for object keys: a client may send metadata keys in any
// order, and that alone must not make an update look like a change.
bool json_equal(const Json& a, const Json& b) {
  if (a.is_object() && b.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto other = b.find(it.key());
      if (other == b.end() || !json_equal(it.value(), *other)) return false;
    }
    return true;
  }
  if (a.is_array() && b.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!json_equal(a[i], b[i])) return false;
    }
    return true;
  }
  return a == b;
}

// The part whose change bumps metadata.generation: spec, or for kinds with
// no spec (Event) everything but metadata and status.
Json desired_part(const std::string& kind, const Json& object) {
  const KindInfo* info = find_kind(kind);
  if (info == nullptr || info->has_status) {
    auto it = object.find("spec");
    return it == object.end() ? Json() : *it;
  }
  Json out = object;
  out.erase("metadata");
  out.erase("status");
  return out;
}

}  // namespace

std::string meta_string(const Json& object, const char* key) {
  auto m = object.find("metadata");
  if (m == object.end() || !m->is_object()) return "";
  auto it = m->find(key);
  if (it == m->end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

Result<std::string> object_name(const Json& object) {
  std::string name = object.is_object() ? meta_string(object, "name") : "";
  if (name.empty()) return make_error(ErrorCode::kBadRequest, "metadata.name is required");
  return name;
}

Result<void> check_preconditions(const Record& stored, const Preconditions& p) {
  if (!p.uid.empty() && p.uid != stored.uid) {
    return make_error(ErrorCode::kConflict, "Precondition failed: UID in precondition: " + p.uid +
                                                ", UID in object meta: " + stored.uid);
  }
  if (!p.resource_version.empty() && p.resource_version != std::to_string(stored.revision)) {
    return make_error(ErrorCode::kConflict, kConflictMessage);
  }
  return Ok{};
}

Preconditions preconditions_of(const Json& object) {
  return {meta_string(object, "uid"), meta_string(object, "resourceVersion")};
}

void fill_create_metadata(Json& object, std::chrono::system_clock::time_point now) {
  Json& meta = object["metadata"];
  meta["uid"] = new_uuid();
  meta["creationTimestamp"] = format_time(now);
  meta["generation"] = 1;
}

std::optional<Json> next_version(const std::string& kind, const Json& old, Json object,
                                 UpdatePart part) {
  Json next;
  if (part == UpdatePart::kStatus) {
    next = old;
    if (auto it = object.find("status"); it != object.end()) {
      next["status"] = std::move(*it);
    } else {
      next.erase("status");
    }
  } else {
    next = std::move(object);
    if (auto old_meta = old.find("metadata"); old_meta != old.end()) {
      for (const char* kept : {"uid", "creationTimestamp", "generation", "resourceVersion"}) {
        if (auto it = old_meta->find(kept); it != old_meta->end()) next["metadata"][kept] = *it;
      }
    }
    if (part == UpdatePart::kSpec) {
      // The main path never writes status (that is /status's job).
      next.erase("status");
      if (auto it = old.find("status"); it != old.end()) next["status"] = *it;
    }
  }
  if (json_equal(next, old)) return std::nullopt;
  if (part != UpdatePart::kStatus && !json_equal(desired_part(kind, next), desired_part(kind, old))) {
    // Looked up again: ordered_json keeps keys in a vector, so the status
    // edits above may have moved metadata.
    Json& meta = next["metadata"];
    meta["generation"] = meta.value("generation", int64_t{0}) + 1;
  }
  return next;
}

}  // namespace corral::store
