#include "cli/top.h"

#include <algorithm>
#include <optional>
#include <ostream>

#include "api/json.h"
#include "cli/printers.h"
#include "api/units.h"

namespace corral::cli {

namespace {

constexpr const char* kUnknown = "<unknown>";

struct Usage {
  std::string name;
  std::string node;                          // VMs only
  std::optional<int64_t> cpu, memory;        // measured, milli-units; nullopt: no report
  std::optional<int64_t> cpu_of, memory_of;  // what the percentages are of
};

std::string percent(std::optional<int64_t> used, std::optional<int64_t> of) {
  if (!used || !of || *of <= 0) return kUnknown;
  return format_percent(static_cast<double>(*used) / static_cast<double>(*of));
}

// A NotReady node's last report is stale (the pool's `used` skips it too), and
// only a Running VM is measured.
Usage usage_of(const Json& o, bool is_node) {
  Usage u;
  u.name = object_name(o);
  std::string phase = field_value(o, "status.phase");
  bool measured = is_node ? phase == node_phase::kReady : phase == vm_phase::kRunning;
  if (measured) {
    u.cpu = milli_at(o, "status.usage.cpu");
    u.memory = milli_at(o, "status.usage.memory");
  }
  if (is_node) {
    u.cpu_of = milli_at(o, "status.allocatable.cpu");
    u.memory_of = milli_at(o, "status.allocatable.memory");
  } else {
    u.node = field_value(o, "spec.nodeName");
    u.cpu_of = milli_at(o, "spec.resources.cpu");
    u.memory_of = milli_at(o, "spec.resources.memory");
  }
  return u;
}

}  // namespace

int run_top(Context& ctx, const TopOptions& options) {
  auto fail = [&](const Error& e) {
    print_error(ctx.err, e);
    return kExitError;
  };
  if (options.args.empty())
    return fail(make_error(ErrorCode::kBadRequest, "give nodes or vms, e.g. `corralctl top nodes`"));
  auto kind = resolve_kind(options.args.front());
  if (!kind) return fail(kind.error());
  bool is_node = (*kind)->kind == "Node";
  if (!is_node && (*kind)->kind != "VM")
    return fail(make_error(ErrorCode::kBadRequest, "top shows nodes and vms only, not " + (*kind)->plural));
  if (!options.sort_by.empty() && options.sort_by != "cpu" && options.sort_by != "memory")
    return fail(
        make_error(ErrorCode::kBadRequest, "--sort-by takes cpu or memory, not \"" + options.sort_by + "\""));

  int exit_code = kExitOk;
  std::vector<Json> items;
  if (options.args.size() == 1) {
    auto list = ctx.client.list(**kind, {options.label_selector, ""});
    if (!list) return fail(list.error());
    if (list->contains("items") && (*list)["items"].is_array())
      for (const auto& i : (*list)["items"]) items.push_back(i);
  } else {
    for (size_t i = 1; i < options.args.size(); ++i) {
      auto o = ctx.client.get(**kind, options.args[i]);
      if (!o) {
        print_error(ctx.err, o.error());
        exit_code = kExitError;
        continue;
      }
      items.push_back(*o);
    }
  }
  if (items.empty()) {
    if (exit_code == kExitOk) ctx.err << "No resources found.\n";
    return exit_code;
  }

  std::vector<Usage> rows;
  for (const auto& o : items) rows.push_back(usage_of(o, is_node));
  // Highest first for --sort-by; a missing measurement sorts last; ties by name.
  auto key = [&](const Usage& u) {
    return options.sort_by == "cpu" ? u.cpu.value_or(-1) : u.memory.value_or(-1);
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const Usage& a, const Usage& b) {
    if (!options.sort_by.empty() && key(a) != key(b)) return key(a) > key(b);
    return a.name < b.name;
  });

  std::vector<Row> table;
  if (is_node)
    table.push_back({"NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"});
  else
    table.push_back({"NAME", "NODE", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"});
  for (const auto& u : rows) {
    Row r = {u.name};
    if (!is_node) r.push_back(u.node.empty() ? "<none>" : u.node);
    r.insert(r.end(), {u.cpu ? format_millicores(*u.cpu) : kUnknown, percent(u.cpu, u.cpu_of),
                       u.memory ? format_mebibytes(*u.memory) : kUnknown, percent(u.memory, u.memory_of)});
    table.push_back(std::move(r));
  }
  ctx.out << render_rows(table);
  return exit_code;
}

}  // namespace corral::cli
