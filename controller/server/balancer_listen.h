// Balancer listen addresses are unique: the API refuses a create or update of
// a Balancer whose spec.listen collides with another Balancer's (the same
// port, and the same host or either a wildcard: api/listen_address.h) with 422
// Invalid at spec.listen, naming both:
//
//   Balancer "api" is invalid: spec.listen: 127.0.0.1:8080 is already used by
//   balancer/web (spec.listen 0.0.0.0:8080)
//
// Two such Balancers could never both serve on one host; before this check
// both were accepted, and two corral-balancer copies each bound the port with
// SO_REUSEPORT and shared its connections (issue 14). The rule is
// cluster-wide, as Kubernetes' NodePorts are: the API does not know which host
// serves which Balancer.
//
// Races: the server calls this and writes the Balancer under one mutex
// (Server::Impl::balancer_writes), so concurrent creates on one controller are
// checked one after the other. Several controllers over etcd each have their
// own mutex: two colliding writes through two controllers at the same instant
// can both be admitted. The data plane is the backstop there: its bind is
// exclusive, so the second Balancer reports Serving False with "spec.listen
// ...: address already in use".
//
// Cost: one list of the Balancers (from the store's memory) per Balancer write.
#pragma once

#include "api/json_fwd.h"
#include "base/error.h"
#include "controller/store/store.h"

namespace corral::server {

// `normalized` is the Balancer as it would be stored. Errors: Invalid with a
// cause at spec.listen; the store's.
Result<void> admit_balancer_listen(store::Store& store, const Json& normalized);

}  // namespace corral::server
