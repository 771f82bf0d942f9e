// YAML ⇄ JSON for manifests (see api/yaml.h).
//
// Parsing goes through yaml-cpp's node tree and converts it ourselves instead
// of using YAML::convert<>: we need the node's tag (quoted or plain) to keep
// YAML's typing, its Mark for file:line:column, and every key of a mapping to
// catch duplicates that yaml-cpp silently keeps. Emitting is a small
// hand-written block emitter: YAML::Emitter quotes too little (it would write
// the string "2" as a plain 2, which reads back as an integer).
#include "api/yaml.h"

#include <cstdint>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "api/json.h"
#include "api/field_path.h"

namespace corral {

namespace {

// Aliases are expanded while converting, so a few lines of YAML can ask for
// billions of nodes ("billion laughs"). Without aliases a text never holds more
// nodes than bytes, so a parse may convert that many plus this allowance.
constexpr size_t kAliasNodeAllowance = 100'000;
constexpr int kMaxDepth = 200;

const std::string kTagPrefix = "tag:yaml.org,2002:";

std::string location(const std::string& file, const YAML::Mark& mark) {
  // Marks are 0-based; people count from 1. A null mark (-1) becomes 1:1.
  int line = mark.line < 0 ? 1 : mark.line + 1;
  int col = mark.column < 0 ? 1 : mark.column + 1;
  return file + ":" + std::to_string(line) + ":" + std::to_string(col);
}

bool all_of(std::string_view s, bool (*pred)(char)) {
  if (s.empty()) return false;
  for (char c : s)
    if (!pred(c)) return false;
  return true;
}
bool is_dec(char c) { return c >= '0' && c <= '9'; }
bool is_oct(char c) { return c >= '0' && c <= '7'; }
bool is_hex(char c) { return is_dec(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?  — YAML 1.2 core.
bool looks_like_float(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && is_dec(s[i])) ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_dec(s[i])) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && is_dec(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

std::optional<Json> parse_integer(std::string_view s) {
  bool neg = false;
  std::string_view digits = s;
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
    base = s[1] == 'x' ? 16 : 8;
    digits = s.substr(2);
    if (!all_of(digits, base == 16 ? is_hex : is_oct)) return std::nullopt;
  } else {
    if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
      neg = digits[0] == '-';
      digits.remove_prefix(1);
    }
    if (!all_of(digits, is_dec)) return std::nullopt;
  }
  uint64_t u = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), u, base);
  if (ec == std::errc() && p == digits.data() + digits.size()) {
    if (!neg && u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return Json(static_cast<int64_t>(u));
    if (!neg) return Json(u);
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return Json(-static_cast<int64_t>(u));
    if (u == static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1)
      return Json(std::numeric_limits<int64_t>::min());
  }
  // Too large for 64 bits: still a number, as YAML says, only less exact.
  if (base != 10) return std::nullopt;
  double d = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), d);
  return Json(neg ? -d : d);
}

std::optional<Json> parse_float(std::string_view s) {
  std::string_view body = s;
  bool neg = false;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == ".inf" || body == ".Inf" || body == ".INF")
    return Json(neg ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity());
  if (s == ".nan" || s == ".NaN" || s == ".NAN")
    return Json(std::numeric_limits<double>::quiet_NaN());
  if (!looks_like_float(s)) return std::nullopt;
  double d = 0;
  // from_chars is locale-independent, unlike strtod; it takes no '+'.
  auto [p, ec] = std::from_chars(body.data(), body.data() + body.size(), d);
  if (ec == std::errc::result_out_of_range) {
    d = std::numeric_limits<double>::infinity();
  } else if (ec != std::errc() || p != body.data() + body.size()) {
    return std::nullopt;
  }
  return Json(neg ? -d : d);
}

// What a plain (unquoted) scalar means under the YAML 1.2 core schema.
Json resolve_plain(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return Json();
  if (s == "true" || s == "True" || s == "TRUE") return Json(true);
  if (s == "false" || s == "False" || s == "FALSE") return Json(false);
  char c = s[0];
  if (is_dec(c) || c == '-' || c == '+' || c == '.') {
    if (auto i = parse_integer(s)) return *i;
    if (auto f = parse_float(s)) return *f;
  }
  return Json(s);
}

// ---- parsing ------------------------------------------------------------------

class Converter {
 public:
  Converter(const std::string& file, SourceDoc& doc, size_t& budget)
      : file_(file), doc_(doc), budget_(budget) {}

  // Converts `node` (written at field path `path`); on failure err_ is set.
  std::optional<Json> convert(const YAML::Node& node, const std::string& path, int depth) {
    if (budget_ == 0)
      return fail(node.Mark(), "document too large (too many nodes after expanding aliases)");
    --budget_;
    if (depth > kMaxDepth) return fail(node.Mark(), "document nested too deeply");
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return Json();
      case YAML::NodeType::Scalar:
        return scalar(node);
      case YAML::NodeType::Sequence: {
        Json out = Json::array();
        size_t i = 0;
        for (const auto& item : node) {
          std::string p = index_path(path, i++);
          doc_.locations[p] = location(file_, item.Mark());
          auto v = convert(item, p, depth + 1);
          if (!v) return std::nullopt;
          out.push_back(std::move(*v));
        }
        return out;
      }
      case YAML::NodeType::Map:
        return mapping(node, path, depth);
    }
    return Json();
  }

  Error take_error() { return std::move(*err_); }

 private:
  std::nullopt_t fail(const YAML::Mark& mark, const std::string& what) {
    err_ = make_error(ErrorCode::kBadRequest, location(file_, mark) + ": " + what);
    return std::nullopt;
  }

  Json scalar(const YAML::Node& node) {
    const std::string& tag = node.Tag();
    const std::string& text = node.Scalar();
    // "!" is yaml-cpp's mark for a quoted or block scalar: always a string.
    if (tag == "?") return resolve_plain(text);
    if (tag == kTagPrefix + "int" || tag == kTagPrefix + "float" || tag == kTagPrefix + "bool" ||
        tag == kTagPrefix + "null") {
      Json v = resolve_plain(text);
      if (!v.is_string()) return v;
    }
    return Json(text);
  }

  std::optional<std::string> key_text(const YAML::Node& key) {
    if (key.IsScalar()) return key.Scalar();
    if (key.IsNull()) {
      fail(key.Mark(), "mapping keys must not be empty or null");
    } else {
      fail(key.Mark(), "mapping keys must be strings, not lists or mappings");
    }
    return std::nullopt;
  }

  static bool is_merge_key(const YAML::Node& key) {
    return key.IsScalar() && key.Tag() == "?" && key.Scalar() == "<<";
  }

  std::optional<Json> mapping(const YAML::Node& node, const std::string& path, int depth) {
    Json out = Json::object();
    // Keys written in this mapping win over keys merged in with `<<`, wherever
    // they appear, so they are collected first.
    std::map<std::string, YAML::Mark> explicit_keys;
    for (const auto& kv : node) {
      if (is_merge_key(kv.first)) continue;
      auto key = key_text(kv.first);
      if (!key) return std::nullopt;
      auto [it, inserted] = explicit_keys.emplace(*key, kv.first.Mark());
      if (!inserted) {
        return fail(kv.first.Mark(), "duplicate key \"" + *key + "\" (first defined at line " +
                                         std::to_string(it->second.line + 1) + ")");
      }
    }
    for (const auto& kv : node) {
      if (is_merge_key(kv.first)) {
        if (!merge(kv.second, out, explicit_keys, path, depth)) return std::nullopt;
        continue;
      }
      std::string key = kv.first.Scalar();
      std::string p = join_path(path, key);
      doc_.locations[p] = location(file_, kv.first.Mark());
      auto v = convert(kv.second, p, depth + 1);
      if (!v) return std::nullopt;
      out[key] = std::move(*v);
    }
    return out;
  }

  // `<<: *base` or `<<: [*a, *b]`: copies the keys of the merged mappings that
  // this mapping does not set itself; the first mapping listed wins.
  bool merge(const YAML::Node& from, Json& out,
             const std::map<std::string, YAML::Mark>& explicit_keys, const std::string& path,
             int depth) {
    std::vector<YAML::Node> sources;
    if (from.IsMap()) {
      sources.push_back(from);
    } else if (from.IsSequence()) {
      for (const auto& s : from) sources.push_back(s);
    }
    if (sources.empty()) {
      fail(from.Mark(), "merge key \"<<\" expects a mapping or a list of mappings");
      return false;
    }
    for (const auto& src : sources) {
      if (!src.IsMap()) {
        fail(src.Mark(), "merge key \"<<\" expects a mapping or a list of mappings");
        return false;
      }
      auto merged = convert(src, path, depth + 1);
      if (!merged) return false;
      for (auto it = merged->begin(); it != merged->end(); ++it) {
        if (explicit_keys.count(it.key()) || out.contains(it.key())) continue;
        out[it.key()] = it.value();
      }
    }
    return true;
  }

  const std::string& file_;
  SourceDoc& doc_;
  size_t& budget_;
  std::optional<Error> err_;
};

}  // namespace

std::string SourceDoc::locate(const std::string& field_path) const {
  std::string p = field_path;
  while (!p.empty()) {
    if (auto it = locations.find(p); it != locations.end()) return it->second;
    // Drop the last segment: "[3]" or ".key". Keys that contain dots (label
    // keys) just take a few more steps.
    size_t cut = p.find_last_of(".[");
    p = cut == std::string::npos ? "" : p.substr(0, cut);
  }
  return file + ":" + std::to_string(line);
}

namespace {

// The offset of the first byte that is not part of a well-formed UTF-8
// sequence (overlong forms, surrogates and values past U+10FFFF included), or
// npos. YAML is Unicode text, so a manifest that is not UTF-8 is refused with
// its place before yaml-cpp sees it.
size_t first_invalid_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((b & 0xE0) == 0xC0) {
      len = 2;
      cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3;
      cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4;
      cp = b & 0x07;
    } else {
      return i;
    }
    if (i + len > text.size()) return i;
    for (size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      if ((c & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (c & 0x3F);
    }
    const uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

// How many documents a stream can hold at most: one, plus one per line that
// starts with a document marker ("---" or "..."). An over-count (a marker
// inside a block scalar) only loosens the bound.
size_t max_documents(std::string_view text) {
  size_t count = 1;
  size_t line = 0;
  while (line < text.size()) {
    const std::string_view rest = text.substr(line);
    if (rest.starts_with("---") || rest.starts_with("...")) ++count;
    const size_t newline = text.find('\n', line);
    if (newline == std::string_view::npos) break;
    line = newline + 1;
  }
  return count;
}

// yaml-cpp 0.7's LoadAll() never ends on a token that no rule consumes, such
// as a ',' at block level (",a", "\"x\",a", "[a],b"): each turn yields one
// more empty document without moving on, until memory runs out (found by
// tests/fuzz; upstream jbeder/yaml-cpp#1040, fixed after 0.8). This dry run
// through the event interface builds nothing and stops with the stuck
// token's place as soon as the stream yields more documents than it has
// document markers.
class StuckParserGuard : public YAML::EventHandler {
 public:
  struct Stuck {
    YAML::Mark mark;
  };
  explicit StuckParserGuard(size_t max_documents) : max_documents_(max_documents) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ > max_documents_) throw Stuck{mark};
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override {
    if (documents_ == max_documents_) last_null_ = mark;
  }
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  // Where the last allowed document's empty node was: the stuck token.
  const YAML::Mark& last_null() const { return last_null_; }

 private:
  size_t max_documents_;
  size_t documents_ = 0;
  YAML::Mark last_null_ = YAML::Mark::null_mark();
};

// Runs the guard over `text`. Errors: BadRequest naming the stuck token's
// place. yaml-cpp's own syntax errors are left to the real parse.
Result<void> check_parser_progresses(std::string_view text, const std::string& file) {
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  StuckParserGuard guard(max_documents(text));
  try {
    while (parser.HandleNextDocument(guard)) {
    }
  } catch (const StuckParserGuard::Stuck&) {
    const YAML::Mark& at = guard.last_null();
    const auto pos = static_cast<size_t>(at.pos);
    std::string what = pos < text.size() && text[pos] == ','
                           ? "',' outside [ ] or { } (a flow separator) is not valid here"
                           : "this token cannot start a node here";
    return make_error(ErrorCode::kBadRequest, location(file, at) + ": " + what);
  } catch (const std::exception&) {
    // A syntax error: the real parse reports it with its place.
  }
  return {};
}

}  // namespace

Result<std::vector<SourceDoc>> parse_yaml_documents(std::string_view text,
                                                    const std::string& file) {
  if (const size_t bad = first_invalid_utf8(text); bad != std::string_view::npos) {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < bad; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return make_error(ErrorCode::kBadRequest, file + ":" + std::to_string(line) + ":" +
                                                  std::to_string(column) +
                                                  ": not UTF-8 text (byte " +
                                                  std::to_string(static_cast<unsigned char>(text[bad])) +
                                                  " here): a manifest must be UTF-8");
  }
  if (auto ok = check_parser_progresses(text, file); !ok) return ok.error();
  std::vector<YAML::Node> nodes;
  try {
    nodes = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return make_error(ErrorCode::kBadRequest, location(file, e.mark) + ": " + e.msg);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kBadRequest, file + ": " + e.what());
  }

  std::vector<SourceDoc> docs;
  size_t budget = text.size() + kAliasNodeAllowance;
  try {
    for (const auto& node : nodes) {
      if (!node.IsDefined() || node.IsNull()) continue;  // only comments, or `~`
      if (!node.IsMap()) {
        return make_error(ErrorCode::kBadRequest, location(file, node.Mark()) +
                                                      ": expected a mapping (an object with "
                                                      "apiVersion and kind), got a " +
                                                      (node.IsSequence() ? "list" : "scalar"));
      }
      SourceDoc doc;
      doc.file = file;
      doc.line = node.Mark().line < 0 ? 1 : node.Mark().line + 1;
      Converter conv(file, doc, budget);
      auto object = conv.convert(node, "", 0);
      if (!object) return conv.take_error();
      doc.object = std::move(*object);
      docs.push_back(std::move(doc));
    }
  } catch (const std::exception& e) {
    // yaml-cpp's accessors can throw on nodes we did not expect; never let it out.
    return make_error(ErrorCode::kBadRequest, file + ": " + e.what());
  }
  return docs;
}

// ---- emitting -----------------------------------------------------------------

namespace {

bool has_control_chars(std::string_view s, bool allow_newline) {
  for (unsigned char c : s) {
    if (c == '\n' && allow_newline) continue;
    if (c < 0x20 || c == 0x7f) return true;
  }
  // Unicode line and paragraph separators, NEL and BOM: YAML 1.1 readers may
  // break lines at them, so they are written escaped.
  for (std::string_view bad : {"\xC2\x85", "\xE2\x80\xA8", "\xE2\x80\xA9", "\xEF\xBB\xBF"})
    if (s.find(bad) != std::string_view::npos) return true;
  return false;
}

// True when `s` reads back as this very string without quotes.
bool plain_safe(const std::string& s) {
  if (s.empty() || has_control_chars(s, false)) return false;
  if (!resolve_plain(s).is_string()) return false;
  // YAML 1.1 booleans: we read them as strings, but other tools (and people)
  // read them as booleans, so they are quoted to stay unambiguous.
  static const std::set<std::string> kYaml11Bools = {"y",  "Y",   "yes", "Yes", "YES", "n",
                                                     "N",  "no",  "No",  "NO",  "on",  "On",
                                                     "ON", "off", "Off", "OFF"};
  if (kYaml11Bools.count(s)) return false;
  char first = s.front(), last = s.back();
  if (first == ' ' || last == ' ') return false;
  if (std::string_view("?:,[]{}#&*!|>'\"%@`").find(first) != std::string_view::npos) return false;
  // "--bind" is a fine plain scalar, "-" and "- x" are not.
  if (first == '-' && (s.size() == 1 || s[1] == ' ')) return false;
  if (s.rfind("---", 0) == 0 || s.rfind("...", 0) == 0) return false;  // document markers
  if (last == ':') return false;
  if (s == "<<") return false;  // would read back as a merge key
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos) return false;
  return true;
}

std::string double_quoted(const std::string& s) {
  // A JSON string is a valid YAML double-quoted scalar. Invalid UTF-8 is
  // replaced rather than thrown on: printing must not fail.
  std::string out = Json(s).dump(-1, ' ', false, Json::error_handler_t::replace);
  // JSON leaves these raw, but YAML 1.1 readers take them for line breaks.
  // (Not "\N" for NEL: yaml-cpp 0.7 decodes that to a lone, invalid 0x85 byte.)
  for (auto [raw, escaped] :
       {std::pair{"\xC2\x85", "\\u0085"}, std::pair{"\xE2\x80\xA8", "\\L"},
        std::pair{"\xE2\x80\xA9", "\\P"}, std::pair{"\xEF\xBB\xBF", "\\uFEFF"}}) {
    for (size_t p = out.find(raw); p != std::string::npos; p = out.find(raw, p + 1))
      out.replace(p, std::string_view(raw).size(), escaped);
  }
  return out;
}

// Multi-line text reads best as a literal block (`|`); used only when the
// block reads back exactly: no leading spaces that would change the
// indentation, no trailing spaces, at most one final newline.
bool literal_block_ok(const std::string& s) {
  if (s.find('\n') == std::string::npos || has_control_chars(s, true)) return false;
  if (s.front() == ' ' || s.front() == '\n') return false;
  if (s.size() >= 2 && s.substr(s.size() - 2) == "\n\n") return false;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string::npos) end = s.size();
    std::string_view line(s.data() + start, end - start);
    if (!line.empty() && (line.back() == ' ' || line.back() == '\t')) return false;
    start = end + 1;
  }
  return true;
}

void write_literal_block(const std::string& s, int indent, std::string& out) {
  bool final_newline = s.back() == '\n';
  out += final_newline ? "|\n" : "|-\n";
  std::string body = final_newline ? s.substr(0, s.size() - 1) : s;
  std::string pad(indent, ' ');
  size_t start = 0;
  while (true) {
    size_t end = body.find('\n', start);
    std::string_view line(body.data() + start,
                          (end == std::string::npos ? body.size() : end) - start);
    if (!line.empty()) {
      out += pad;
      out += line;
    }
    out += '\n';
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

std::string key_text(const std::string& k) { return plain_safe(k) ? k : double_quoted(k); }

std::string number_text(const Json& v) {
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isnan(d)) return ".nan";
    if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
  }
  return v.dump();  // floats keep a "." or an exponent, so they read back as floats
}

bool is_block_collection(const Json& v) { return (v.is_object() || v.is_array()) && !v.empty(); }

// Writes a scalar or empty collection and ends the line; `indent` is where a
// literal block's lines go.
void write_inline(const Json& v, int indent, std::string& out) {
  switch (v.type()) {
    case Json::value_t::null:
      out += "null\n";
      return;
    case Json::value_t::boolean:
      out += v.get<bool>() ? "true\n" : "false\n";
      return;
    case Json::value_t::object:
      out += "{}\n";
      return;
    case Json::value_t::array:
      out += "[]\n";
      return;
    case Json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      if (plain_safe(s)) {
        out += s + "\n";
      } else if (literal_block_ok(s)) {
        write_literal_block(s, indent, out);
      } else {
        out += double_quoted(s) + "\n";
      }
      return;
    }
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      out += number_text(v) + "\n";
      return;
    default:
      out += "null\n";
      return;
  }
}

// Writes a non-empty map or list at `indent`. With `continues_line` the first
// line goes right after what is already written ("- " of a list item).
void write_block(const Json& v, int indent, bool continues_line, std::string& out) {
  const std::string pad(indent, ' ');
  bool first = true;
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!(first && continues_line)) out += pad;
      first = false;
      out += key_text(it.key()) + ":";
      const Json& val = it.value();
      if (val.is_object() && !val.empty()) {
        out += "\n";
        write_block(val, indent + 2, false, out);
      } else if (val.is_array() && !val.empty()) {
        // kubectl style: a list sits at the indentation of its key.
        out += "\n";
        write_block(val, indent, false, out);
      } else {
        out += " ";
        write_inline(val, indent + 2, out);
      }
    }
    return;
  }
  for (const auto& item : v) {
    if (!(first && continues_line)) out += pad;
    first = false;
    out += "-";
    if (is_block_collection(item)) {
      out += " ";
      write_block(item, indent + 2, true, out);
    } else {
      out += " ";
      write_inline(item, indent + 2, out);
    }
  }
}

}  // namespace

std::string to_yaml(const Json& value) {
  std::string out;
  if (is_block_collection(value)) {
    write_block(value, 0, false, out);
  } else {
    write_inline(value, 2, out);
  }
  return out;
}

}  // namespace corral
