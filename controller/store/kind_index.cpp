#include "controller/store/kind_index.h"

#include "api/kinds.h"
#include "controller/store/record_builder.h"

namespace corral::store {

namespace {

const std::string& field_of(const Record& record, const std::string& path) {
  static const std::string kEmpty;
  auto it = record.fields.find(path);
  return it == record.fields.end() ? kEmpty : it->second;
}

}  // namespace

KindIndex::KindIndex(const std::string& kind) {
  if (const KindInfo* info = find_kind(kind)) paths_ = info->field_selectors;
}

void KindIndex::index_fields(const Record& record, bool add) {
  for (const auto& path : paths_) {
    auto& values = by_field_[path];
    const std::string& value = field_of(record, path);
    if (add) {
      values[value].insert(record.name);
      continue;
    }
    auto it = values.find(value);
    if (it == values.end()) continue;
    it->second.erase(record.name);
    if (it->second.empty()) values.erase(it);
  }
}

void KindIndex::put(const RecordPtr& record) {
  auto [it, inserted] = by_name_.try_emplace(record->name, record);
  if (!inserted) {
    index_fields(*it->second, false);
    it->second = record;
  }
  index_fields(*record, true);
}

void KindIndex::erase(const std::string& name) {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return;
  index_fields(*it->second, false);
  by_name_.erase(it);
}

RecordPtr KindIndex::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

bool KindIndex::select(const ListOptions& options, std::vector<RecordPtr>& out) const {
  const size_t first = out.size();
  // Takes `r` if it matches; false once the page is full and one more matched.
  auto take = [&](const RecordPtr& r) {
    if (!matches(*r, options)) return true;
    if (options.limit > 0 && out.size() - first == options.limit) return false;
    out.push_back(r);
    return true;
  };
  for (const auto& req : options.fields) {
    if (req.negate) continue;
    if (req.field == "metadata.name") {
      RecordPtr r = find(req.value);
      if (r && r->name > options.after) take(r);
      return false;  // one record at most: a page of at least one holds it
    }
    auto values = by_field_.find(req.field);
    if (values == by_field_.end()) continue;
    auto names = values->second.find(req.value);
    if (names == values->second.end()) return false;
    for (auto it = names->second.upper_bound(options.after); it != names->second.end(); ++it) {
      if (!take(by_name_.at(*it))) return true;
    }
    return false;
  }
  for (auto it = by_name_.upper_bound(options.after); it != by_name_.end(); ++it) {
    if (!take(it->second)) return true;
  }
  return false;
}

}  // namespace corral::store
