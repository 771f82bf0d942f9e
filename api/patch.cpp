#include "api/patch.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "api/json.h"

namespace corral {

namespace {

constexpr std::string_view kMergeType = "application/merge-patch+json";
constexpr std::string_view kJsonPatchType = "application/json-patch+json";
constexpr std::string_view kStrategicType = "application/strategic-merge-patch+json";
constexpr std::string_view kApplyType = "application/apply-patch+yaml";

std::string media_type_of(std::string_view content_type) {
  std::string type(content_type.substr(0, content_type.find(';')));
  type.erase(std::remove(type.begin(), type.end(), ' '), type.end());
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return type;
}

// nlohmann's messages start with "[json.exception.out_of_range.403] ": the
// rest is what a user needs.
std::string without_exception_tag(const std::string& what) {
  if (what.rfind("[json.exception.", 0) == 0) {
    if (auto end = what.find("] "); end != std::string::npos) return what.substr(end + 2);
  }
  return what;
}

std::string op_label(const Json& op, size_t i) {
  std::string label = "patch[" + std::to_string(i) + "]";
  if (op.is_object()) {
    const std::string name = op.value("op", "");
    const auto path = op.find("path");
    if (!name.empty() && path != op.end() && path->is_string())
      label += " (" + name + " " + path->get<std::string>() + ")";
  }
  return label;
}

Result<Json> apply_json_patch(const Json& target, const Json& ops) {
  Json doc = target;
  // One operation at a time, so that an error names the operation.
  for (size_t i = 0; i < ops.size(); ++i) {
    try {
      doc = doc.patch(Json::array({ops[i]}));
    } catch (const std::exception& e) {
      return make_error(ErrorCode::kInvalid,
                        op_label(ops[i], i) + ": " + without_exception_tag(e.what()));
    }
  }
  return doc;
}

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

std::string child_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

// A directive in an element of a list asks for a merge by key; with none
// declared, a list is sent whole.
Result<void> check_list(const Json& list, const std::string& path) {
  for (const Json& item : list) {
    if (item.is_object() && item.contains("$patch"))
      return make_error(ErrorCode::kBadRequest,
                        path + ": a $patch directive inside a list needs a merge key, and "
                               "Corral's lists have none: send the whole list (or a merge patch)");
  }
  return Ok{};
}

// Strategic merge of `patch` (an object) into `target`, on a model with no
// merge keys. Returns true when the patch deletes `target` ($patch: delete).
Result<bool> strategic_merge(Json& target, const Json& patch, const std::string& path) {
  if (auto directive = patch.find("$patch"); directive != patch.end()) {
    const std::string what = directive->is_string() ? directive->get<std::string>() : "";
    if (what == "delete") return true;
    if (what == "replace") {
      target = patch;
      target.erase("$patch");
      return false;
    }
    if (what != "merge")
      return make_error(ErrorCode::kBadRequest,
                        (path.empty() ? std::string("the patch") : path) +
                            ": unknown $patch directive " + dump_json(*directive) +
                            " (replace, delete or merge)");
  }
  if (!target.is_object()) target = Json::object();
  if (auto retain = patch.find("$retainKeys"); retain != patch.end()) {
    if (!retain->is_array())
      return make_error(ErrorCode::kBadRequest, child_path(path, "$retainKeys") + ": must be a list");
    std::vector<std::string> drop;
    for (const auto& [key, value] : target.items()) {
      if (std::find(retain->begin(), retain->end(), Json(key)) == retain->end()) drop.push_back(key);
    }
    for (const auto& key : drop) target.erase(key);
  }
  for (const auto& [key, value] : patch.items()) {
    if (key == "$patch" || key == "$retainKeys" || starts_with(key, "$setElementOrder/") ||
        starts_with(key, "$deleteFromPrimitiveList/"))
      continue;
    if (starts_with(key, "$"))
      return make_error(ErrorCode::kBadRequest,
                        child_path(path, key) + ": unknown strategic merge directive");
    const std::string at = child_path(path, key);
    if (value.is_null()) {
      target.erase(key);
    } else if (value.is_object()) {
      Json& child = target[key];
      auto deleted = strategic_merge(child, value, at);
      if (!deleted) return deleted.take_error();
      if (*deleted) target.erase(key);
    } else {
      if (value.is_array()) {
        if (auto ok = check_list(value, at); !ok) return ok.take_error();
      }
      target[key] = value;
    }
  }
  // After the fields are set: "$deleteFromPrimitiveList/finalizers": ["a"].
  constexpr std::string_view kDelete = "$deleteFromPrimitiveList/";
  for (const auto& [key, value] : patch.items()) {
    if (!starts_with(key, kDelete)) continue;
    const std::string field = key.substr(kDelete.size());
    if (!value.is_array())
      return make_error(ErrorCode::kBadRequest, child_path(path, key) + ": must be a list");
    auto it = target.find(field);
    if (it == target.end() || !it->is_array()) continue;
    Json kept = Json::array();
    for (const Json& item : *it) {
      if (std::find(value.begin(), value.end(), item) == value.end()) kept.push_back(item);
    }
    *it = std::move(kept);
  }
  return false;
}

}  // namespace

Result<PatchType> patch_type_from_content_type(std::string_view content_type) {
  const std::string type = media_type_of(content_type);
  if (type == kMergeType) return PatchType::kMerge;
  if (type == kJsonPatchType) return PatchType::kJson;
  if (type == kStrategicType) return PatchType::kStrategic;
  const std::string accepted = "; send " + std::string(kMergeType) + ", " +
                               std::string(kJsonPatchType) + " or " + std::string(kStrategicType);
  if (type == kApplyType)
    return make_error(ErrorCode::kUnsupportedMedia,
                      "server-side apply (" + type +
                          ") is not served: use client-side `kubectl apply` (without "
                          "--server-side) or `corralctl apply`" + accepted);
  return make_error(ErrorCode::kUnsupportedMedia,
                    "unsupported patch type \"" + std::string(content_type) + "\"" + accepted);
}

std::string_view patch_media_type(PatchType type) {
  switch (type) {
    case PatchType::kMerge:
      return kMergeType;
    case PatchType::kJson:
      return kJsonPatchType;
    case PatchType::kStrategic:
      return kStrategicType;
  }
  return kMergeType;
}

Result<Json> parse_patch(PatchType type, std::string_view body) {
  if (body.empty()) return make_error(ErrorCode::kBadRequest, "the patch is empty");
  auto parsed = parse_json(body, "patch");
  if (!parsed) return parsed.take_error();
  if (type == PatchType::kJson) {
    if (!parsed->is_array())
      return make_error(ErrorCode::kBadRequest,
                        "a JSON patch must be a list of operations, got " + json_type_name(*parsed));
    for (size_t i = 0; i < parsed->size(); ++i) {
      const Json& op = (*parsed)[i];
      if (!op.is_object() || !op.contains("op") || !op["op"].is_string() || !op.contains("path") ||
          !op["path"].is_string())
        return make_error(ErrorCode::kBadRequest, "patch[" + std::to_string(i) +
                                                      "]: an operation is an object with "
                                                      "string fields \"op\" and \"path\"");
    }
    return parsed;
  }
  if (!parsed->is_object())
    return make_error(ErrorCode::kBadRequest, "a " + std::string(patch_media_type(type)) +
                                                  " body must be a JSON object, got " +
                                                  json_type_name(*parsed));
  return parsed;
}

Result<Json> apply_patch(PatchType type, const Json& target, const Json& patch) {
  switch (type) {
    case PatchType::kJson:
      return apply_json_patch(target, patch);
    case PatchType::kMerge: {
      Json out = target;
      out.merge_patch(patch);
      return out;
    }
    case PatchType::kStrategic: {
      Json out = target;
      auto deleted = strategic_merge(out, patch, "");
      if (!deleted) return deleted.take_error();
      if (*deleted)
        return make_error(ErrorCode::kBadRequest,
                          "\"$patch\": \"delete\" on the whole object: use DELETE to delete it");
      return out;
    }
  }
  return make_error(ErrorCode::kInternal, "unknown patch type");
}

}  // namespace corral
