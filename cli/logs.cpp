#include "cli/logs.h"

#include <ostream>

#include "api/json.h"

namespace corral::cli {

namespace {

// The VM's name from NAME, vm NAME or vm/NAME.
Result<std::string> vm_name(const std::vector<std::string>& args) {
  auto usage = [] {
    return make_error(ErrorCode::kBadRequest,
                      "give one VM: `corralctl logs NAME`, `logs vm NAME` or `logs vm/NAME`");
  };
  std::string kind, name;
  if (args.size() == 1) {
    size_t slash = args[0].find('/');
    if (slash == std::string::npos) return args[0];
    kind = args[0].substr(0, slash);
    name = args[0].substr(slash + 1);
  } else if (args.size() == 2) {
    kind = args[0];
    name = args[1];
  } else {
    return usage();
  }
  auto k = resolve_kind(kind);
  if (!k) return k.take_error();
  if ((*k)->kind != "VM")
    return make_error(ErrorCode::kBadRequest, "logs are kept for VMs only, not for " + (*k)->plural);
  if (name.empty()) return usage();
  return name;
}

}  // namespace

int run_logs(Context& ctx, const LogsOptions& options, AgentClient& agent) {
  auto fail = [&](const Error& e) {
    print_error(ctx.err, e);
    return kExitError;
  };
  auto name = vm_name(options.args);
  if (!name) return fail(name.error());
  auto vm = ctx.client.get(*find_kind("VM"), *name);
  if (!vm) return fail(vm.error());

  std::string node_name = field_value(*vm, "spec.nodeName");
  if (node_name.empty()) {
    std::string why = field_value(*vm, "status.message");
    return fail(make_error(ErrorCode::kBadRequest, "vm/" + *name + " is not bound to a node yet" +
                                                       (why.empty() ? "" : " (" + why + ")")));
  }
  auto node = ctx.client.get(*find_kind("Node"), node_name);
  if (!node) return fail(node.error());
  std::string address = field_value(*node, "status.address");
  if (address.empty()) {
    return fail(make_error(ErrorCode::kUnavailable,
                           "node/" + node_name + " has no agent address (agent not running?)"));
  }

  std::string path = "/v1/logs/" + ApiClient::url_encode(*name);
  if (options.tail >= 0) path += "?tailLines=" + std::to_string(options.tail);
  auto response = agent.get(address, path);
  if (!response) {
    Error e = response.take_error();
    e.message = "cannot reach agent of node/" + node_name + " at " + address + ": " + e.message;
    return fail(e);
  }
  if (response->status < 200 || response->status >= 300) {
    Error e = error_from_response(*response);
    // The agent answers errors in plain text, which says it better than
    // "the server answered HTTP 404: ...".
    std::string text = response->body;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    if (!text.empty() && text.front() != '{') e.message = text;
    e.message = "agent of node/" + node_name + ": " + e.message;
    return fail(e);
  }
  ctx.out << response->body << std::flush;
  return kExitOk;
}

}  // namespace corral::cli
