#include "controller/heartbeat/vm_index.h"

#include <mutex>

#include "api/heartbeat.h"
#include "api/json.h"
#include "api/kinds.h"
#include "base/log.h"

namespace corral::heartbeat {

namespace {

std::string field_of(const store::Record& record, const char* path) {
  auto it = record.fields.find(path);
  return it == record.fields.end() ? std::string() : it->second;
}

}  // namespace

BoundEntryPtr VmIndex::entry_of(const store::Record& record, const BoundEntryPtr& previous) {
  // spec.nodeName and status.phase are indexed fields of VM: read without a parse.
  std::string node = field_of(record, "spec.nodeName");
  if (node.empty()) return nullptr;
  auto entry = std::make_shared<BoundEntry>();
  entry->name = record.name;
  entry->node = node;
  entry->generation = record.generation;
  entry->phase = field_of(record, "status.phase");
  if (previous && previous->node == node && previous->generation == record.generation) {
    entry->bound = previous->bound;  // only status changed
    entry->bound_text = previous->bound_text;
    entry->secret_refs = previous->secret_refs;
    return entry;
  }
  auto vm = from_json<VM>(record.parse());
  if (!vm) {
    logger("heartbeat")->error("BUG: stored vm/{} does not decode: {}", record.name,
                               vm.error().message);
    return nullptr;
  }
  BoundVm b;
  b.name = vm->metadata.name;
  b.epoch = vm->spec.epoch;
  b.resources = vm->spec.resources;
  b.runtime = vm->spec.runtime;
  b.restartPolicy = vm->spec.restartPolicy;
  b.fencing = vm->spec.fencing;
  entry->bound = encode_fields(b);
  entry->bound_text = dump_json(entry->bound);
  entry->secret_refs = b.runtime.env.has_secret_refs();
  return entry;
}

void VmIndex::put(ByNode& by_node, std::unordered_map<std::string, BoundEntryPtr>& by_name,
                  const std::string& name, BoundEntryPtr entry) {
  if (auto old = by_name.find(name); old != by_name.end()) {
    auto n = by_node.find(old->second->node);
    if (n != by_node.end()) {
      n->second.erase(name);
      if (n->second.empty()) by_node.erase(n);
    }
    by_name.erase(old);
  }
  if (!entry) return;
  by_node[entry->node][name] = entry;
  by_name[name] = std::move(entry);
}

void VmIndex::reset(const std::vector<store::RecordPtr>& records) {
  std::unordered_map<std::string, BoundEntryPtr> old;
  {
    std::shared_lock lock(mu_);
    old = by_name_;
  }
  // Built aside, swapped in at once: a heartbeat never sees a partial view
  // (a VM missing from an answer tells the agent to stop it).
  ByNode by_node;
  std::unordered_map<std::string, BoundEntryPtr> by_name;
  for (const auto& r : records) {
    auto prev = old.find(r->name);
    put(by_node, by_name, r->name, entry_of(*r, prev == old.end() ? nullptr : prev->second));
  }
  std::unique_lock lock(mu_);
  by_node_.swap(by_node);
  by_name_.swap(by_name);
}

void VmIndex::apply(const store::WatchEvent& event) {
  const store::Record& r = *event.object;
  BoundEntryPtr prev;
  {
    std::shared_lock lock(mu_);
    if (auto it = by_name_.find(r.name); it != by_name_.end()) prev = it->second;
  }
  // Decoded outside the lock (the feed is the only writer).
  BoundEntryPtr entry =
      event.type == store::WatchEvent::Type::kDeleted ? nullptr : entry_of(r, prev);
  std::unique_lock lock(mu_);
  put(by_node_, by_name_, r.name, std::move(entry));
}

std::vector<BoundEntryPtr> VmIndex::bound_to(const std::string& node) const {
  std::vector<BoundEntryPtr> out;
  std::shared_lock lock(mu_);
  auto it = by_node_.find(node);
  if (it == by_node_.end()) return out;
  out.reserve(it->second.size());
  for (const auto& [name, entry] : it->second) out.push_back(entry);
  return out;
}

size_t VmIndex::size() const {
  std::shared_lock lock(mu_);
  return by_name_.size();
}

}  // namespace corral::heartbeat
