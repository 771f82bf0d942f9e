// How corralctl shows objects: kubectl-style aligned tables (one column set
// per kind, -o wide adds more), and -o yaml | json | name.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/error.h"
#include "api/json_fwd.h"
#include "api/kinds.h"

namespace corral::cli {

enum class OutputFormat { kTable, kWide, kYaml, kJson, kName };

// "" → table; "wide", "yaml", "json", "name"; BadRequest otherwise.
Result<OutputFormat> parse_output_format(const std::string& text);

using Row = std::vector<std::string>;

// Columns padded to the widest cell plus 3 spaces, the last one unpadded.
// `min_widths` (may be shorter than a row) keeps rows printed later, such as
// watch events, aligned with the table printed first.
std::string render_rows(const std::vector<Row>& rows, const std::vector<size_t>& min_widths = {},
                        const std::string& indent = "");
std::vector<size_t> column_widths(const std::vector<Row>& rows);

std::vector<std::string> table_headers(const KindInfo& kind, bool wide);
// One row; `name_prefix` ("pool/") prefixes the NAME cell when several kinds
// are printed together.
Row table_row(const KindInfo& kind, const Json& object, bool wide, std::chrono::system_clock::time_point now,
              const std::string& name_prefix = "");
// Headers plus a row per item.
std::vector<Row> table_rows(const KindInfo& kind, const std::vector<Json>& items, bool wide,
                            std::chrono::system_clock::time_point now, bool prefix_names);

// "5m" for an RFC 3339 timestamp `now` minus it; "<unknown>" when malformed or empty.
// "<none>" for an empty value, as kubectl prints one.
std::string or_none(const std::string& value);
// "Name:" padded so that `describe`'s values start in one column, as kubectl's.
inline constexpr size_t kDescribeLabelWidth = 14;  // "Annotations:" plus padding
std::string describe_label(const std::string& name);

std::string age_since(const std::string& timestamp, std::chrono::system_clock::time_point now);
// 0.423 → "42%"; `decimals` > 0 keeps that many digits, trailing zeros dropped.
std::string format_percent(double fraction, int decimals = 0);
// Availability R in [0,1] as a fraction: 0.999, 1, 0; at most six decimals,
// rounded down so that it never overstates.
std::string format_availability(double r);
// An overcommit ratio: 4 → "4", 1.5 → "1.5"; absent (0) reads as the default 1.
std::string format_ratio(double ratio);

// -o yaml / json: one object as itself, several (or a list request) as a
// `List` with items. -o name: `pool/web` per line.
std::string format_objects(OutputFormat format, const std::vector<Json>& items, bool as_list);
// An apiVersion/kind List wrapping items.
Json make_list(const std::vector<Json>& items);

}  // namespace corral::cli
