#include "controller/server/auth.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "base/private_file.h"
#include "base/log.h"

namespace corral::server {

namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool is_read(const std::string& verb) { return verb == "get" || verb == "list" || verb == "watch"; }

// GET vms/<name>/log: what the VM printed, read from its node's agent.
bool is_vm_log(const Attributes& a) { return a.resource == "vms" && a.subresource == "log"; }

std::string object_path(const Attributes& a) {
  std::string out = a.resource;
  if (!a.name.empty()) out += "/" + a.name;
  if (!a.subresource.empty()) out += "/" + a.subresource;
  return out;
}

Error forbidden(const Identity& who, const Attributes& what, const std::string& why) {
  std::string target = what.resource.empty() ? std::string("this path") : object_path(what);
  return make_error(ErrorCode::kForbidden, "user \"" + who.user + "\" (" + who.role + ") may not " +
                                               what.verb + " " + target + ": " + why);
}

}  // namespace

Result<Authenticator> Authenticator::from_file(const std::string& path) {
  if (auto ok = require_private(path, "tokens file"); !ok) return ok.take_error();
  std::ifstream in(path);
  if (!in) return make_error(ErrorCode::kUnavailable, "cannot read tokens file " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  return from_text(buf.str(), path);
}

Result<Authenticator> Authenticator::from_text(const std::string& text, const std::string& origin) {
  Authenticator auth;
  auth.enabled_ = true;
  Tokens tokens;
  std::istringstream in(text);
  std::string raw;
  int line_no = 0;
  while (std::getline(in, raw)) {
    ++line_no;
    std::string line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    auto where = origin + ":" + std::to_string(line_no) + ": ";
    std::vector<std::string> parts;
    std::stringstream fields(line);
    std::string part;
    while (std::getline(fields, part, ',')) parts.push_back(trim(part));
    if (line.back() == ',') parts.push_back("");
    if (parts.size() != 3)
      return make_error(ErrorCode::kBadRequest, where + "expected token,user,role; got " +
                                                    std::to_string(parts.size()) + " field(s)");
    Identity id{parts[1], parts[2], "", {}};
    if (parts[0].empty()) return make_error(ErrorCode::kBadRequest, where + "empty token");
    if (id.user.empty()) return make_error(ErrorCode::kBadRequest, where + "empty user");
    if (id.role.rfind("node:", 0) == 0) {
      id.node_name = id.role.substr(5);
      if (id.node_name.empty())
        return make_error(ErrorCode::kBadRequest,
                          where + "role node: needs a node name (node:<name>)");
    } else if (id.role.rfind("balancer:", 0) == 0) {
      std::stringstream names(id.role.substr(9));
      std::string name;
      while (std::getline(names, name, '+')) {
        if (name.empty()) break;
        id.balancers.push_back(name);
      }
      if (id.balancers.empty() || id.role.back() == '+' || name.empty())
        return make_error(
            ErrorCode::kBadRequest,
            where + "role \"" + id.role + "\" needs Balancer names: balancer:<name>[+<name>...]");
    } else if (id.role == "balancer") {
      // Still accepted (existing token files), but such a token may rewrite
      // the status of every Balancer, including ones it does not serve.
      auth.warnings_.push_back(where + "role balancer (user \"" + id.user +
                               "\") is unscoped: it may write the status of every Balancer; "
                               "prefer balancer:<name>[+<name>...]");
      logger("api")->warn("{}", auth.warnings_.back());
    } else if (id.role != "admin" && id.role != "viewer") {
      return make_error(ErrorCode::kBadRequest,
                        where + "unknown role \"" + id.role +
                            "\": one of admin, viewer, balancer:<name>[+<name>...], balancer, "
                            "node:<name>");
    }
    if (!tokens.emplace(parts[0], std::move(id)).second)
      return make_error(ErrorCode::kBadRequest, where + "duplicate token");
  }
  auth.tokens_ = std::make_shared<const Tokens>(std::move(tokens));
  return auth;
}

Result<Identity> Authenticator::authenticate(const std::string& authorization) const {
  if (!enabled_) return Identity{"anonymous", "admin", ""};
  if (authorization.empty())
    return make_error(ErrorCode::kUnauthorized, "Unauthorized: missing bearer token");
  constexpr std::string_view kBearer = "bearer ";
  if (authorization.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(),
                  [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); }))
    return make_error(ErrorCode::kUnauthorized,
                      "Unauthorized: the Authorization header is not \"Bearer <token>\"");
  const std::shared_ptr<const Tokens> tokens = current();
  auto it = tokens->find(trim(authorization.substr(kBearer.size())));
  if (it == tokens->end())
    return make_error(ErrorCode::kUnauthorized, "Unauthorized: unknown token");
  return it->second;
}

std::shared_ptr<const Authenticator::Tokens> Authenticator::current() const {
  std::lock_guard lock(*mu_);
  return tokens_;
}

size_t Authenticator::size() const { return current()->size(); }

Result<size_t> Authenticator::reload(const std::string& path) {
  if (!enabled_)
    return make_error(ErrorCode::kBadRequest, "authentication is off: there is no tokens file");
  auto fresh = from_file(path);
  if (!fresh) return fresh.take_error();
  std::shared_ptr<const Tokens> tokens = fresh->current();
  std::lock_guard lock(*mu_);
  tokens_ = std::move(tokens);
  return tokens_->size();
}

namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

Result<void> authorize_balancer(const Identity& who, const Attributes& what) {
  if (what.resource == "events" && what.verb == "create") return Ok{};
  if (what.resource == "balancers" && what.subresource == "status" && what.verb == "update") {
    if (who.balancers.empty()) return Ok{};  // the unscoped role (warned about at load)
    if (std::find(who.balancers.begin(), who.balancers.end(), what.name) != who.balancers.end())
      return Ok{};
    return forbidden(who, what, "this token serves only Balancer(s) " + joined(who.balancers));
  }
  return forbidden(who, what,
                   "balancers may only read, update the status of Balancers and create events");
}

// Kubernetes' NodeRestriction, as this API has it: an agent's one write path
// is its heartbeat; everything an agent owns flows through it, with the
// heartbeat service's checks (lease holder, epoch, binding, bounds).
Result<void> authorize_node(const Identity& who, const Attributes& what,
                            const BoundNodeLookup& bound_node) {
  const std::string& self = who.node_name;
  if (is_read(what.verb)) {
    // VMSet templates and VM runtime specs carry the workloads' env; an agent
    // gets its own VMs' in its heartbeat answers and needs no other.
    if (what.resource == "vmsets")
      return forbidden(who, what, "nodes may not read VMSets (their templates hold env)");
    if (what.resource == "secrets")
      return forbidden(who, what,
                       "nodes may not read Secrets; a node receives the values its VMs take "
                       "from them in its heartbeat answer");
    if (what.resource != "vms") return Ok{};
    // An agent has its own VMs' logs on its disk, and another node's are
    // none of its business.
    if (is_vm_log(what)) return forbidden(who, what, "nodes may not read VM logs");
    if (what.verb != "get" || what.name.empty() || !what.subresource.empty())
      return forbidden(who, what, "nodes may only get the VMs bound to them, one by name");
    if (!bound_node) return forbidden(who, what, "the VM's binding is not known here");
    auto bound = bound_node(what.name);
    if (!bound) return bound.take_error();
    if (bound->has_value() && **bound == self) return Ok{};
    // A VM that does not exist and one bound elsewhere answer alike: 403 says
    // nothing about which VMs exist.
    return forbidden(who, what, "the VM is not bound to node \"" + self + "\"");
  }
  if (what.resource == "events") {
    if (what.verb == "create") return Ok{};
    return forbidden(who, what, "nodes may only create events");
  }
  if (what.resource == "nodes" && what.subresource == "heartbeat" && what.verb == "update") {
    if (what.name == self) return Ok{};
    return forbidden(who, what,
                     "a node may only send the heartbeat of its own Node \"" + self + "\"");
  }
  if (what.resource == "nodes" && what.verb == "create")
    return forbidden(who, what,
                     "a node registers through its heartbeat (POST nodes/" + self + "/heartbeat)");
  if (what.resource == "nodes" && what.verb == "update" && what.subresource.empty())
    return forbidden(who, what, "a Node's labels, taints, unschedulable and drain are the admin's");
  if (what.resource == "nodes" && what.subresource == "status")
    return forbidden(
        who, what,
        "a node writes its status through its heartbeat (POST nodes/" + self + "/heartbeat)");
  if (what.resource == "vms" && what.subresource == "status")
    return forbidden(who, what,
                     "a node reports its VMs through its heartbeat (POST nodes/" + self +
                         "/heartbeat), which checks their binding and epoch");
  return forbidden(who, what, "nodes may only send their heartbeat and create events");
}

}  // namespace

Result<void> authorize(const Identity& who, const Attributes& what,
                       const BoundNodeLookup& bound_node) {
  if (who.role == "admin") return Ok{};
  if (!who.node_name.empty()) return authorize_node(who, what, bound_node);
  // The data plane needs the endpoints, not what the workloads print
  // (which may hold what a Secret redacts for it).
  if (who.is_balancer() && is_vm_log(what))
    return forbidden(who, what, "balancers may not read VM logs");
  if (is_read(what.verb)) return Ok{};
  if (who.role == "viewer") return forbidden(who, what, "viewers may only get, list and watch");
  if (who.is_balancer()) return authorize_balancer(who, what);
  return forbidden(who, what, "unknown role");
}

}  // namespace corral::server
