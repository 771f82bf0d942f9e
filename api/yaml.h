// YAML ⇄ JSON for manifests. YAML scalars keep their YAML meaning: plain
// `3` is an integer, `"3"` a string, `true` a boolean, `~`/`null` null.
// Every parse remembers where each field was written so that validation errors
// can name file:line:column.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "api/json.h"

namespace corral {

// One document of a manifest file.
struct SourceDoc {
  Json object;
  std::string file;      // as given ("-" for standard input)
  int line = 0;          // 1-based line where the document starts
  // Field path ("spec.replicas", "spec.rules[0].host") → "file:line:column"
  // of the key (or list item) that wrote it.
  std::map<std::string, std::string> locations;

  // The location of `field_path` or of its nearest parent that has one;
  // "file:line" of the document when none does.
  std::string locate(const std::string& field_path) const;
};

// Parses every document in `text` (separated by ---). Empty documents are
// skipped. A syntax error is a BadRequest whose message starts with
// "file:line:column: " and says what is wrong.
Result<std::vector<SourceDoc>> parse_yaml_documents(std::string_view text, const std::string& file);

// Block-style YAML for people (corralctl get -o yaml): strings that would read
// back as another type are quoted.
std::string to_yaml(const Json& value);

}  // namespace corral
