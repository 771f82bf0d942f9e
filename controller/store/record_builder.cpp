#include "controller/store/record_builder.h"

#include <algorithm>
#include <cctype>
#include <random>

#include "api/json.h"
#include "api/kinds.h"

namespace corral::store {

namespace {

constexpr const char* kNameField = "metadata.name";

}  // namespace

RecordPtr build_record(const std::string& kind, const Json& object, int64_t revision,
                       std::string json) {
  auto r = std::make_shared<Record>();
  r->kind = kind;
  r->revision = revision;
  if (auto m = object.find("metadata"); m != object.end() && m->is_object()) {
    if (auto it = m->find("name"); it != m->end() && it->is_string())
      r->name = it->get<std::string>();
    if (auto it = m->find("uid"); it != m->end() && it->is_string())
      r->uid = it->get<std::string>();
    if (auto it = m->find("generation"); it != m->end() && it->is_number_integer()) {
      r->generation = it->get<int64_t>();
    }
    if (auto it = m->find("creationTimestamp"); it != m->end() && it->is_string())
      r->created = it->get<std::string>();
    if (auto it = m->find("labels"); it != m->end() && it->is_object()) {
      for (auto l = it->begin(); l != it->end(); ++l) {
        if (l.value().is_string()) r->labels.emplace(l.key(), l.value().get<std::string>());
      }
    }
    if (auto it = m->find("ownerReferences"); it != m->end() && it->is_array()) {
      for (const auto& ref : *it) {
        if (!ref.is_object()) continue;
        auto uid = ref.find("uid");
        if (uid != ref.end() && uid->is_string()) r->owner_uids.push_back(uid->get<std::string>());
      }
    }
  }
  if (const KindInfo* info = find_kind(kind)) {
    for (const auto& path : info->field_selectors) {
      // Absent fields read as "" anyway; not storing them keeps records small.
      std::string v = field_value(object, path);
      if (!v.empty()) r->fields.emplace(path, std::move(v));
    }
  }
  r->json = json.empty() ? object.dump() : std::move(json);
  return r;
}

RecordPtr deleted_record(const Record& last, int64_t revision) {
  Json object = last.parse();
  object["metadata"]["resourceVersion"] = std::to_string(revision);
  auto r = std::make_shared<Record>(last);
  r->revision = revision;
  r->json = object.dump();
  return r;
}

std::string plural_of(const std::string& kind) {
  if (const KindInfo* info = find_kind(kind)) return info->plural;
  std::string lower = kind;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower + "s";
}

Error not_found(const std::string& kind, const std::string& name) {
  return make_error(ErrorCode::kNotFound, plural_of(kind) + " \"" + name + "\" not found");
}

Error already_exists(const std::string& kind, const std::string& name) {
  return make_error(ErrorCode::kAlreadyExists,
                    plural_of(kind) + " \"" + name + "\" already exists");
}

Result<void> check_field_selectors(const std::string& kind,
                                   const std::vector<FieldRequirement>& fields) {
  auto supported = [&](const std::string& path) {
    if (path == kNameField) return true;
    for (const KindInfo& info : all_kinds()) {
      if (!kind.empty() && info.kind != kind) continue;
      const auto& f = info.field_selectors;
      if (std::find(f.begin(), f.end(), path) != f.end()) return true;
    }
    return false;
  };
  for (const auto& req : fields) {
    if (!supported(req.field)) {
      return make_error(ErrorCode::kBadRequest, "field label not supported: " + req.field);
    }
  }
  return Ok{};
}

bool matches(const Record& record, const ListOptions& options) {
  if (!options.labels.empty() && !options.labels.matches(record.labels)) return false;
  for (const auto& req : options.fields) {
    const std::string* value = &record.name;
    static const std::string kEmpty;
    if (req.field != kNameField) {
      auto it = record.fields.find(req.field);
      value = it == record.fields.end() ? &kEmpty : &it->second;
    }
    if ((*value == req.value) == req.negate) return false;
  }
  return true;
}

std::string new_uuid() {
  // One generator per thread: no lock, and uids need to be unique, not secret.
  thread_local std::mt19937_64 gen{std::random_device{}()};
  uint64_t hi = gen(), lo = gen();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    uint64_t word = i < 8 ? hi : lo;
    int shift = (7 - (i % 8)) * 8;
    auto byte = static_cast<unsigned>((word >> shift) & 0xff);
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0xf]);
  }
  return out;
}

}  // namespace corral::store
