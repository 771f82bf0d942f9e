// How corralctl shows objects: kubectl-style aligned tables (one column set
// per kind, -o wide adds more), and -o yaml | json | name.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/error.h"
#include "api/json_fwd.h"
#include "api/kinds.h"
#include "api/table_columns.h"

namespace corral::cli {

enum class OutputFormat { kTable, kWide, kYaml, kJson, kName };

// "" → table; "wide", "yaml", "json", "name"; BadRequest otherwise.
Result<OutputFormat> parse_output_format(const std::string& text);

// The columns of each kind and their formats: api/table_columns.h.
using Row = TableRow;

// Columns padded to the widest cell plus 3 spaces, the last one unpadded.
// `min_widths` (may be shorter than a row) keeps rows printed later, such as
// watch events, aligned with the table printed first.
std::string render_rows(const std::vector<Row>& rows, const std::vector<size_t>& min_widths = {},
                        const std::string& indent = "");
std::vector<size_t> column_widths(const std::vector<Row>& rows);

// Headers plus a row per item.
std::vector<Row> table_rows(const KindInfo& kind, const std::vector<Json>& items, bool wide,
                            std::chrono::system_clock::time_point now, bool prefix_names);

// "Name:" padded so that `describe`'s values start in one column, as kubectl's.
inline constexpr size_t kDescribeLabelWidth = 14;  // "Annotations:" plus padding
std::string describe_label(const std::string& name);

// -o yaml / json: one object as itself, several (or a list request) as a
// `List` with items. -o name: `pool/web` per line.
std::string format_objects(OutputFormat format, const std::vector<Json>& items, bool as_list);
// An apiVersion/kind List wrapping items.
Json make_list(const std::vector<Json>& items);

}  // namespace corral::cli
