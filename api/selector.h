// Label selectors as Kubernetes writes them, and field selectors.
//
// Label selector strings: equality `a=b`, `a==b`, `a!=b`; set-based
// `a in (x,y)`, `a notin (x)`, `a` (exists), `!a` (does not exist); joined
// by commas, all must hold. The empty selector matches everything.
// Field selectors: `path=value`, `path==value`, `path!=value`, comma-joined.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "api/types.h"

namespace corral {

struct Requirement {
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Op op = Op::kEquals;
  std::vector<std::string> values;  // one for (Not)Equals, ≥1 for (Not)In, none otherwise
  bool matches(const Labels& labels) const;
  bool operator==(const Requirement&) const = default;
};

class Selector {
 public:
  Selector() = default;
  // Errors: BadRequest naming the offending part ("invalid label selector \"a in x\": ...").
  static Result<Selector> parse(std::string_view text);
  // From a LabelSelector object (matchLabels + matchExpressions); errors name
  // field paths under `path`. Errors: BadRequest with one Cause per problem
  // ("selector.matchExpressions[0].operator"), which validate() passes on.
  // Requirements of both parse() and from() are sorted by key and set values
  // are sorted and unique, so equal selectors compare and print equally.
  static Result<Selector> from(const LabelSelector& selector, const std::string& path = "selector");
  static Selector from_map(const Labels& labels);

  bool matches(const Labels& labels) const;
  bool empty() const { return reqs_.empty(); }
  const std::vector<Requirement>& requirements() const { return reqs_; }
  std::string to_string() const;  // parseable back to an equal Selector

 private:
  std::vector<Requirement> reqs_;
};

struct FieldRequirement {
  std::string field;   // "spec.nodeName"
  bool negate = false; // !=
  std::string value;
  bool operator==(const FieldRequirement&) const = default;
};
// Errors: BadRequest naming the part that does not parse.
Result<std::vector<FieldRequirement>> parse_field_selector(std::string_view text);

}  // namespace corral
