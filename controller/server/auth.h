// Authentication (bearer token → user and role, from a static token file as
// Kubernetes' --token-auth-file) and authorisation (role × verb × resource).
//
// Token file: one `token,user,role` per line; blank lines and lines starting
// with '#' are ignored; roles are `admin`, `viewer`, `balancer` and `node:<name>`.
//
// Roles:
//   admin        everything
//   viewer       get, list, watch
//   node:<name>  an agent: get/list/watch everything; create and update its own
//                Node, its status and its heartbeat; update the status of VMs whose stored
//                spec.nodeName is <name>; create Events. Nothing else.
//   balancer     the data plane (corral-balancer): get/list/watch everything;
//                update `balancers/<name>/status` (health, connections, drained,
//                its report); create Events. Nothing else — not a Balancer's
//                spec, not other kinds' status.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/error.h"

namespace corral::server {

struct Identity {
  std::string user;
  std::string role;       // "admin" | "viewer" | "balancer" | "node:<name>"
  std::string node_name;  // for node roles: <name>; else empty
};

class Authenticator {
 public:
  // No token file: every request is `anonymous` with role admin. The server
  // only allows this on loopback (see Server::start).
  Authenticator() = default;
  // Errors: BadRequest naming file:line for a malformed line or a duplicate
  // token, or naming the file when other users may read it
  // (base/private_file.h); Unavailable naming the file when it cannot be read.
  static Result<Authenticator> from_file(const std::string& path);
  static Result<Authenticator> from_text(const std::string& text, const std::string& origin);

  bool enabled() const { return enabled_; }
  size_t size() const;
  // Replaces the tokens with those of `path` (SIGHUP: revoking a token needs
  // no restart). A file that does not load changes nothing (the error says
  // why); requests already authenticated are not affected. Thread-safe
  // against authenticate(). Returns the number of tokens now.
  Result<size_t> reload(const std::string& path);
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
};

// What a request wants to do, in Kubernetes' terms.
struct Attributes {
  std::string verb;         // get | list | watch | create | update | delete
  std::string resource;     // the plural ("vms"); empty for non-resource paths
  std::string name;         // empty for collections (and create before the body is read)
  std::string subresource;  // "status", "heartbeat" or empty
};

// Reads the stored spec.nodeName of a VM, for the node role's rule on VM
// status. Returns nullopt when the VM does not exist.
using BoundNodeLookup = std::function<Result<std::optional<std::string>>(const std::string& vm)>;

// Ok, or Forbidden with a message naming the user, role, verb, object and why.
// For a create whose body was not read yet (name empty) the node role is
// allowed tentatively on nodes and events; the caller checks again with the
// name from the body.
Result<void> authorize(const Identity& who, const Attributes& what,
                       const BoundNodeLookup& bound_node);

}  // namespace corral::server
