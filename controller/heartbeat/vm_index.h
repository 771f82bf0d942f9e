// VmIndex: node name → the VMs bound to it (spec.nodeName), fed by a
// WatchFeed on VMs. A heartbeat's answer is read from here in O(VMs on the
// node), with each VM's BoundVm already encoded: the steady-state heartbeat
// neither scans nor parses the store's VMs.
//
// An entry is re-encoded only when its spec changed (metadata.generation) or
// it moved; status-only writes (the agents' reports) just update the phase.
//
// Thread-safe: one writer (the feed), many readers (API threads).
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/json.h"
#include "controller/heartbeat/watch_feed.h"

namespace corral::heartbeat {

struct BoundEntry {
  std::string name;
  std::string node;           // spec.nodeName
  int64_t generation = 0;
  std::string phase;          // status.phase
  Json bound;                 // the BoundVm, encoded (api/heartbeat.h)
  std::string bound_text;     // ... and as JSON text, made once per spec change, not per beat
  bool secret_refs = false;   // its env takes values from Secrets: resolve before sending
};
using BoundEntryPtr = std::shared_ptr<const BoundEntry>;

class VmIndex final : public FeedSink {
 public:
  void reset(const std::vector<store::RecordPtr>& records) override;
  void apply(const store::WatchEvent& event) override;

  // The VMs whose spec.nodeName is `node`, sorted by name (Lost ones included;
  // the caller decides).
  std::vector<BoundEntryPtr> bound_to(const std::string& node) const;
  size_t size() const;

 private:
  using ByNode = std::unordered_map<std::string, std::map<std::string, BoundEntryPtr>>;
  // Null for an unbound VM (or one that does not decode: logged).
  static BoundEntryPtr entry_of(const store::Record& record, const BoundEntryPtr& previous);
  static void put(ByNode& by_node, std::unordered_map<std::string, BoundEntryPtr>& by_name,
                  const std::string& name, BoundEntryPtr entry);

  mutable std::shared_mutex mu_;
  ByNode by_node_;                                          // guarded by mu_
  std::unordered_map<std::string, BoundEntryPtr> by_name_;  // guarded by mu_: bound VMs only
};

}  // namespace corral::heartbeat
