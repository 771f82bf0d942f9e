// Loading and normalizing manifests (see api/manifest.h).
#include "api/manifest.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <istream>
#include <map>
#include <sstream>
#include <system_error>
#include <utility>

#include "api/field_path.h"
#include "api/json.h"
#include "api/kinds.h"

namespace corral {

namespace fs = std::filesystem;

namespace {

bool has_json_extension(const fs::path& p) { return p.extension() == ".json"; }
bool is_manifest_file(const fs::path& p) {
  auto ext = p.extension();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kBadRequest, path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return make_error(ErrorCode::kBadRequest, path + ": read failed");
  return ss.str();
}

// A `List` (what `corralctl get -o json` prints for several objects) stands
// for its items: each becomes a document of its own, and the locations written
// under items[i] move to the item's own field paths.
void expand_lists(SourceDoc doc, std::vector<SourceDoc>& out) {
  const Json& obj = doc.object;
  auto kind = obj.find("kind");
  auto items = obj.find("items");
  if (kind == obj.end() || *kind != "List" || items == obj.end() || !items->is_array()) {
    out.push_back(std::move(doc));
    return;
  }
  for (size_t i = 0; i < items->size(); ++i) {
    SourceDoc item;
    item.object = (*items)[i];
    item.file = doc.file;
    item.line = doc.line;
    const std::string prefix = index_path("items", i);
    for (const auto& [path, where] : doc.locations) {
      if (path == prefix) {
        // "file:line:col" → the line the item starts on.
        size_t c2 = where.rfind(':');
        size_t c1 = c2 == std::string::npos ? c2 : where.rfind(':', c2 - 1);
        if (c1 != std::string::npos) item.line = std::atoi(where.c_str() + c1 + 1);
      } else if (path.rfind(prefix + ".", 0) == 0) {
        item.locations[path.substr(prefix.size() + 1)] = where;
      }
    }
    out.push_back(std::move(item));
  }
}

Result<void> load_text(const std::string& text, const std::string& file, bool json,
                       std::vector<SourceDoc>& out) {
  if (json) {
    auto parsed = parse_json(text, file);
    if (!parsed) return parsed.take_error();
    if (!parsed->is_object()) {
      return make_error(
          ErrorCode::kBadRequest,
          file + ":1:1: expected an object (or a List with items), got " + json_type_name(*parsed));
    }
    SourceDoc doc;
    doc.object = std::move(*parsed);
    doc.file = file;
    doc.line = 1;
    expand_lists(std::move(doc), out);
    return Ok{};
  }
  auto docs = parse_yaml_documents(text, file);
  if (!docs) return docs.take_error();
  for (auto& d : *docs) expand_lists(std::move(d), out);
  return Ok{};
}

// (line, column) of a location that doc.locate() returned, for ordering causes
// the way people read the file; a bare "file:line" sorts before its columns.
std::pair<long, long> position(const SourceDoc& doc, const std::string& where) {
  std::pair<long, long> pos{0, 0};
  if (where.rfind(doc.file + ":", 0) != 0) return pos;
  const char* p = where.c_str() + doc.file.size() + 1;
  char* end = nullptr;
  pos.first = std::strtol(p, &end, 10);
  if (end && *end == ':') pos.second = std::strtol(end + 1, nullptr, 10);
  return pos;
}

std::string string_at(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

Result<std::vector<SourceDoc>> load_manifests(const std::string& path, std::istream& stdin_stream) {
  std::vector<SourceDoc> out;
  if (path == "-") {
    std::ostringstream ss;
    ss << stdin_stream.rdbuf();
    // JSON is YAML, so standard input needs no sniffing, and gets locations.
    auto r = load_text(ss.str(), "-", false, out);
    if (!r) return r.take_error();
    return out;
  }

  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    return make_error(ErrorCode::kNotFound, path + ": no such file or directory");
  }

  std::vector<fs::path> files;
  if (fs::is_directory(status)) {
    try {
      for (const auto& entry : fs::directory_iterator(path)) {
        if (entry.is_regular_file(ec) && is_manifest_file(entry.path()))
          files.push_back(entry.path());
      }
    } catch (const fs::filesystem_error& e) {
      return make_error(ErrorCode::kBadRequest, path + ": " + e.code().message());
    }
    std::sort(files.begin(), files.end(),
              [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  } else {
    // A file named explicitly is read whatever its extension, as kubectl does.
    files.push_back(path);
  }

  for (const auto& f : files) {
    auto text = read_file(f.string());
    if (!text) return text.take_error();
    auto r = load_text(*text, f.string(), has_json_extension(f), out);
    if (!r) return r.take_error();
  }
  return out;
}

Result<std::vector<Json>> normalize_manifests(const std::vector<SourceDoc>& docs,
                                              std::vector<Cause>* warnings) {
  std::vector<Json> objects;
  std::vector<Cause> causes;
  size_t invalid_docs = 0;
  // (kind, name) → where it was first defined.
  std::map<std::pair<std::string, std::string>, std::string> seen;

  for (const auto& doc : docs) {
    size_t before = causes.size();
    std::vector<Cause> respelled;
    auto normalized = normalize_object(doc.object, &respelled);
    if (warnings) {
      for (Cause& w : respelled) {
        w.location = doc.locate(w.field);
        warnings->push_back(std::move(w));
      }
    }
    if (!normalized) {
      Error err = normalized.take_error();
      if (err.causes.empty()) err.causes.push_back({"", err.message, ""});
      for (auto& c : err.causes) {
        c.location = doc.locate(c.field);
        causes.push_back(std::move(c));
      }
      // The decoder reports nested unknown fields before their parents' ones;
      // people read a file top to bottom.
      std::stable_sort(causes.begin() + static_cast<std::ptrdiff_t>(before), causes.end(),
                       [&doc](const Cause& a, const Cause& b) {
                         return position(doc, a.location) < position(doc, b.location);
                       });
    }
    if (doc.object.is_object()) {
      std::string kind = string_at(doc.object, "kind");
      auto meta = doc.object.find("metadata");
      std::string name =
          meta != doc.object.end() && meta->is_object() ? string_at(*meta, "name") : "";
      if (!kind.empty() && !name.empty()) {
        std::string here = doc.locate("metadata.name");
        auto [it, inserted] = seen.emplace(std::make_pair(kind, name), here);
        if (!inserted) {
          causes.push_back(
              {"metadata.name",
               kind + " \"" + name + "\" is defined twice (first at " + it->second + ")", here});
        }
      }
    }
    if (causes.size() != before) {
      ++invalid_docs;
    } else {
      objects.push_back(std::move(*normalized));
    }
  }

  if (causes.empty()) return objects;
  std::string msg = std::to_string(invalid_docs) + " of " + std::to_string(docs.size()) +
                    (docs.size() == 1 ? " document" : " documents") +
                    (invalid_docs == 1 ? " is" : " are") + " invalid:";
  for (const auto& c : causes) {
    msg += "\n  " + c.location + ": ";
    if (!c.field.empty()) msg += c.field + ": ";
    msg += c.message;
  }
  return Error{ErrorCode::kInvalid, std::move(msg), std::move(causes)};
}

}  // namespace corral
