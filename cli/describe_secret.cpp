#include "cli/describe_secret.h"

#include "api/base64.h"
#include "api/json.h"
#include "api/types/secret.h"
#include "cli/printers.h"

namespace corral::cli {

std::string describe_secret(const Json& object) {
  std::string out = describe_label("Type") + object.value("type", secret_type::kOpaque) + "\n";
  auto data = object.find("data");
  if (data == object.end() || !data->is_object() || data->empty())
    return out + describe_label("Data") + "<none>\n";
  std::vector<Row> rows;
  for (auto it = data->begin(); it != data->end(); ++it) {
    const std::string text = it.value().is_string() ? it.value().get<std::string>() : "";
    auto value = base64_decode(text);
    std::string size = !value ? std::string(kRedactedValue)
                              : std::to_string(value->size()) + (value->size() == 1 ? " byte" : " bytes");
    rows.push_back({it.key() + ":", size});
  }
  return out + "Data:\n" + render_rows(rows, {}, "  ");
}

}  // namespace corral::cli
