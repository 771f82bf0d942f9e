// The published objects of one kind: by name (sorted, for list) and, for each
// selectable field of the kind (KindInfo::field_selectors), by value, so that
// `spec.nodeName=host-7` over 100,000 VMs costs the size of the answer, not
// a scan. REQUIRES: external synchronization (CachedStore's read_mu_).
#pragma once

#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "controller/store/store.h"

namespace corral::store {

class KindIndex {
 public:
  explicit KindIndex(const std::string& kind);

  // Adds `record`, replacing the version of the same name.
  void put(const RecordPtr& record);
  void erase(const std::string& name);
  RecordPtr find(const std::string& name) const;
  size_t size() const { return by_name_.size(); }

  // Appends the records matching `options`, sorted by name: those after
  // options.after, at most options.limit (0: all). An equality on
  // metadata.name or on an indexed field narrows the candidates first.
  // True when options.limit cut the list (a matching record remains).
  bool select(const ListOptions& options, std::vector<RecordPtr>& out) const;

 private:
  void index_fields(const Record& record, bool add);

  std::vector<std::string> paths_;  // the kind's selectable fields
  std::map<std::string, RecordPtr> by_name_;
  // path → value ("" when absent) → names.
  std::unordered_map<std::string, std::unordered_map<std::string, std::set<std::string>>> by_field_;
};

}  // namespace corral::store
