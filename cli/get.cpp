#include "cli/get.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <ostream>

#include "api/json.h"
#include "cli/event_order.h"
#include "cli/printers.h"
#include "cli/resource_client.h"
#include "cli/watch_event.h"

namespace corral::cli {

namespace {

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// List items may come without apiVersion/kind (as in Kubernetes); -o yaml and
// -o name need them.
Json with_kind(const KindInfo& kind, Json item) {
  if (!item.is_object()) return item;
  if (item.contains("kind") && item.contains("apiVersion")) return item;
  Json out = Json::object();
  out["apiVersion"] = kApiVersion;
  out["kind"] = kind.kind;
  for (auto it = item.begin(); it != item.end(); ++it)
    if (it.key() != "apiVersion" && it.key() != "kind") out[it.key()] = it.value();
  return out;
}

std::vector<Json> list_items(const KindInfo& kind, const Json& list) {
  std::vector<Json> items;
  if (list.is_object() && list.contains("items") && list["items"].is_array())
    for (const auto& i : list["items"]) items.push_back(with_kind(kind, i));
  return items;
}

std::string list_revision(const Json& list) {
  if (!list.is_object() || !list.contains("metadata") || !list["metadata"].is_object()) return "";
  const Json& rv = list["metadata"].value("resourceVersion", Json());
  if (rv.is_string()) return rv.get<std::string>();
  if (rv.is_number()) return rv.dump();
  return "";
}

// "a=1,b=2" of an object's labels, kubectl's LABELS column; "<none>".
std::string labels_text(const Json& object) {
  std::string out;
  const Json labels = object.value("metadata", Json::object()).value("labels", Json::object());
  for (const auto& [key, value] : labels.items())
    out += (out.empty() ? "" : ",") + key + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
  return out.empty() ? "<none>" : out;
}

// --sort-by: kubectl's JSONPath of one field ("{.status.phase}", ".metadata.name")
// as a dotted path; numbers compare as numbers, the rest as text.
void sort_by_field(std::vector<Json>& items, std::string path) {
  if (!path.empty() && path.front() == '{' && path.back() == '}') path = path.substr(1, path.size() - 2);
  if (!path.empty() && path.front() == '.') path.erase(0, 1);
  auto number = [](const std::string& text, double* out) {
    if (text.empty()) return false;
    char* end = nullptr;
    *out = std::strtod(text.c_str(), &end);
    return end && *end == '\0';
  };
  std::stable_sort(items.begin(), items.end(), [&](const Json& a, const Json& b) {
    const std::string x = field_value(a, path), y = field_value(b, path);
    double dx = 0, dy = 0;
    if (number(x, &dx) && number(y, &dy)) return dx < dy;
    return x < y;
  });
}

struct KindItems {
  const KindInfo* kind;
  std::vector<Json> items;
  std::string revision;  // of the list (empty when objects were fetched by name)
};

int watch_kind(Context& ctx, const GetOptions& options, OutputFormat format, KindItems& fetched,
               const std::vector<std::string>& names) {
  const KindInfo& kind = *fetched.kind;
  bool wide = format == OutputFormat::kWide;
  bool table = format == OutputFormat::kTable || wide;
  auto now = ctx.clock.now();
  std::vector<size_t> widths;
  bool header_printed = false;
  // The object each printed row showed, by name. A write that changes no
  // printed column (a VM's measured usage, say) prints nothing: both are
  // rendered at the same instant, so ages moving with the clock do not count.
  const Row headers = table_headers(kind, wide);
  std::map<std::string, Json> last_printed;
  if (table && !fetched.items.empty()) {
    auto rows = table_rows(kind, fetched.items, wide, now, false);
    for (const Json& item : fetched.items) last_printed[object_name(item)] = item;
    widths = column_widths(rows);
    ctx.out << render_rows(rows) << std::flush;
    header_printed = true;
  } else if (!table) {
    for (const auto& item : fetched.items) {
      if (format == OutputFormat::kYaml) ctx.out << "---\n";
      ctx.out << format_objects(format, {item}, false) << std::flush;
    }
  }

  ListOptions list_options{options.label_selector, options.field_selector};
  if (names.size() == 1) {
    std::string by_name = "metadata.name=" + names.front();
    list_options.field_selector =
        list_options.field_selector.empty() ? by_name : list_options.field_selector + "," + by_name;
  }
  std::string rv = fetched.revision;
  // Without --watch-timeout the watch runs until interrupted; the server ends
  // each stream after its own timeout, so re-watch in chunks.
  constexpr auto kChunk = std::chrono::minutes(30);
  auto deadline = options.watch_timeout ? ctx.clock.steady_now() + *options.watch_timeout
                                        : std::chrono::steady_clock::time_point::max();
  while (true) {
    auto now_steady = ctx.clock.steady_now();
    if (now_steady >= deadline) break;
    auto remaining = options.watch_timeout
                         ? std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now_steady)
                         : std::chrono::duration_cast<std::chrono::milliseconds>(kChunk);
    auto r = ctx.client.watch(kind, list_options, rv, remaining, [&](const WatchEvent& ev) {
      Json object = with_kind(kind, ev.object);
      std::string orv = object.contains("metadata") && object["metadata"].is_object()
                            ? object["metadata"].value("resourceVersion", "")
                            : "";
      if (!orv.empty()) rv = orv;
      if (table) {
        const auto at = ctx.clock.now();
        Row row = table_row(kind, object, wide, at);
        const std::string name = object_name(object);
        auto last = last_printed.find(name);
        if (ev.type == "DELETED") {
          if (last != last_printed.end()) last_printed.erase(last);
        } else if (last != last_printed.end() && table_row(kind, last->second, wide, at) == row) {
          return true;
        } else {
          last_printed[name] = object;
        }
        std::vector<Row> rows;
        if (!header_printed) rows.push_back(headers);
        rows.push_back(std::move(row));
        if (!header_printed) widths = column_widths(rows);
        header_printed = true;
        ctx.out << render_rows(rows, widths) << std::flush;
      } else {
        if (format == OutputFormat::kYaml) ctx.out << "---\n";
        ctx.out << format_objects(format, {object}, false) << std::flush;
      }
      return true;
    });
    if (!r) {
      if (r.error().code == ErrorCode::kGone || r.error().code == ErrorCode::kTimeout) {
        // Our revision fell out of the server's history (Gone), or is one the
        // server has not reached (Timeout "too large resource version": a
        // server restored from an older copy): start again from now.
        auto list = ctx.client.list(kind, list_options);
        if (!list) {
          print_error(ctx.err, list.error());
          return kExitError;
        }
        rv = list_revision(*list);
        continue;
      }
      print_error(ctx.err, r.error());
      return kExitError;
    }
  }
  return kExitOk;
}

}  // namespace

int run_get(Context& ctx, const GetOptions& options) {
  if (options.args.empty()) {
    print_error(ctx.err, make_error(ErrorCode::kBadRequest,
                                    "you must specify the type of resource to get, e.g. `corralctl get "
                                    "pools`; `corralctl api-resources` lists them"));
    return kExitError;
  }
  auto format = parse_output_format(options.output);
  if (!format) {
    print_error(ctx.err, format.error());
    return kExitError;
  }
  // What to get: KIND[,KIND...] [NAME...], or KIND/NAME... as kubectl takes them.
  struct Target {
    const KindInfo* kind;
    std::vector<std::string> names;  // empty: list
  };
  std::vector<Target> targets;
  if (options.args.front().find('/') != std::string::npos) {
    for (const std::string& arg : options.args) {
      auto ref = parse_object_ref(arg);
      if (!ref) {
        print_error(ctx.err, ref.error());
        return kExitError;
      }
      auto same = std::find_if(targets.begin(), targets.end(),
                               [&](const Target& t) { return t.kind == ref->kind; });
      if (same == targets.end()) same = targets.insert(targets.end(), Target{ref->kind, {}});
      same->names.push_back(ref->name);
    }
  } else {
    const std::vector<std::string> names(options.args.begin() + 1, options.args.end());
    for (const auto& k : split_commas(options.args.front())) {
      auto kind = resolve_kind(k);
      if (!kind) {
        print_error(ctx.err, kind.error());
        return kExitError;
      }
      targets.push_back({*kind, names});
    }
  }
  if (targets.empty()) {
    print_error(ctx.err, make_error(ErrorCode::kBadRequest, "no resource type given"));
    return kExitError;
  }
  size_t named = 0;
  for (const Target& t : targets) named += t.names.size();
  if (options.watch && targets.size() > 1) {
    print_error(ctx.err,
                make_error(ErrorCode::kBadRequest, "you may only watch one resource type at a time"));
    return kExitError;
  }
  if (options.watch && named > 1) {
    print_error(ctx.err, make_error(ErrorCode::kBadRequest, "you may only watch one object by name"));
    return kExitError;
  }

  int exit_code = kExitOk;
  std::vector<KindItems> fetched;
  for (const Target& target : targets) {
    const KindInfo* kind = target.kind;
    const std::vector<std::string>& names = target.names;
    KindItems ki{kind, {}, ""};
    if (names.empty()) {
      auto list = ctx.client.list(*kind, {options.label_selector, options.field_selector});
      if (!list) {
        print_error(ctx.err, list.error());
        return kExitError;
      }
      ki.items = list_items(*kind, *list);
      ki.revision = list_revision(*list);
      // A timeline: oldest first, so that `-w` appends below the newest.
      if (kind->kind == "Event") sort_events_oldest_first(ki.items);
    } else {
      for (const auto& name : names) {
        auto obj = ctx.client.get(*kind, name);
        if (!obj) {
          print_error(ctx.err, obj.error());
          exit_code = kExitError;
          continue;
        }
        ki.items.push_back(with_kind(*kind, *obj));
        if (options.watch) {
          const Json& meta = obj->value("metadata", Json::object());
          ki.revision = meta.is_object() ? meta.value("resourceVersion", "") : "";
        }
      }
    }
    if (!options.sort_by.empty()) sort_by_field(ki.items, options.sort_by);
    fetched.push_back(std::move(ki));
  }

  if (options.watch) {
    if (exit_code != kExitOk) return exit_code;
    return watch_kind(ctx, options, *format, fetched.front(), targets.front().names);
  }

  size_t total = 0;
  for (const auto& f : fetched) total += f.items.size();
  if (*format == OutputFormat::kTable || *format == OutputFormat::kWide) {
    bool wide = *format == OutputFormat::kWide;
    bool first = true;
    auto now = ctx.clock.now();
    for (const auto& f : fetched) {
      if (f.items.empty()) continue;
      if (!first) ctx.out << "\n";
      first = false;
      std::vector<Row> rows = table_rows(*f.kind, f.items, wide, now, targets.size() > 1);
      if (options.show_labels) {
        rows.front().push_back("LABELS");
        for (size_t i = 0; i < f.items.size(); ++i) rows[i + 1].push_back(labels_text(f.items[i]));
      }
      if (options.no_headers) rows.erase(rows.begin());
      ctx.out << render_rows(rows);
    }
  } else {
    std::vector<Json> all;
    for (const auto& f : fetched) all.insert(all.end(), f.items.begin(), f.items.end());
    bool as_list = named != 1 || targets.size() != 1;
    if (!(all.empty() && *format == OutputFormat::kName) && !(all.empty() && named > 0))
      ctx.out << format_objects(*format, all, as_list);
  }
  if (total == 0 && named == 0) ctx.err << "No resources found.\n";
  return exit_code;
}

}  // namespace corral::cli
