#include "controller/heartbeat/ha_admission.h"

#include "api/json.h"
#include "base/log.h"
#include "controller/reconcile/pool_status.h"

namespace corral::heartbeat {

namespace {

template <class T>
Result<std::vector<T>> decode_all(const std::vector<store::RecordPtr>& records) {
  std::vector<T> out;
  out.reserve(records.size());
  for (const auto& r : records) {
    auto object = from_json<T>(r->parse());
    if (!object) {
      logger("api")->error("BUG: stored {}/{} does not decode: {}", r->kind, r->name,
                           object.error().message);
      return make_error(ErrorCode::kInternal, "stored " + r->kind + " " + r->name +
                                                  " does not decode");
    }
    out.push_back(std::move(*object));
  }
  return out;
}

}  // namespace

Result<void> admit_vmset(store::Store& store, const KindInfo& kind, const Json& normalized,
                         const store::RecordPtr& old) {
  if (kind.kind != VMSet::kKind) return Ok{};
  auto proposed = from_json<VMSet>(normalized);
  if (!proposed) return proposed.take_error();
  // The set's VMs are found by its uid too, which an update body may omit.
  if (old && proposed->metadata.uid.empty()) proposed->metadata.uid = old->uid;

  auto pool_record = store.get("Pool", proposed->spec.pool);
  if (!pool_record) {
    if (pool_record.error().code == ErrorCode::kNotFound) return Ok{};
    return pool_record.take_error();
  }
  auto pool = from_json<Pool>((*pool_record)->parse());
  if (!pool) return make_error(ErrorCode::kInternal, "stored pool does not decode");
  if (pool->spec.failover.tolerateNodeFailures <= 0) return Ok{};

  store::ListOptions members;
  members.labels = Selector::from_map(pool->spec.nodeSelector);
  auto node_records = store.list("Node", members);
  if (!node_records) return node_records.take_error();
  auto nodes = decode_all<Node>(node_records->items);
  if (!nodes) return nodes.take_error();

  // Only VMs bound to members count (allocated, and what the set holds now).
  std::vector<store::RecordPtr> vm_records;
  for (const Node& n : *nodes) {
    store::ListOptions bound;
    bound.fields.push_back({"spec.nodeName", false, n.metadata.name});
    auto list = store.list("VM", bound);
    if (!list) return list.take_error();
    vm_records.insert(vm_records.end(), list->items.begin(), list->items.end());
  }
  auto vms = decode_all<VM>(vm_records);
  if (!vms) return vms.take_error();
  return reconcile::check_ha_admission(*pool, *nodes, *vms, *proposed);
}

}  // namespace corral::heartbeat
