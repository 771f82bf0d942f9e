#include "controller/server/vm_log.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <cstdint>
#include <optional>
#include <string>

#include "api/json.h"
#include "base/log.h"
#include "controller/server/log_follow.h"
#include "controller/server/status.h"

namespace corral::server {

namespace {

// tailLines below 10^9, as the agent's endpoint takes them.
constexpr size_t kMaxTailDigits = 9;
// ?follow=true|false (kubectl sends true), 1|0 too; absent: false.
Result<bool> read_follow(const HttpRequest& req) {
  if (!req.has_param("follow")) return false;
  const std::string text = req.get_param_value("follow");
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0" || text.empty()) return false;
  return make_error(ErrorCode::kBadRequest, "invalid follow \"" + text + "\": must be true or false");
}

// An agent's error text is relayed up to this long: a node may be hostile,
// and its reason goes into a Status and a log line.
constexpr size_t kMaxAgentReason = 1024;

Result<std::optional<int64_t>> read_tail_lines(const HttpRequest& req) {
  if (!req.has_param("tailLines")) return std::optional<int64_t>();
  const std::string text = req.get_param_value("tailLines");
  if (text.empty() || text.size() > kMaxTailDigits ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return make_error(ErrorCode::kBadRequest, "invalid tailLines \"" + text +
                                                  "\": must be a non-negative integer of at most " +
                                                  std::to_string(kMaxTailDigits) + " digits");
  }
  return std::optional<int64_t>(std::stoll(text));
}

// The agent answers errors in plain text ("no log for vm/web-1 on this node
// ..."): that, trimmed and bounded, or "HTTP <status>" when it said nothing.
std::string agent_reason(const AgentReply& reply) {
  std::string text = reply.body.substr(0, kMaxAgentReason + 1);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.pop_back();
  if (text.size() > kMaxAgentReason) text = text.substr(0, kMaxAgentReason) + "...";
  return text.empty() ? "HTTP " + std::to_string(reply.status) : text;
}

Error agent_refusal(const std::string& node, const AgentReply& reply) {
  const std::string prefix = "agent of node/" + node + ": ";
  const std::string reason = agent_reason(reply);
  switch (reply.status) {
    case 404:
      return make_error(ErrorCode::kNotFound, prefix + reason);
    case 400:
      return make_error(ErrorCode::kBadRequest, prefix + reason);
    case 401:
    case 403:
      // Not the caller's credentials but the controller's: passing 401 on
      // would tell corralctl that its own token was refused.
      return make_error(ErrorCode::kUnavailable,
                        prefix + "it refused the controller's signature (HTTP " +
                            std::to_string(reply.status) + ": " + reason +
                            "); its clock may be off, or it has not yet heard this controller's "
                            "key in a heartbeat answer");
    default:
      return make_error(ErrorCode::kUnavailable, prefix + reason);
  }
}

// A slot among ServerOptions::max_log_reads, given back when it goes out of scope.
class LogReadSlot {
 public:
  LogReadSlot(std::atomic<size_t>& in_flight, size_t max)
      : in_flight_(in_flight), taken_(in_flight.fetch_add(1) < max) {}
  ~LogReadSlot() { in_flight_.fetch_sub(1); }
  LogReadSlot(const LogReadSlot&) = delete;
  LogReadSlot& operator=(const LogReadSlot&) = delete;
  bool taken() const { return taken_; }

 private:
  std::atomic<size_t>& in_flight_;
  const bool taken_;
};

}  // namespace

std::optional<Error> agent_read_error(const std::string& node, const std::string& address,
                                      Result<AgentReply>& reply) {
  if (!reply) {
    Error e = reply.take_error();
    if (e.code == ErrorCode::kTooLarge) {
      e.message = "agent of node/" + node + ": " + e.message;
    } else {
      e.message = "cannot reach agent of node/" + node + " at " + address + ": " + e.message;
    }
    e.code = ErrorCode::kUnavailable;
    return e;
  }
  if (reply->status < 200 || reply->status >= 300) return agent_refusal(node, *reply);
  return std::nullopt;
}

void handle_vm_log(Context& ctx, const Route& route, const Identity& who, const HttpRequest& req,
                   HttpResponse& res) {
  const std::string& vm = route.name;
  auto fail = [&](const Error& e) { write_error(res, e, vm, "vms"); };
  if (!ctx.agent_logs)
    return fail(make_error(ErrorCode::kUnavailable, "this controller reads no agent logs"));
  auto tail = read_tail_lines(req);
  if (!tail) return fail(tail.error());
  auto follow = read_follow(req);
  if (!follow) return fail(follow.error());
  // A follow's share is taken first, as a watch's is: past it nothing is read.
  std::shared_ptr<void> follow_slot;
  if (*follow) {
    bool server_full = false;
    follow_slot = ctx.log_follows.acquire(who.user, &server_full);
    if (!follow_slot) {
      const LogFollowOptions& caps = ctx.options.log_follow;
      return write_too_many_requests(
          res, std::chrono::seconds(10),
          server_full ? "too many VM log follows: the server holds " + std::to_string(caps.max_total) +
                            ", the most it may; retry later"
                      : "too many VM log follows: user \"" + who.user + "\" holds " +
                            std::to_string(caps.max_per_identity) +
                            ", the most one identity may; end one or retry later",
          vm, "vms");
    }
  }

  auto record = ctx.store.get("VM", vm);
  if (!record) return fail(record.error());
  const Json object = (*record)->parse();
  const std::string node = field_value(object, "spec.nodeName");
  if (node.empty()) {
    const std::string why = field_value(object, "status.message");
    return fail(make_error(ErrorCode::kBadRequest, "vm/" + vm + " is not bound to a node yet" +
                                                       (why.empty() ? "" : " (" + why + ")")));
  }
  auto node_record = ctx.store.get("Node", node);
  if (!node_record) return write_error(res, node_record.error(), node, "nodes");
  const std::string address = field_value((*node_record)->parse(), "status.address");
  if (address.empty()) {
    return fail(make_error(ErrorCode::kUnavailable,
                           "node/" + node + " has no agent address (agent not running?)"));
  }

  LogReadSlot slot(ctx.log_reads, ctx.options.max_log_reads);
  if (!slot.taken()) {
    return write_too_many_requests(res, std::chrono::seconds(1),
                                   "too many VM log reads in flight: the server allows " +
                                       std::to_string(ctx.options.max_log_reads) +
                                       " at once; retry in a second",
                                   vm, "vms");
  }
  // The name is a stored VM's, a DNS-1123 subdomain: nothing in it to escape.
  std::string path = "/v1/logs/" + vm;
  if (*tail) path += "?tailLines=" + std::to_string(**tail);
  auto reply = ctx.agent_logs->read_log(node, address, path);
  if (auto e = agent_read_error(node, address, reply)) {
    logger("api")->info("log of vm/{}: {}", vm, e->message);
    return fail(*e);
  }
  if (follow_slot) {
    if (reply->start < 0 || reply->end != reply->start + static_cast<int64_t>(reply->body.size())) {
      return fail(make_error(ErrorCode::kUnavailable,
                             "agent of node/" + node +
                                 " cannot follow logs (it is older than this controller); read "
                                 "without follow"));
    }
    res.status = 200;
    res.set_header("Content-Type", "text/plain; charset=utf-8");
    auto session =
        std::make_shared<FollowSession>(FollowTarget{vm, node, address}, std::move(reply->body),
                                        reply->end, FollowClock::now(), ctx.options.log_follow);
    res.events = ctx.log_follows.follow(std::move(session), *ctx.agent_logs, std::move(follow_slot));
    // A backstop: the session ends itself at max_time, with a line saying so.
    res.events_lifetime = ctx.options.log_follow.max_time + std::chrono::seconds(10);
    return;
  }
  res.status = 200;
  res.set_content(std::move(reply->body), "text/plain; charset=utf-8");
}

}  // namespace corral::server
