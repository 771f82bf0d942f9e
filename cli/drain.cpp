#include "cli/drain.h"

#include <map>
#include <ostream>
#include <set>
#include <thread>
#include <vector>

#include "api/json.h"
#include "api/annotations.h"
#include "cli/cordon.h"

namespace corral::cli {
namespace {

struct VmLeft {
  std::string name;
  std::string state;  // "moving to vm/x" | the controller's DrainWaiting reason | "waiting"
};

std::string annotation_of(const Json& vm, std::string_view key) {
  const Json* meta = vm.contains("metadata") ? &vm["metadata"] : nullptr;
  if (!meta || !meta->contains("annotations") || !(*meta)["annotations"].is_object()) return "";
  return (*meta)["annotations"].value(std::string(key), "");
}

// The same rule as the controller's drain (reconcile/moves.cpp): a VM that
// may still run on the node.
bool on_node(const Json& vm, const std::string& node) {
  if (field_value(vm, "spec.nodeName") != node) return false;
  const std::string phase = field_value(vm, "status.phase");
  if (phase == vm_phase::kLost || phase == vm_phase::kTerminating) return false;
  return !(phase == vm_phase::kFailed && field_value(vm, "spec.restartPolicy") == "Never");
}

// The VMs still on `node`, each with what it waits for.
Result<std::vector<VmLeft>> vms_left(ResourceClient& client, const std::string& node) {
  auto vms = client.list(*find_kind("VM"), {});
  if (!vms) return vms.take_error();
  std::map<std::string, std::string> replaced_by;  // old → what its replacement is doing
  std::vector<std::string> on;
  for (const Json& vm : (*vms)["items"]) {
    const std::string name = field_value(vm, "metadata.name");
    const std::string replaces = annotation_of(vm, kReplacesAnnotation);
    if (!replaces.empty()) {
      // A replacement that fits nowhere yet carries the scheduler's reason.
      const std::string pending = field_value(vm, "spec.nodeName").empty()
                                      ? field_value(vm, "status.message")
                                      : "";
      replaced_by[replaces] = "moving: replacement vm/" + name +
                              (pending.empty() ? " starting" : " pending: " + pending);
    }
    if (on_node(vm, node)) on.push_back(name);
  }
  // The controller says in DrainWaiting Events what holds each VM back; the
  // newest per VM is what it waits for now.
  std::map<std::string, std::pair<std::string, std::string>> waits;  // vm → (time, reason)
  ListOptions events;
  events.field_selector = "involvedObject.kind=Node,involvedObject.name=" + node +
                          ",reason=DrainWaiting";
  if (auto list = client.list(*find_kind("Event"), events)) {
    for (const Json& e : (*list)["items"]) {
      const std::string message = e.value("message", "");
      const size_t colon = message.find(": ");
      if (message.rfind("vm/", 0) != 0 || colon == std::string::npos) continue;
      const std::string vm = message.substr(3, colon - 3);
      const std::string when = e.value("lastTimestamp", "");
      auto& w = waits[vm];
      if (when >= w.first) w = {when, message.substr(colon + 2)};
    }
  }
  std::vector<VmLeft> out;
  for (const std::string& name : on) {
    VmLeft left{name, "waiting to start its move"};
    if (auto r = replaced_by.find(name); r != replaced_by.end()) {
      left.state = r->second;
    } else if (auto w = waits.find(name); w != waits.end()) {
      left.state = w->second.second;
    }
    out.push_back(std::move(left));
  }
  return out;
}

}  // namespace

int run_drain(Context& ctx, const DrainOptions& options) {
  if (options.node.empty()) {
    print_error(ctx.err, make_error(ErrorCode::kBadRequest, "give the node to drain"));
    return kExitError;
  }
  const std::string& node = options.node;
  auto started = update_node_spec(ctx.client, node, [](Json& spec) {
    const bool change = !spec.value("unschedulable", false) || !spec.value("drain", false);
    spec["unschedulable"] = true;
    spec["drain"] = true;
    return change;
  });
  if (!started) {
    Error e = started.take_error();
    if (e.code == ErrorCode::kConflict) e.message = "node/" + node + " was not drained: " + e.message;
    print_error(ctx.err, e);
    return kExitError;
  }
  ctx.out << "node/" << node << (*started ? " cordoned, draining" : " already draining") << "\n";

  auto wait = options.wait ? options.wait
                           : [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  const auto deadline = ctx.clock.steady_now() + options.timeout;
  std::string last_line;
  for (;;) {
    auto left = vms_left(ctx.client, node);
    if (!left) {
      print_error(ctx.err, left.error());
      return kExitError;
    }
    if (left->empty()) {
      ctx.out << "node/" << node << " drained\n";
      return kExitOk;
    }
    size_t moving = 0;
    for (const VmLeft& v : *left) moving += v.state.rfind("moving", 0) == 0;
    std::string line = "node/" + node + ": " + std::to_string(left->size()) +
                       (left->size() == 1 ? " VM" : " VMs") + " left, " +
                       std::to_string(moving) + " of them moving";
    // Each VM that is not simply on its way: what it waits for.
    for (const VmLeft& v : *left)
      if (!v.state.ends_with(" starting")) line += "\n  vm/" + v.name + ": " + v.state;
    if (line != last_line) ctx.out << line << "\n" << std::flush;
    last_line = line;
    if (ctx.clock.steady_now() >= deadline) {
      std::string message = "node/" + node + " not drained after " +
                            std::to_string(options.timeout.count()) + "s; still on it:";
      for (const VmLeft& v : *left) message += "\n  vm/" + v.name + ": " + v.state;
      message += "\nthe drain goes on in the controller; `corralctl uncordon " + node +
                 "` ends it";
      print_error(ctx.err, make_error(ErrorCode::kTimeout, message));
      return kExitError;
    }
    wait(options.poll);
  }
}

}  // namespace corral::cli
