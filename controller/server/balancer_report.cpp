#include "controller/server/balancer_report.h"

#include "api/codec.h"
#include "api/conditions.h"
#include "api/json.h"
#include "api/types/balancer.h"

namespace corral::server {

Result<Json> merge_data_plane_report(const Json& stored, const Json& proposed) {
  auto base = from_json<Balancer>(stored);
  if (!base) return make_error(ErrorCode::kInternal, "stored balancer does not decode");
  auto report = from_json<Balancer>(proposed);
  if (!report) return report.take_error();
  for (Endpoint& ep : base->status.endpoints) {
    for (const Endpoint& r : report->status.endpoints) {
      if (r.vm != ep.vm || r.epoch != ep.epoch) continue;
      ep.health = r.health;
      ep.activeConnections = r.activeConnections;
      ep.drained = ep.draining && r.drained;
    }
  }
  base->status.lastReportTime = report->status.lastReportTime;
  base->status.reportedBy = report->status.reportedBy;
  if (const Condition* serving =
          find_condition(report->status.conditions, condition_type::kServing))
    set_condition(base->status.conditions, *serving);
  // Without one, the stored version's: a concurrent write of the endpoints
  // loop then makes this one fail (409) instead of being overwritten.
  if (!report->metadata.resourceVersion.empty())
    base->metadata.resourceVersion = report->metadata.resourceVersion;
  return to_json(*base);
}

}  // namespace corral::server
