#include "cli/printers.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "api/json.h"
#include "base/clock.h"
#include "api/yaml.h"
#include "cli/command.h"
#include "cli/resource_client.h"
#include "api/units.h"

namespace corral::cli {

namespace {

constexpr size_t kColumnGap = 3;  // spaces between columns, as kubectl

}  // namespace

Result<OutputFormat> parse_output_format(const std::string& text) {
  if (text.empty()) return OutputFormat::kTable;
  if (text == "wide") return OutputFormat::kWide;
  if (text == "yaml") return OutputFormat::kYaml;
  if (text == "json") return OutputFormat::kJson;
  if (text == "name") return OutputFormat::kName;
  return make_error(ErrorCode::kBadRequest, "unable to match a printer for output format \"" + text +
                                                "\": allowed formats are json, name, wide, yaml");
}

std::vector<size_t> column_widths(const std::vector<Row>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  return widths;
}

std::string render_rows(const std::vector<Row>& rows, const std::vector<size_t>& min_widths,
                        const std::string& indent) {
  std::vector<size_t> widths = column_widths(rows);
  for (size_t i = 0; i < widths.size() && i < min_widths.size(); ++i)
    widths[i] = std::max(widths[i], min_widths[i]);
  std::string out;
  for (const auto& row : rows) {
    std::string line = indent;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + kColumnGap, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string describe_label(const std::string& name) {
  std::string l = name + ":";
  return l + std::string(l.size() < kDescribeLabelWidth ? kDescribeLabelWidth - l.size() : 1, ' ');
}

std::vector<Row> table_rows(const KindInfo& kind, const std::vector<Json>& items, bool wide,
                            std::chrono::system_clock::time_point now, bool prefix_names) {
  std::vector<Row> rows;
  rows.push_back(table_headers(kind, wide));
  std::string prefix = prefix_names ? kind.singular + "/" : "";
  for (const auto& item : items) rows.push_back(table_row(kind, item, wide, now, prefix));
  return rows;
}

Json make_list(const std::vector<Json>& items) {
  Json list = Json::object();
  list["apiVersion"] = kApiVersion;
  list["kind"] = "List";
  list["items"] = Json::array();
  for (const auto& i : items) list["items"].push_back(i);
  return list;
}

std::string format_objects(OutputFormat format, const std::vector<Json>& items, bool as_list) {
  if (format == OutputFormat::kName) {
    std::string out;
    for (const auto& item : items) {
      const KindInfo* k = find_kind(item.value("kind", ""));
      out += (k ? k->singular : item.value("kind", "")) + "/" + object_name(item) + "\n";
    }
    return out;
  }
  Json doc = (!as_list && items.size() == 1) ? items.front() : make_list(items);
  if (format == OutputFormat::kJson) return doc.dump(4) + "\n";
  std::string y = to_yaml(doc);
  if (!y.empty() && y.back() != '\n') y += "\n";
  return y;
}

}  // namespace corral::cli
