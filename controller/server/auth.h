// Authentication (bearer token → user and role, from a static token file as
// Kubernetes' --token-auth-file) and authorisation (role × verb × resource).
//
// Token file: one `token,user,role` per line; blank lines and lines starting
// with '#' are ignored; roles are `admin`, `viewer`, `balancer`,
// `balancer:<name>[+<name>...]` and `node:<name>`. ('+' separates Balancer
// names because ',' separates the line's fields; names never contain '+'.)
//
// Roles:
//   admin        everything
//   viewer       get, list, watch; Secrets with every value redacted (secret_view.h),
//                as for both balancer roles; VM logs (get vms/<x>/log), as Kubernetes'
//                view role reads pods/log
//   node:<name>  an agent, restricted as Kubernetes' NodeRestriction: its one write
//                is POST nodes/<name>/heartbeat, which registers the Node (with the
//                agent's labels, once), renews its lease, writes its status and the
//                reports of VMs bound to it at their current epoch
//                (controller/heartbeat). It may not create or replace a Node (labels,
//                taints, unschedulable and drain are the admin's), write
//                nodes/<x>/status or vms/<x>/status directly, or touch any other
//                node. Reads: everything but Secrets, VMSets (their templates hold the
//                workloads' env) and VMs, except `get vms/<x>` of a VM bound to it
//                (its VMs' Secret values come resolved in its heartbeat answer); never
//                VM logs (vms/<x>/log).
//                May create Events, capped in size and rate (event_limits.h).
//   balancer     the data plane (corral-balancer), unscoped: get/list/watch
//                everything; update `balancers/<any>/status`, of which only the
//                data plane's report is kept (balancer_report.h: health,
//                connections, drained, reportedBy; never the endpoints);
//                create Events (capped as a node's). A warning is logged when
//                the token file is loaded: prefer the scoped form.
//   balancer:<a>+<b>  the same, but only the status of Balancers a and b.
//   Neither balancer role writes a Balancer's spec or other kinds' status, or
//   reads VM logs.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/error.h"

namespace corral::server {

struct Identity {
  std::string user;
  std::string role;       // "admin" | "viewer" | "balancer[:<a>+<b>...]" | "node:<name>"
  std::string node_name;  // for node roles: <name>; else empty
  // For `balancer:<a>+<b>`: the Balancers it serves. Empty for every other
  // role, and for the unscoped `balancer` (all Balancers).
  std::vector<std::string> balancers;
  bool is_balancer() const { return role == "balancer" || role.rfind("balancer:", 0) == 0; }
};

class Authenticator {
 public:
  // No token file: every request is `anonymous` with role admin. The server
  // only allows this on loopback (see Server::start).
  Authenticator() = default;
  // Errors: BadRequest naming file:line for a malformed line, an unknown role
  // or a duplicate token, or naming the file when other users may read it
  // (base/private_file.h); Unavailable naming the file when it cannot be read.
  // An unscoped `balancer` role loads, with a warning naming file:line.
  static Result<Authenticator> from_file(const std::string& path);
  static Result<Authenticator> from_text(const std::string& text, const std::string& origin);

  bool enabled() const { return enabled_; }
  size_t size() const;
  // Replaces the tokens with those of `path` (SIGHUP: revoking a token needs
  // no restart). A file that does not load changes nothing (the error says
  // why); requests already authenticated are not affected. Thread-safe
  // against authenticate(). Returns the number of tokens now.
  Result<size_t> reload(const std::string& path);
  // What loading found worth a warning ("tokens.csv:4: role balancer (user
  // ...) is unscoped ..."), also logged; a reload() logs its own.
  const std::vector<std::string>& warnings() const { return warnings_; }
  // `authorization` is the Authorization header ("" when absent).
  // Errors: Unauthorized (missing, malformed or unknown token).
  Result<Identity> authenticate(const std::string& authorization) const;

 private:
  using Tokens = std::unordered_map<std::string, Identity>;
  std::shared_ptr<const Tokens> current() const;

  bool enabled_ = false;
  // Swapped whole by reload(); readers copy the pointer under mu_ (held for
  // a pointer copy only). A unique_ptr keeps the class movable.
  std::unique_ptr<std::mutex> mu_ = std::make_unique<std::mutex>();
  std::shared_ptr<const Tokens> tokens_ = std::make_shared<const Tokens>();
  std::vector<std::string> warnings_;  // from the first load; read-only after it
};

// What a request wants to do, in Kubernetes' terms.
struct Attributes {
  std::string verb;         // get | list | watch | create | update | delete
  std::string resource;     // the plural ("vms"); empty for non-resource paths
  std::string name;         // empty for collections (and create before the body is read)
  std::string subresource;  // "status", "heartbeat", "log" or empty
};

// Reads the stored spec.nodeName of a VM, for the node role's rule on reading
// a VM. Returns nullopt when the VM does not exist.
using BoundNodeLookup = std::function<Result<std::optional<std::string>>(const std::string& vm)>;

// Ok, or Forbidden with a message naming the user, role, verb, object and why.
// A create is judged before its body is read (name empty) and again by the
// create handler with the body's name. `bound_node` may be null where no VM
// is read (then a node's `get vms/<x>` is refused).
Result<void> authorize(const Identity& who, const Attributes& what,
                       const BoundNodeLookup& bound_node);

}  // namespace corral::server
