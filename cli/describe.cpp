#include "cli/describe.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <ostream>
#include <regex>
#include <string_view>

#include "api/json.h"
#include "api/quantity.h"
#include "api/yaml.h"
#include "cli/describe_balancer.h"
#include "cli/describe_secret.h"
#include "cli/line_diff.h"
#include "cli/printers.h"
#include "api/units.h"

namespace corral::cli {

namespace {

std::string map_lines(const std::string& title, const Json& map) {
  if (!map.is_object() || map.empty()) return describe_label(title) + "<none>\n";
  std::string out;
  bool first = true;
  for (auto it = map.begin(); it != map.end(); ++it) {
    std::string v = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
    out += (first ? describe_label(title) : std::string(kDescribeLabelWidth, ' ')) + it.key() + "=" + v + "\n";
    first = false;
  }
  return out;
}

// YAML quotes a string that reads as a number (cpu "2", availability "1");
// describe is read, not parsed back, so the figures humanize_figures wrote
// go bare, as kubectl describe's do. Other strings (an env value "1") keep
// their quotes: they are strings.
std::string unquoted_figure(const std::string& line) {
  static const std::regex kQuotedFigure(
      R"re(^(\s*(?:- )?(?:cpu|memory|availability): )"([0-9][0-9.]*)"$)re");
  return std::regex_replace(line, kQuotedFigure, "$1$2");
}

std::string indented_yaml(const Json& value) {
  std::string out;
  for (const auto& line : split_lines(to_yaml(value))) out += "  " + unquoted_figure(line) + "\n";
  return out;
}

const Json& member(const Json& object, const char* key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

// Ratios of [0,1] (or ±1: a deviation) that describe shows as percentages.
bool is_percent_field(std::string_view key) {
  static constexpr std::string_view kKeys[] = {"meanLoad",     "loadSpread",    "load",   "deviation",
                                               "maxImbalance", "highWatermark", "minGain"};
  return std::find(std::begin(kKeys), std::end(kKeys), key) != std::end(kKeys);
}

// Every figure of a spec or status as people read it, wherever it is
// (describe is for people; -o yaml and -o json keep the API's exact values),
// alike with `get -o wide` and `top`:
//   memory        "24683584Ki" → "23.5Gi", a byte count → "70.6Gi" (format_bytes)
//   cpu           a quantity: "4", "1200m" (format_cpu); overcommit's "1.5×"
//   availability  "0.999" (format_availability, as AVAILABILITY in get)
//   ratios        meanLoad 0.024333… → "2.4%", deviation −0.05 → "-5%"
void humanize_figures(Json& value, std::string_view parent = "") {
  if (value.is_array()) {
    for (Json& v : value) humanize_figures(v, parent);
    return;
  }
  if (!value.is_object()) return;
  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string& key = it.key();
    Json& v = it.value();
    if (parent == "overcommit" && v.is_number()) {
      v = format_ratio(v.get<double>()) + "×";
    } else if ((key == "memory" || key == "cpu") && (v.is_string() || v.is_number())) {
      auto q = parse_quantity(v.is_string() ? v.get<std::string>() : v.dump());
      if (q && q->milli >= 0) v = key == "memory" ? format_bytes(q->milli) : format_cpu(q->milli);
    } else if (key == "availability" && v.is_number()) {
      v = format_availability(v.get<double>());
    } else if (is_percent_field(key) && v.is_number()) {
      v = format_percent(v.get<double>(), 1);
    } else {
      humanize_figures(v, key);
    }
  }
}

std::string cores(int64_t milli) {
  const std::string n = format_cores(milli);
  return n + (n == "1" ? " core" : " cores");
}

// "6 cores / 70.6Gi" of the ResourceList at `path` (absent: 0).
std::string cores_and_memory(const Json& object, const std::string& path, const std::string& cpu_note = "") {
  const int64_t cpu = milli_at(object, path + ".cpu").value_or(0);
  const int64_t memory = milli_at(object, path + ".memory").value_or(0);
  return cores(cpu) + cpu_note + " / " + format_bytes(memory);
}

// A Pool's numbers in words: V = Σ Pᵢ, what overcommit makes of it, and what
// is allocated and used.
std::string pool_summary(const Json& pool) {
  const std::string ready = field_value(pool, "status.readyNodes");
  const std::string cpu_over = format_ratio(std::atof(field_value(pool, "spec.overcommit.cpu").c_str()));
  const std::string memory_over = format_ratio(std::atof(field_value(pool, "spec.overcommit.memory").c_str()));
  std::string out;
  out += describe_label("Capacity") + cores_and_memory(pool, "status.capacity") + "   (V = Σ allocatable of " +
         (ready.empty() ? "0" : ready) + " Ready nodes)\n";
  out += describe_label("Schedulable") +
         cores_and_memory(pool, "status.schedulable", cpu_over == "1" ? "" : " (cpu overcommit " + cpu_over + "×)") +
         (memory_over == "1" ? "" : " (memory overcommit " + memory_over + "×)") + "\n";
  out += describe_label("Allocated") + cores_and_memory(pool, "status.allocated") +
         "   (requested by the VMs on its nodes)\n";
  out += describe_label("Used") + cores_and_memory(pool, "status.used") +
         "   (measured on its hosts: the VMs and everything else)\n";
  return out;
}

constexpr size_t kMaxEvents = 20;  // describe shows the most recent ones, oldest first

std::string last_seen(const Json& e) {
  std::string t = field_value(e, "lastTimestamp");
  return t.empty() ? field_value(e, "metadata.creationTimestamp") : t;
}

std::vector<Json> recent_events(std::vector<Json> events) {
  // RFC 3339 UTC timestamps of one format sort as strings.
  std::stable_sort(events.begin(), events.end(),
                   [](const Json& a, const Json& b) { return last_seen(a) < last_seen(b); });
  if (events.size() > kMaxEvents) events.erase(events.begin(), events.end() - kMaxEvents);
  return events;
}

}  // namespace

std::string describe_object(const KindInfo& kind, const Json& object, const std::vector<Json>& events,
                            std::chrono::system_clock::time_point now) {
  return describe_object(kind, object, events, now, {});
}

std::string describe_object(const KindInfo& kind, const Json& object, const std::vector<Json>& events,
                            std::chrono::system_clock::time_point now, const std::vector<Json>& vms) {
  const Json& meta = member(object, "metadata");
  std::string created = field_value(object, "metadata.creationTimestamp");
  std::string out;
  out += describe_label("Name") + object_name(object) + "\n";
  out += describe_label("Kind") + kind.kind + "\n";
  out += map_lines("Labels", member(meta, "labels"));
  out += map_lines("Annotations", member(meta, "annotations"));
  out += describe_label("Created") +
         (created.empty() ? std::string("<unknown>") : created + " (" + age_since(created, now) + " ago)") +
         "\n";
  const Json& owners = member(meta, "ownerReferences");
  if (owners.is_array() && !owners.empty()) {
    std::string list;
    for (const auto& o : owners) {
      if (!list.empty()) list += ", ";
      const KindInfo* ok = find_kind(o.value("kind", ""));
      list += (ok ? ok->singular : o.value("kind", "")) + "/" + o.value("name", "");
    }
    out += describe_label("Controlled By") + list + "\n";
  }
  // Secrets: keys and sizes, never values.
  if (kind.kind == "Secret") return out + describe_secret(object);
  // Events have no spec/status split: their fields are top level.
  if (kind.kind == "Event") {
    Json rest = Json::object();
    for (auto it = object.begin(); it != object.end(); ++it)
      if (it.key() != "apiVersion" && it.key() != "kind" && it.key() != "metadata")
        rest[it.key()] = it.value();
    out += "Details:\n" + indented_yaml(rest);
    return out;
  }
  Json status = member(object, "status");
  const Json conditions = status.is_object() && status.contains("conditions") ? status["conditions"] : Json();
  if (status.is_object()) status.erase("conditions");
  // Balancers: a summary and an endpoint table instead of raw YAML.
  std::optional<std::string> summary;
  if (kind.kind == "Balancer") summary = describe_balancer(object, now);
  if (summary) {
    out += *summary;
  } else {
    if (kind.kind == "Pool") out += pool_summary(object);
    Json spec = member(object, "spec");
    humanize_figures(spec);
    humanize_figures(status);
    out += spec.is_object() && !spec.empty() ? "Spec:\n" + indented_yaml(spec) : describe_label("Spec") + "<none>\n";
    out += status.is_object() && !status.empty() ? "Status:\n" + indented_yaml(status)
                                                 : describe_label("Status") + "<none>\n";
  }
  if (kind.kind == "Node") {
    if (vms.empty()) {
      out += describe_label("VMs") + "<none>\n";
    } else {
      // What runs there and what it asked for (the node's allocated total is
      // the sum of the requests; USED in `get nodes -o wide` is the host's own).
      std::vector<Row> rows = {{"NAME", "PHASE", "CPU", "MEMORY", "AGE"}};
      int64_t cpu = 0, memory = 0;
      for (const Json& vm : vms) {
        const int64_t c = milli_at(vm, "spec.resources.cpu").value_or(0);
        const int64_t m = milli_at(vm, "spec.resources.memory").value_or(0);
        cpu += c;
        memory += m;
        const std::string phase = field_value(vm, "status.phase");
        rows.push_back({field_value(vm, "metadata.name"), phase.empty() ? "Pending" : phase,
                        format_cpu(c), format_bytes(m),
                        age_since(field_value(vm, "metadata.creationTimestamp"), now)});
      }
      out += "VMs:\n" + render_rows(rows, {}, "  ");
      out += describe_label("Allocated") + format_cpu(cpu) + " CPU / " + format_bytes(memory) + " (" +
             std::to_string(vms.size()) + (vms.size() == 1 ? " VM" : " VMs") + ")\n";
    }
  }
  if (conditions.is_array() && !conditions.empty()) {
    std::vector<Row> rows = {{"TYPE", "STATUS", "REASON", "MESSAGE", "AGE"}};
    for (const auto& c : conditions) {
      rows.push_back({c.value("type", ""), c.value("status", ""), c.value("reason", ""),
                      c.value("message", ""), age_since(c.value("lastTransitionTime", ""), now)});
    }
    out += "Conditions:\n" + render_rows(rows, {}, "  ");
  } else {
    out += describe_label("Conditions") + "<none>\n";
  }
  if (events.empty()) {
    out += describe_label("Events") + "<none>\n";
  } else {
    std::vector<Row> rows = {{"LAST-SEEN", "TYPE", "REASON", "FROM", "MESSAGE"}};
    for (const auto& e : events) {
      std::string last = field_value(e, "lastTimestamp");
      if (last.empty()) last = field_value(e, "metadata.creationTimestamp");
      std::string count = field_value(e, "count");
      std::string seen = age_since(last, now);
      if (!count.empty() && count != "1") seen += " (x" + count + ")";
      rows.push_back({seen, field_value(e, "type"), field_value(e, "reason"),
                      field_value(e, "source.component"), field_value(e, "message")});
    }
    out += "Events:\n" + render_rows(rows, {}, "  ");
  }
  return out;
}

int run_describe(Context& ctx, const DescribeOptions& options) {
  // KIND NAME [NAME...], or KIND/NAME as kubectl takes it.
  auto expanded = expand_object_ref(options.args);
  if (!expanded) {
    print_error(ctx.err, expanded.error());
    return kExitError;
  }
  const std::vector<std::string>& args = *expanded;
  if (args.size() < 2 || args[1].empty()) {
    print_error(ctx.err, make_error(ErrorCode::kBadRequest,
                                    "give KIND NAME [NAME...] or KIND/NAME, e.g. `corralctl describe "
                                    "vmset frontend` or `corralctl describe vmset/frontend`"));
    return kExitError;
  }
  auto kind = resolve_kind(args.front());
  if (!kind) {
    print_error(ctx.err, kind.error());
    return kExitError;
  }
  const KindInfo* event_kind = find_kind("Event");
  int exit_code = kExitOk;
  bool first = true;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& name = args[i];
    auto object = ctx.client.get(**kind, name);
    if (!object) {
      print_error(ctx.err, object.error());
      exit_code = kExitError;
      continue;
    }
    std::vector<Json> events;
    if ((*kind)->kind != "Event" && event_kind) {
      auto list = ctx.client.list(
          *event_kind, {"", "involvedObject.kind=" + (*kind)->kind + ",involvedObject.name=" + name});
      // Events are a courtesy: describe still shows the object without them.
      if (list && list->contains("items") && (*list)["items"].is_array())
        for (const auto& e : (*list)["items"]) events.push_back(e);
      events = recent_events(std::move(events));
    }
    std::vector<Json> vms;
    if ((*kind)->kind == "Node") {
      // Like its events, a courtesy: the node is described without them.
      if (const KindInfo* vm_kind = find_kind("VM")) {
        auto list = ctx.client.list(*vm_kind, {"", "spec.nodeName=" + name});
        if (list && list->contains("items") && (*list)["items"].is_array())
          for (const auto& v : (*list)["items"]) vms.push_back(v);
      }
    }
    if (!first) ctx.out << "\n\n";
    first = false;
    ctx.out << describe_object(**kind, *object, events, ctx.clock.now(), vms) << std::flush;
  }
  return exit_code;
}

}  // namespace corral::cli
