#include "controller/server/table.h"

#include <algorithm>
#include <cctype>

#include "api/json.h"
#include "api/table_columns.h"

namespace corral::server {

namespace {

std::string trimmed_lower(std::string s) {
  s.erase(std::remove_if(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); }),
          s.end());
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

Json row_object(const Json& object, const std::string& include) {
  if (include == "Object") return object;
  Json partial = Json::object();
  partial["kind"] = "PartialObjectMetadata";
  partial["apiVersion"] = "meta.k8s.io/v1";
  partial["metadata"] = object.value("metadata", Json::object());
  return partial;
}

}  // namespace

std::optional<std::string> wanted_table_version(const HttpRequest& req) {
  const std::string accept = req.get_header_value("Accept");
  size_t start = 0;
  while (start < accept.size()) {
    size_t end = accept.find(',', start);
    if (end == std::string::npos) end = accept.size();
    const std::string range = trimmed_lower(accept.substr(start, end - start));
    start = end + 1;
    const std::string type = range.substr(0, range.find(';'));
    if (type != "application/json" && type != "*/*" && type != "application/*") continue;
    if (range.find(";as=table") == std::string::npos) return std::nullopt;  // plain JSON first
    if (range.find(";g=meta.k8s.io") == std::string::npos) continue;
    if (range.find(";v=v1beta1") != std::string::npos) return "meta.k8s.io/v1beta1";
    if (range.find(";v=v1") != std::string::npos) return "meta.k8s.io/v1";
  }
  return std::nullopt;
}

Json make_table(const KindInfo& kind, const std::vector<store::RecordPtr>& records,
                const std::string& api_version, const std::string& include_object,
                Json list_metadata, std::chrono::system_clock::time_point now) {
  const std::vector<std::string> headers = table_headers(kind, /*wide=*/true);
  const size_t narrow = table_headers(kind, /*wide=*/false).size();
  Json columns = Json::array();
  for (size_t i = 0; i < headers.size(); ++i) {
    Json c = Json::object();
    c["name"] = headers[i];
    c["type"] = "string";
    c["format"] = headers[i] == "NAME" ? "name" : "";
    c["description"] = "";
    c["priority"] = i < narrow ? 0 : 1;  // -o wide shows priority 1
    columns.push_back(std::move(c));
  }
  Json rows = Json::array();
  for (const auto& record : records) {
    const Json object = record->parse();
    Json row = Json::object();
    row["cells"] = table_row(kind, object, /*wide=*/true, now);
    if (include_object != "None") row["object"] = row_object(object, include_object);
    rows.push_back(std::move(row));
  }
  Json table = Json::object();
  table["kind"] = "Table";
  table["apiVersion"] = api_version;
  table["metadata"] = std::move(list_metadata);
  table["columnDefinitions"] = std::move(columns);
  table["rows"] = std::move(rows);
  return table;
}

}  // namespace corral::server
