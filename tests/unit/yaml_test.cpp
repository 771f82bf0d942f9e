// api/yaml.h: YAML typing, locations, errors and the to_yaml round trip.
#include "api/json.h"
#include "api/yaml.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace corral {
namespace yaml_test {

// Parses text that must hold exactly one document.
Json parse_one(const std::string& text) {
  auto docs = parse_yaml_documents(text, "t.yaml");
  EXPECT_TRUE(docs.ok()) << (docs.ok() ? "" : docs.error().message);
  if (!docs.ok() || docs->size() != 1) {
    ADD_FAILURE() << "expected one document";
    return Json();
  }
  return (*docs)[0].object;
}

std::string parse_error(const std::string& text) {
  auto docs = parse_yaml_documents(text, "t.yaml");
  EXPECT_FALSE(docs.ok());
  if (docs.ok()) return "";
  EXPECT_EQ(docs.error().code, ErrorCode::kBadRequest);
  return docs.error().message;
}

TEST(Yaml, PlainScalarsKeepTheirYamlType) {
  Json j = parse_one(
      "int: 3\n"
      "neg: -7\n"
      "plus: +4\n"
      "zero: 0\n"
      "hex: 0x1F\n"
      "oct: 0o17\n"
      "big: 9223372036854775807\n"
      "float: 1.5\n"
      "exp: 1e3\n"
      "dot: .5\n"
      "inf: -.inf\n"
      "t1: true\n"
      "t2: True\n"
      "t3: TRUE\n"
      "f1: false\n"
      "f2: False\n"
      "f3: FALSE\n"
      "n1: ~\n"
      "n2: null\n"
      "n3:\n"
      "n4: NULL\n"
      "s1: abc\n"
      "s2: 1.2.3\n"
      "s3: yes\n"
      "s4: 0x\n"
      "s5: 500m\n"
      "s6: 4Gi\n"
      "s7: 127.0.0.1:8080\n"
      "s8: tRUE\n");
  EXPECT_EQ(j["int"], Json(3));
  EXPECT_TRUE(j["int"].is_number_integer());
  EXPECT_EQ(j["neg"], Json(-7));
  EXPECT_EQ(j["plus"], Json(4));
  EXPECT_EQ(j["zero"], Json(0));
  EXPECT_EQ(j["hex"], Json(31));
  EXPECT_EQ(j["oct"], Json(15));
  EXPECT_EQ(j["big"].get<int64_t>(), INT64_MAX);
  EXPECT_TRUE(j["float"].is_number_float());
  EXPECT_DOUBLE_EQ(j["float"].get<double>(), 1.5);
  EXPECT_TRUE(j["exp"].is_number_float());
  EXPECT_DOUBLE_EQ(j["exp"].get<double>(), 1000.0);
  EXPECT_DOUBLE_EQ(j["dot"].get<double>(), 0.5);
  EXPECT_TRUE(std::isinf(j["inf"].get<double>()));
  EXPECT_LT(j["inf"].get<double>(), 0);
  for (const char* k : {"t1", "t2", "t3"}) EXPECT_EQ(j[k], Json(true)) << k;
  for (const char* k : {"f1", "f2", "f3"}) EXPECT_EQ(j[k], Json(false)) << k;
  for (const char* k : {"n1", "n2", "n3", "n4"}) EXPECT_TRUE(j[k].is_null()) << k;
  EXPECT_EQ(j["s1"], Json("abc"));
  EXPECT_EQ(j["s2"], Json("1.2.3"));
  EXPECT_EQ(j["s3"], Json("yes"));  // YAML 1.2: only true/false are booleans
  EXPECT_EQ(j["s4"], Json("0x"));
  EXPECT_EQ(j["s5"], Json("500m"));
  EXPECT_EQ(j["s6"], Json("4Gi"));
  EXPECT_EQ(j["s7"], Json("127.0.0.1:8080"));
  EXPECT_EQ(j["s8"], Json("tRUE"));
}

TEST(Yaml, QuotedAndBlockScalarsAreAlwaysStrings) {
  Json j = parse_one(
      "a: \"3\"\n"
      "b: '3'\n"
      "c: \"true\"\n"
      "d: 'null'\n"
      "e: \"\"\n"
      "f: !!str 5\n"
      "g: |\n"
      "  42\n"
      "h: \"1.5\"\n");
  EXPECT_EQ(j["a"], Json("3"));
  EXPECT_EQ(j["b"], Json("3"));
  EXPECT_EQ(j["c"], Json("true"));
  EXPECT_EQ(j["d"], Json("null"));
  EXPECT_EQ(j["e"], Json(""));
  EXPECT_EQ(j["f"], Json("5"));
  EXPECT_EQ(j["g"], Json("42\n"));
  EXPECT_EQ(j["h"], Json("1.5"));
}

TEST(Yaml, NestedStructuresAndFlowStyle) {
  Json j = parse_one(
      "metadata: {name: web, labels: {app: x}}\n"
      "list: [1, two, {three: 3}]\n"
      "empty_map: {}\n"
      "empty_list: []\n");
  EXPECT_EQ(j, Json::parse(R"({"metadata":{"name":"web","labels":{"app":"x"}},
                               "list":[1,"two",{"three":3}],"empty_map":{},"empty_list":[]})"));
}

TEST(Yaml, KeepsKeyOrder) {
  Json j = parse_one("zeta: 1\nalpha: 2\nmid: 3\n");
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"zeta", "alpha", "mid"}));
}

TEST(Yaml, SeveralDocumentsAndEmptyOnesAreSkipped) {
  auto docs = parse_yaml_documents(
      "# leading comment only\n"
      "---\n"
      "a: 1\n"
      "---\n"
      "# nothing here\n"
      "---\n"
      "\n"
      "b: 2\n"
      "---\n",
      "multi.yaml");
  ASSERT_TRUE(docs.ok()) << docs.error().message;
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0].object, Json::parse(R"({"a":1})"));
  EXPECT_EQ((*docs)[0].file, "multi.yaml");
  EXPECT_EQ((*docs)[0].line, 3);
  EXPECT_EQ((*docs)[1].object, Json::parse(R"({"b":2})"));
  EXPECT_EQ((*docs)[1].line, 8);
}

TEST(Yaml, OnlyCommentsGivesNoDocuments) {
  auto docs = parse_yaml_documents("# nothing\n# at all\n", "c.yaml");
  ASSERT_TRUE(docs.ok());
  EXPECT_TRUE(docs->empty());
  auto empty = parse_yaml_documents("", "e.yaml");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(Yaml, RecordsLocationsOfNestedKeysAndListItems) {
  auto docs = parse_yaml_documents(
      "apiVersion: corral/v1\n"  // 1
      "kind: Balancer\n"         // 2
      "spec:\n"                  // 3
      "  rules:\n"               // 4
      "  - host: a.example\n"    // 5
      "    pathPrefix: /a\n"     // 6
      "  -   host: b.example\n"  // 7
      "  ports: [80, 443]\n"     // 8
      "  command:\n"             // 9
      "    - /bin/true\n",       // 10
      "lb.yaml");
  ASSERT_TRUE(docs.ok()) << docs.error().message;
  const SourceDoc& d = (*docs)[0];
  EXPECT_EQ(d.line, 1);
  EXPECT_EQ(d.locations.at("apiVersion"), "lb.yaml:1:1");
  EXPECT_EQ(d.locations.at("spec"), "lb.yaml:3:1");
  EXPECT_EQ(d.locations.at("spec.rules"), "lb.yaml:4:3");
  EXPECT_EQ(d.locations.at("spec.rules[0]"), "lb.yaml:5:5");
  EXPECT_EQ(d.locations.at("spec.rules[0].host"), "lb.yaml:5:5");
  EXPECT_EQ(d.locations.at("spec.rules[0].pathPrefix"), "lb.yaml:6:5");
  EXPECT_EQ(d.locations.at("spec.rules[1].host"), "lb.yaml:7:7");
  EXPECT_EQ(d.locations.at("spec.ports[1]"), "lb.yaml:8:15");
  EXPECT_EQ(d.locations.at("spec.command[0]"), "lb.yaml:10:7");
}

TEST(Yaml, LocateFallsBackToParentThenDocument) {
  auto docs = parse_yaml_documents(
      "---\n"
      "kind: VMSet\n"
      "metadata:\n"
      "  labels: {app.kubernetes.io/name: x}\n"
      "spec:\n"
      "  replicas: 3\n",
      "s.yaml");
  ASSERT_TRUE(docs.ok()) << docs.error().message;
  const SourceDoc& d = (*docs)[0];
  EXPECT_EQ(d.line, 2);
  EXPECT_EQ(d.locate("spec.replicas"), "s.yaml:6:3");
  // A field that was not written: the nearest parent that was.
  EXPECT_EQ(d.locate("spec.template.spec.resources.cpu"), "s.yaml:5:1");
  EXPECT_EQ(d.locate("spec.rules[2].host"), "s.yaml:5:1");
  // Label keys with dots and slashes are found as written.
  EXPECT_EQ(d.locate("metadata.labels.app.kubernetes.io/name"), "s.yaml:4:12");
  EXPECT_EQ(d.locate("metadata.labels.other.io/x"), "s.yaml:4:3");
  // Nothing at all: the document.
  EXPECT_EQ(d.locate("apiVersion"), "s.yaml:2");
  EXPECT_EQ(d.locate(""), "s.yaml:2");
}

TEST(Yaml, SyntaxErrorNamesFileLineAndColumn) {
  EXPECT_EQ(parse_error("a: 1\nb: [1, 2\n"), "t.yaml:3:1: end of sequence flow not found");
  EXPECT_EQ(parse_error("a: 1\n  b: 2\n"), "t.yaml:2:4: illegal map value");
  EXPECT_EQ(parse_error("key: value: x\n"), "t.yaml:1:11: illegal map value");
  EXPECT_EQ(parse_error("a:\n\t- b\n"), "t.yaml:2:2: illegal block entry");
  EXPECT_EQ(parse_error("a: *nowhere\n"), "t.yaml:1:4: the referenced anchor is not defined");
}

TEST(Yaml, DuplicateKeysAreErrors) {
  EXPECT_EQ(parse_error("metadata:\n"
                        "  name: a\n"
                        "  labels: {}\n"
                        "  name: b\n"),
            "t.yaml:4:3: duplicate key \"name\" (first defined at line 2)");
  // "1" quoted and 1 plain are the same JSON key.
  EXPECT_EQ(parse_error("x: {1: a, \"1\": b}\n"),
            "t.yaml:1:11: duplicate key \"1\" (first defined at line 1)");
}

TEST(Yaml, TopLevelMustBeAMapping) {
  EXPECT_EQ(parse_error("a: 1\n---\n- x\n- y\n"),
            "t.yaml:3:1: expected a mapping (an object with apiVersion and kind), got a list");
  EXPECT_EQ(parse_error("just text\n"),
            "t.yaml:1:1: expected a mapping (an object with apiVersion and kind), got a scalar");
}

TEST(Yaml, NonScalarKeysAreErrors) {
  EXPECT_EQ(parse_error("? [a, b]\n: c\n"),
            "t.yaml:1:3: mapping keys must be strings, not lists or mappings");
}

TEST(Yaml, AnchorsAliasesAndMergeKeys) {
  Json j = parse_one(
      "base: &base {cpu: 1, memory: 2}\n"
      "copy: *base\n"
      "merged:\n"
      "  <<: *base\n"
      "  memory: 3\n");
  EXPECT_EQ(j["copy"], Json::parse(R"({"cpu":1,"memory":2})"));
  EXPECT_EQ(j["merged"], Json::parse(R"({"cpu":1,"memory":3})"));
}

TEST(Yaml, AliasExpansionIsBounded) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  std::string prev = "a";
  for (char c = 'b'; c <= 'h'; ++c) {
    std::string name(1, c);
    bomb += name + ": &" + name + " [";
    for (int i = 0; i < 10; ++i) bomb += (i ? ", *" : "*") + prev;
    bomb += "]\n";
    prev = name;
  }
  std::string msg = parse_error(bomb);
  EXPECT_NE(msg.find("document too large"), std::string::npos) << msg;
  EXPECT_EQ(msg.rfind("t.yaml:", 0), 0u) << msg;
}

// ---- to_yaml ------------------------------------------------------------------

Json round_trip(const Json& j) {
  std::string text = to_yaml(j);
  auto docs = parse_yaml_documents(text, "rt.yaml");
  EXPECT_TRUE(docs.ok()) << text << "\n" << (docs.ok() ? "" : docs.error().message);
  if (!docs.ok() || docs->size() != 1) return Json();
  return (*docs)[0].object;
}

TEST(ToYaml, BlockStyleLikeKubectl) {
  Json j = Json::parse(R"({
    "apiVersion": "corral/v1", "kind": "VMSet",
    "metadata": {"name": "frontend", "labels": {}},
    "spec": {"replicas": 3, "ratio": 0.5, "on": true, "none": null, "tags": [],
             "command": ["/usr/bin/python3", "-m", "--bind"],
             "rules": [{"host": "a", "pathPrefix": "/a"}, {}],
             "nested": [[1, 2], []],
             "quoted": ["2", "true", "", " x", "a: b"]}
  })");
  EXPECT_EQ(to_yaml(j),
            "apiVersion: corral/v1\n"
            "kind: VMSet\n"
            "metadata:\n"
            "  name: frontend\n"
            "  labels: {}\n"
            "spec:\n"
            "  replicas: 3\n"
            "  ratio: 0.5\n"
            "  \"on\": true\n"
            "  none: null\n"
            "  tags: []\n"
            "  command:\n"
            "  - /usr/bin/python3\n"
            "  - -m\n"
            "  - --bind\n"
            "  rules:\n"
            "  - host: a\n"
            "    pathPrefix: /a\n"
            "  - {}\n"
            "  nested:\n"
            "  - - 1\n"
            "    - 2\n"
            "  - []\n"
            "  quoted:\n"
            "  - \"2\"\n"
            "  - \"true\"\n"
            "  - \"\"\n"
            "  - \" x\"\n"
            "  - \"a: b\"\n");
}

TEST(ToYaml, ScalarsAtTopLevel) {
  EXPECT_EQ(to_yaml(Json("hello")), "hello\n");
  EXPECT_EQ(to_yaml(Json("3")), "\"3\"\n");
  EXPECT_EQ(to_yaml(Json(3)), "3\n");
  EXPECT_EQ(to_yaml(Json(2.0)), "2.0\n");
  EXPECT_EQ(to_yaml(Json()), "null\n");
  EXPECT_EQ(to_yaml(Json::object()), "{}\n");
  EXPECT_EQ(to_yaml(Json::array()), "[]\n");
}

TEST(ToYaml, MultiLineStringsUseLiteralBlocks) {
  Json j = {{"script", "line one\n  indented\n\nlast\n"}, {"nofinal", "a\nb"}};
  EXPECT_EQ(to_yaml(j),
            "script: |\n"
            "  line one\n"
            "    indented\n"
            "\n"
            "  last\n"
            "nofinal: |-\n"
            "  a\n"
            "  b\n");
  EXPECT_EQ(round_trip(j), j);
}

TEST(ToYaml, TrickyStringsRoundTrip) {
  // One string per line would hide the list.
  // clang-format off
  const std::vector<std::string> tricky = {
      "", " ", "2", "-2", "+2", "0x1F", "0o17", "1e3", "1.5", ".5", "1.", ".inf", "-.inf", ".nan",
      "true", "True", "TRUE", "false", "null", "Null", "NULL", "~", "yes", "no", "on", "off", "y",
      "n", "- x", "-", "--", "--bind", "---", "...", "? x", "?x", ":x", "x:", "a: b", "a:b",
      "a #b", "a#b", "#comment", "&anchor", "*alias", "!tag", "!!str", "|", ">", "'single'",
      "\"double\"", "%percent", "@at", "`tick", "[list]", "{map}", "a, b", "a,b", "{", "}",
      " leading", "trailing ", "tab\there", "new\nline", "\n", "\nlead", "trail\n\n", "a\r\nb",
      "bell\x07", "del\x7f", "back\\slash", "quote\"in", "ünïcødé", "日本語", "emoji 😀",
      "line\xE2\x80\xA8sep", "nel\xC2\x85" "x", "\xEF\xBB\xBF" "bom", "${PORT}",
      "127.0.0.1:8080", "http://x/y?z=1#f", "500m", "4Gi",
      "2026-11-25T13:52:00Z", "1_000", "0123", "00", "=", "<<", "  x  y  ", "a\n b\n  c",
      "x\n  \ny", "x \ny"};
  // clang-format on
  Json obj = Json::object();
  Json list = Json::array();
  for (size_t i = 0; i < tricky.size(); ++i) {
    obj["k" + std::to_string(i)] = tricky[i];
    list.push_back(tricky[i]);
  }
  EXPECT_EQ(round_trip(obj), obj) << to_yaml(obj);
  Json wrapped = {{"list", list}};
  EXPECT_EQ(round_trip(wrapped), wrapped) << to_yaml(wrapped);
  // The same strings as keys.
  Json keys = Json::object();
  for (size_t i = 0; i < tricky.size(); ++i) keys[tricky[i]] = static_cast<int64_t>(i);
  EXPECT_EQ(round_trip(keys), keys) << to_yaml(keys);
}

TEST(ToYaml, NumbersAndBooleansRoundTrip) {
  Json j = {{"i", 42},
            {"neg", -42},
            {"zero", 0},
            {"big", INT64_MAX},
            {"min", INT64_MIN},
            {"f", 0.25},
            {"whole", 3.0},
            {"tiny", 1e-300},
            {"huge", 1.5e300},
            {"t", true},
            {"f2", false},
            {"n", nullptr},
            {"u", uint64_t{18446744073709551615u}}};
  Json back = round_trip(j);
  EXPECT_EQ(back, j) << to_yaml(j);
  EXPECT_TRUE(back["whole"].is_number_float());
  EXPECT_TRUE(back["i"].is_number_integer());
}

TEST(ToYaml, ExampleObjectsRoundTrip) {
  Json pool = Json::parse(R"({
    "apiVersion": "corral/v1", "kind": "Pool",
    "metadata": {"name": "web", "labels": {"corral.io/zone": "a", "tier": "1"}},
    "spec": {"nodeSelector": {"role": "web"}, "overcommit": {"cpu": 4.0, "memory": 1.0},
             "placement": "leastLoaded",
             "rebalance": {"enabled": true, "maxImbalance": 0.2, "intervalSeconds": 30},
             "failover": {"nodeGraceSeconds": 3}},
    "status": {"capacity": {"cpu": "64", "memory": "256Gi"}, "meanLoad": 0.41,
               "nodeLoads": [{"name": "h1", "load": 0.5, "deviation": 0.09}],
               "conditions": [{"type": "Ready", "status": "True",
                               "lastTransitionTime": "2026-11-25T13:52:00Z"}]}
  })");
  Json vmset = Json::parse(R"({
    "apiVersion": "corral/v1", "kind": "VMSet",
    "metadata": {"name": "frontend"},
    "spec": {"pool": "web", "replicas": 3,
             "template": {"metadata": {"labels": {"app": "frontend"}},
                          "spec": {"resources": {"cpu": "100m", "memory": "64Mi"},
                                   "runtime": {"driver": "process",
                                               "command": ["/usr/bin/python3", "-m", "http.server",
                                                           "${PORT}", "--bind", "127.0.0.1"],
                                               "env": {"A": "1", "B": "no"}},
                                   "restartPolicy": "Always"}},
             "spread": {"topologyKey": "zone", "maxSkew": 1},
             "disruption": {"maxUnavailable": "25%"}}
  })");
  Json balancer = Json::parse(R"({
    "apiVersion": "corral/v1", "kind": "Balancer",
    "metadata": {"name": "frontend"},
    "spec": {"vmSet": "frontend", "listen": "127.0.0.1:8080", "mode": "http",
             "rules": [{"host": "a.example", "pathPrefix": "/static/",
                        "selector": {"matchExpressions": [{"key": "tier", "operator": "In",
                                                           "values": ["web", "2"]}]}}],
             "healthCheck": {"type": "http", "path": "/"}},
    "status": {"endpoints": [{"vm": "frontend-1", "address": "127.0.0.1:4001", "weight": 1.0,
                              "health": "Healthy", "draining": false}]}
  })");
  for (const Json& j : {pool, vmset, balancer}) EXPECT_EQ(round_trip(j), j) << to_yaml(j);
}

}  // namespace yaml_test
}  // namespace corral
