#include "api/selector.h"

#include <algorithm>
#include <cctype>

#include "api/field_path.h"
#include "api/validate.h"

namespace corral {

namespace {

// Characters that end an identifier in a label selector (besides whitespace).
bool is_special(char c) { return c == '!' || c == '=' || c == ',' || c == '(' || c == ')'; }
bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

void sort_unique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// A hand-written recursive-descent parser over the selector text; every error
// names what it expected and where.
class LabelSelectorParser {
 public:
  explicit LabelSelectorParser(std::string_view text) : text_(text) {}

  // Appends the requirements to `out`; the empty text has none.
  Result<void> parse(std::vector<Requirement>& out) {
    skip_space();
    if (at_end()) return Ok{};
    while (true) {
      Requirement r;
      if (auto err = requirement(r)) return fail(*err);
      out.push_back(std::move(r));
      skip_space();
      if (at_end()) break;
      if (peek() != ',')
        return fail("expected \",\" or the end after a requirement, found \"" +
                    std::string(text_.substr(pos_)) + "\"");
      ++pos_;
      skip_space();
      if (at_end()) return fail("expected a requirement after \",\"");
    }
    return Ok{};
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }
  void skip_space() {
    while (!at_end() && is_space(peek())) ++pos_;
  }
  std::string identifier() {
    size_t start = pos_;
    while (!at_end() && !is_space(peek()) && !is_special(peek())) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }
  Error fail(const std::string& why) const {
    return make_error(ErrorCode::kBadRequest,
                      "invalid label selector \"" + std::string(text_) + "\": " + why);
  }

  std::optional<std::string> key(std::string& out) {
    skip_space();
    out = identifier();
    if (out.empty()) {
      if (at_end()) return std::string("expected a label key at the end");
      return "expected a label key, found \"" + std::string(1, peek()) + "\"";
    }
    if (auto e = check_label_key(out)) return "invalid key \"" + out + "\": " + *e;
    return std::nullopt;
  }
  std::optional<std::string> value(const std::string& v) {
    if (auto e = check_label_value(v)) return "invalid value \"" + v + "\": " + *e;
    return std::nullopt;
  }

  std::optional<std::string> requirement(Requirement& r) {
    skip_space();
    if (!at_end() && peek() == '!') {
      ++pos_;
      if (auto e = key(r.key)) return e;
      r.op = Requirement::Op::kDoesNotExist;
      return std::nullopt;
    }
    if (auto e = key(r.key)) return e;
    skip_space();
    if (at_end() || peek() == ',') {
      r.op = Requirement::Op::kExists;
      return std::nullopt;
    }
    if (peek() == '=' || peek() == '!') {
      if (peek() == '!') {
        ++pos_;
        if (at_end() || peek() != '=') return "expected \"!=\" after \"" + r.key + "\"";
        ++pos_;
        r.op = Requirement::Op::kNotEquals;
      } else {
        ++pos_;
        if (!at_end() && peek() == '=') ++pos_;
        r.op = Requirement::Op::kEquals;
      }
      skip_space();
      std::string v = identifier();
      if (!at_end() && (peek() == '(' || peek() == ')' || peek() == '=' || peek() == '!'))
        return "unexpected \"" + std::string(1, peek()) + "\" in the value of \"" + r.key + "\"";
      if (auto e = value(v)) return e;
      r.values = {std::move(v)};
      return std::nullopt;
    }
    size_t op_start = pos_;
    std::string word = identifier();
    if (word == "in" || word == "notin") {
      r.op = word == "in" ? Requirement::Op::kIn : Requirement::Op::kNotIn;
      return set_values(r, word);
    }
    if (word.empty())
      return "unexpected \"" + std::string(1, text_[op_start]) + "\" after \"" + r.key + "\"";
    return "expected an operator (=, ==, !=, in, notin) after \"" + r.key + "\", found \"" + word +
           "\"";
  }

  std::optional<std::string> set_values(Requirement& r, const std::string& op) {
    skip_space();
    if (at_end() || peek() != '(') return "expected \"(\" after \"" + op + "\"";
    ++pos_;
    while (true) {
      skip_space();
      std::string v = identifier();
      if (auto e = value(v)) return e;
      skip_space();
      if (at_end()) return "expected \")\" to close the values of \"" + r.key + "\"";
      char c = peek();
      // "a in ()" has no values: Kubernetes refuses an empty set, and so do we.
      if (c == ')' && v.empty() && r.values.empty())
        return "the values of \"" + op + "\" must not be empty";
      r.values.push_back(std::move(v));
      ++pos_;
      if (c == ')') break;
      if (c != ',')
        return "expected \",\" or \")\" in the values of \"" + r.key + "\", found \"" +
               std::string(1, c) + "\"";
    }
    sort_unique(r.values);
    return std::nullopt;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

const char* op_text(Requirement::Op op) {
  switch (op) {
    case Requirement::Op::kEquals:
      return "=";
    case Requirement::Op::kNotEquals:
      return "!=";
    case Requirement::Op::kIn:
      return " in ";
    case Requirement::Op::kNotIn:
      return " notin ";
    default:
      return "";
  }
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

// Canonical order: by key, so that equal selectors print equally.
void sort_by_key(std::vector<Requirement>& reqs) {
  std::stable_sort(reqs.begin(), reqs.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key < b.key; });
}

}  // namespace

bool Requirement::matches(const Labels& labels) const {
  auto it = labels.find(key);
  bool has = it != labels.end();
  auto in_values = [&] {
    return has && std::find(values.begin(), values.end(), it->second) != values.end();
  };
  switch (op) {
    case Op::kEquals:
    case Op::kIn:
      return in_values();
    // As in Kubernetes, a missing label satisfies != and notin.
    case Op::kNotEquals:
    case Op::kNotIn:
      return !in_values();
    case Op::kExists:
      return has;
    case Op::kDoesNotExist:
      return !has;
  }
  return false;
}

Result<Selector> Selector::parse(std::string_view text) {
  std::vector<Requirement> reqs;
  LabelSelectorParser p(text);
  auto r = p.parse(reqs);
  if (!r) return r.take_error();
  sort_by_key(reqs);
  Selector s;
  s.reqs_ = std::move(reqs);
  return s;
}

Result<Selector> Selector::from(const LabelSelector& selector, const std::string& path) {
  std::vector<Cause> causes;
  std::vector<Requirement> reqs;
  auto add = [&](std::string field, std::string message) {
    causes.push_back({std::move(field), std::move(message), ""});
  };
  const std::string labels_path = join_path(path, "matchLabels");
  for (const auto& [k, v] : selector.matchLabels) {
    if (auto e = check_label_key(k)) add(join_path(labels_path, k), "invalid key: " + *e);
    if (auto e = check_label_value(v))
      add(join_path(labels_path, k), "invalid value \"" + v + "\": " + *e);
    reqs.push_back({k, Requirement::Op::kEquals, {v}});
  }
  const std::string exprs_path = join_path(path, "matchExpressions");
  for (size_t i = 0; i < selector.matchExpressions.size(); ++i) {
    const SelectorRequirement& e = selector.matchExpressions[i];
    const std::string p = index_path(exprs_path, i);
    Requirement r{e.key, Requirement::Op::kIn, e.values};
    if (e.key.empty())
      add(join_path(p, "key"), "required");
    else if (auto err = check_label_key(e.key))
      add(join_path(p, "key"), *err);
    bool wants_values = true;
    if (e.op == "In") {
      r.op = Requirement::Op::kIn;
    } else if (e.op == "NotIn") {
      r.op = Requirement::Op::kNotIn;
    } else if (e.op == "Exists") {
      r.op = Requirement::Op::kExists;
      wants_values = false;
    } else if (e.op == "DoesNotExist") {
      r.op = Requirement::Op::kDoesNotExist;
      wants_values = false;
    } else {
      add(join_path(p, "operator"), "must be one of In, NotIn, Exists, DoesNotExist");
      continue;
    }
    if (wants_values && e.values.empty())
      add(join_path(p, "values"), "must be specified when operator is In or NotIn");
    if (!wants_values && !e.values.empty())
      add(join_path(p, "values"), "must be empty when operator is Exists or DoesNotExist");
    for (size_t j = 0; j < e.values.size(); ++j)
      if (auto err = check_label_value(e.values[j]))
        add(index_path(join_path(p, "values"), j), *err);
    sort_unique(r.values);
    reqs.push_back(std::move(r));
  }
  if (!causes.empty()) {
    std::string msg = "invalid label selector: ";
    for (size_t i = 0; i < causes.size(); ++i)
      msg += (i ? ", " : "") + causes[i].field + ": " + causes[i].message;
    return Error{ErrorCode::kBadRequest, std::move(msg), std::move(causes)};
  }
  sort_by_key(reqs);
  Selector s;
  s.reqs_ = std::move(reqs);
  return s;
}

Selector Selector::from_map(const Labels& labels) {
  Selector s;
  for (const auto& [k, v] : labels) s.reqs_.push_back({k, Requirement::Op::kEquals, {v}});
  return s;
}

bool Selector::matches(const Labels& labels) const {
  for (const auto& r : reqs_)
    if (!r.matches(labels)) return false;
  return true;
}

std::string Selector::to_string() const {
  std::string out;
  for (const auto& r : reqs_) {
    if (!out.empty()) out += ",";
    switch (r.op) {
      case Requirement::Op::kExists:
        out += r.key;
        break;
      case Requirement::Op::kDoesNotExist:
        out += "!" + r.key;
        break;
      case Requirement::Op::kEquals:
      case Requirement::Op::kNotEquals:
        out += r.key + op_text(r.op) + (r.values.empty() ? "" : r.values[0]);
        break;
      case Requirement::Op::kIn:
      case Requirement::Op::kNotIn: {
        out += r.key + op_text(r.op) + "(";
        for (size_t i = 0; i < r.values.size(); ++i) out += (i ? "," : "") + r.values[i];
        out += ")";
        break;
      }
    }
  }
  return out;
}

Result<std::vector<FieldRequirement>> parse_field_selector(std::string_view text) {
  std::vector<FieldRequirement> out;
  auto fail = [&](const std::string& why) -> Result<std::vector<FieldRequirement>> {
    return make_error(ErrorCode::kBadRequest,
                      "invalid field selector \"" + std::string(text) + "\": " + why);
  };
  if (trim(text).empty()) return out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view part = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    std::string p = trim(part);
    if (p.empty()) return fail("empty requirement");
    FieldRequirement r;
    size_t op = p.find_first_of("!=");
    if (op == std::string::npos)
      return fail("\"" + p + "\" must be path=value, path==value or path!=value");
    size_t value_start = op + 1;
    if (p[op] == '!') {
      if (op + 1 >= p.size() || p[op + 1] != '=')
        return fail("\"" + p + "\" must be path=value, path==value or path!=value");
      r.negate = true;
      value_start = op + 2;
    } else if (op + 1 < p.size() && p[op + 1] == '=') {
      value_start = op + 2;
    }
    r.field = trim(p.substr(0, op));
    r.value = trim(p.substr(value_start));
    if (r.field.empty()) return fail("\"" + p + "\" has no field path before the operator");
    if (r.value.find_first_of("!=") != std::string::npos)
      return fail("\"" + p + "\" has more than one operator");
    out.push_back(std::move(r));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace corral
