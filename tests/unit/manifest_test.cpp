// api/manifest.h: loading files, directories and stdin; normalizing with every
// error located at file:line:column.
#include "api/json.h"
#include "api/manifest.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"

namespace corral {

// Readable failures for EXPECT_EQ on causes.
void PrintTo(const Cause& c, std::ostream* os) {
  *os << "{field: \"" << c.field << "\", message: \"" << c.message << "\", location: \""
      << c.location << "\"}";
}

namespace manifest_test {

using testing::TempDir;

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

const char* const kPool =
    "apiVersion: corral/v1\n"
    "kind: Pool\n"
    "metadata:\n"
    "  name: web\n";

std::vector<std::string> names(const std::vector<SourceDoc>& docs) {
  std::vector<std::string> out;
  for (const auto& d : docs) out.push_back(d.object["metadata"]["name"].get<std::string>());
  return out;
}

Result<std::vector<SourceDoc>> load(const std::string& path) {
  std::istringstream no_stdin;
  return load_manifests(path, no_stdin);
}

TEST(LoadManifests, ReadsEveryDocumentOfAFile) {
  TempDir dir;
  std::string f = dir.file("pools.yaml");
  write(f, std::string(kPool) + "---\n# empty\n---\n" + kPool + "  labels: {a: b}\n");
  auto docs = load(f);
  ASSERT_TRUE(docs.ok()) << docs.error().message;
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0].file, f);
  EXPECT_EQ((*docs)[0].line, 1);
  EXPECT_EQ((*docs)[1].line, 8);
  EXPECT_EQ((*docs)[1].locate("metadata.labels.a"), f + ":12:12");
  EXPECT_EQ((*docs)[1].object["metadata"]["labels"]["a"], "b");
}

TEST(LoadManifests, ReadsManifestFilesOfADirectorySortedByName) {
  TempDir dir;
  auto pool = [](const std::string& name) {
    return "apiVersion: corral/v1\nkind: Pool\nmetadata: {name: " + name + "}\n";
  };
  write(dir.file("b.yaml"), pool("from-b"));
  write(dir.file("a.yml"), pool("from-a"));
  write(dir.file("c.json"),
        R"({"apiVersion": "corral/v1", "kind": "Pool", "metadata": {"name": "from-c"}})");
  write(dir.file("notes.txt"), pool("ignored-txt"));
  write(dir.file("README.md"), "not yaml: [\n");
  std::filesystem::create_directory(dir.path() / "nested.yaml");  // a directory: skipped
  std::filesystem::create_directory(dir.path() / "sub");
  write(dir.file("sub/d.yaml"), pool("not-recursive"));
  auto docs = load(dir.path().string());
  ASSERT_TRUE(docs.ok()) << docs.error().message;
  EXPECT_EQ(names(*docs), (std::vector<std::string>{"from-a", "from-b", "from-c"}));
  EXPECT_EQ((*docs)[0].file, dir.file("a.yml"));
  EXPECT_EQ((*docs)[2].file, dir.file("c.json"));
}

TEST(LoadManifests, ReadsStandardInputForDash) {
  std::istringstream in(std::string(kPool) + "---\n" +
                        "apiVersion: corral/v1\nkind: VMSet\nmetadata: {name: fe}\n");
  auto docs = load_manifests("-", in);
  ASSERT_TRUE(docs.ok()) << docs.error().message;
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0].file, "-");
  EXPECT_EQ((*docs)[1].locate("metadata.name"), "-:8:12");
  EXPECT_EQ((*docs)[1].object["kind"], "VMSet");
}

TEST(LoadManifests, StandardInputMayBeJson) {
  std::istringstream in(R"({"kind": "List", "items": [{"kind": "Pool", "metadata": {"name": "a"}},
                                                       {"kind": "Pool", "metadata": {"name": "b"}}]})");
  auto docs = load_manifests("-", in);
  ASSERT_TRUE(docs.ok()) << docs.error().message;
  EXPECT_EQ(names(*docs), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ((*docs)[1].line, 2);
  EXPECT_EQ((*docs)[1].locate("metadata.name"), "-:2:86");
}

TEST(LoadManifests, JsonFileAndListExpansion) {
  TempDir dir;
  std::string one = dir.file("one.json");
  write(one, R"({"apiVersion": "corral/v1", "kind": "Pool", "metadata": {"name": "solo"}})");
  auto docs = load(one);
  ASSERT_TRUE(docs.ok()) << docs.error().message;
  ASSERT_EQ(docs->size(), 1u);
  EXPECT_EQ((*docs)[0].object["metadata"]["name"], "solo");
  EXPECT_EQ((*docs)[0].locate("spec.replicas"), one + ":1");

  std::string list = dir.file("list.json");
  write(list, R"({"apiVersion": "v1", "kind": "List", "items": [
      {"apiVersion": "corral/v1", "kind": "Pool", "metadata": {"name": "p1"}},
      {"apiVersion": "corral/v1", "kind": "Pool", "metadata": {"name": "p2"}}]})");
  docs = load(list);
  ASSERT_TRUE(docs.ok()) << docs.error().message;
  EXPECT_EQ(names(*docs), (std::vector<std::string>{"p1", "p2"}));
  EXPECT_EQ((*docs)[1].file, list);
  EXPECT_EQ((*docs)[1].locate("metadata.name"), list + ":1");
}

TEST(LoadManifests, YamlListExpandsWithItemLocations) {
  TempDir dir;
  std::string f = dir.file("list.yaml");
  write(f,
        "kind: List\n"
        "items:\n"
        "- apiVersion: corral/v1\n"
        "  kind: Pool\n"
        "  metadata: {name: p1}\n"
        "- apiVersion: corral/v1\n"
        "  kind: Pool\n"
        "  metadata:\n"
        "    name: p2\n");
  auto docs = load(f);
  ASSERT_TRUE(docs.ok()) << docs.error().message;
  ASSERT_EQ(names(*docs), (std::vector<std::string>{"p1", "p2"}));
  EXPECT_EQ((*docs)[1].line, 6);
  EXPECT_EQ((*docs)[1].locate("metadata.name"), f + ":9:5");
  EXPECT_EQ((*docs)[1].locate("spec.replicas"), f + ":6");
  EXPECT_EQ((*docs)[0].locate("kind"), f + ":4:3");
}

TEST(LoadManifests, JsonSyntaxErrorNamesFileLineColumn) {
  TempDir dir;
  std::string f = dir.file("bad.json");
  write(f, "{\n  \"kind\": \"Pool\",\n  \"metadata\": {\"name\": }\n}\n");
  auto docs = load(f);
  ASSERT_FALSE(docs.ok());
  EXPECT_EQ(docs.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(docs.error().message.rfind(f + ":3:24: malformed JSON: ", 0), 0u)
      << docs.error().message;
}

TEST(LoadManifests, JsonMustBeAnObject) {
  TempDir dir;
  std::string f = dir.file("arr.json");
  write(f, "[1, 2]");
  auto docs = load(f);
  ASSERT_FALSE(docs.ok());
  EXPECT_EQ(docs.error().message, f + ":1:1: expected an object (or a List with items), got array");
}

TEST(LoadManifests, MissingPathIsNotFound) {
  TempDir dir;
  std::string f = dir.file("nope.yaml");
  auto docs = load(f);
  ASSERT_FALSE(docs.ok());
  EXPECT_EQ(docs.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(docs.error().message, f + ": no such file or directory");
}

TEST(LoadManifests, FirstSyntaxErrorOfADirectoryIsReturned) {
  TempDir dir;
  write(dir.file("1-good.yaml"), kPool);
  write(dir.file("2-bad.yaml"), "a: 1\nb: [1,\n");
  write(dir.file("3-bad.yaml"), "key: value: x\n");
  auto docs = load(dir.path().string());
  ASSERT_FALSE(docs.ok());
  EXPECT_EQ(docs.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(docs.error().message, dir.file("2-bad.yaml") + ":3:1: end of sequence flow not found");
}

// ---- normalize_manifests --------------------------------------------------------

Result<std::vector<Json>> normalize_text(const std::string& text, const std::string& file) {
  auto docs = parse_yaml_documents(text, file);
  EXPECT_TRUE(docs.ok()) << (docs.ok() ? "" : docs.error().message);
  if (!docs.ok()) return docs.take_error();
  return normalize_manifests(*docs);
}

TEST(NormalizeManifests, ReturnsCanonicalObjectsInDocumentOrder) {
  auto objs = normalize_text(std::string(kPool) +
                                 "---\n"
                                 "apiVersion: corral/v1\n"
                                 "kind: Pool\n"
                                 "metadata: {name: db}\n"
                                 "spec: {placement: binpack}\n",
                             "ok.yaml");
  ASSERT_TRUE(objs.ok()) << objs.error().to_string();
  ASSERT_EQ(objs->size(), 2u);
  EXPECT_EQ((*objs)[0]["metadata"]["name"], "web");
  EXPECT_EQ((*objs)[0]["spec"]["placement"], "spread");  // defaulted
  EXPECT_EQ((*objs)[1]["spec"]["placement"], "binpack");
}

TEST(NormalizeManifests, ReportsEveryErrorOfEveryDocumentWithItsLocation) {
  const std::string text =
      "apiVersion: corral/v1\n"           // 1
      "kind: VMSet\n"                     // 2
      "metadata:\n"                       // 3
      "  name: frontend\n"                // 4
      "spec:\n"                           // 5
      "  pool: web\n"                     // 6
      "  replicas: -1\n"                  // 7
      "  template:\n"                     // 8
      "    spec:\n"                       // 9
      "      resources: {cpu: 100m}\n"    // 10
      "      runtime:\n"                  // 11
      "        command: [/bin/true]\n"    // 12
      "      restartPolicy: Sometimes\n"  // 13
      "---\n"                             // 14
      + std::string(kPool) +              // 15-18
      "---\n"                             // 19
      "apiVersion: corral/v1\n"           // 20
      "kind: Pool\n"                      // 21
      "metadata: {name: Bad_Name}\n"      // 22
      "spec:\n"                           // 23
      "  overcommit: {cpu: 0.5}\n";       // 24
  auto objs = normalize_text(text, "manifests/bad.yaml");
  ASSERT_FALSE(objs.ok());
  const Error& e = objs.error();
  EXPECT_EQ(e.code, ErrorCode::kInvalid);
  ASSERT_EQ(e.causes.size(), 5u) << e.message;
  EXPECT_EQ(e.causes[0], (Cause{"spec.replicas", "must be greater than or equal to 0",
                                "manifests/bad.yaml:7:3"}));
  EXPECT_EQ(e.causes[1],
            (Cause{"spec.template.spec.resources.memory", "required", "manifests/bad.yaml:10:7"}));
  EXPECT_EQ(e.causes[2],
            (Cause{"spec.template.spec.restartPolicy", "must be one of Always, OnFailure, Never",
                   "manifests/bad.yaml:13:7"}));
  EXPECT_EQ(e.causes[3].field, "metadata.name");
  EXPECT_EQ(e.causes[3].location, "manifests/bad.yaml:22:12");
  EXPECT_EQ(e.causes[4], (Cause{"spec.overcommit.cpu", "must be greater than or equal to 1",
                                "manifests/bad.yaml:24:16"}));
  EXPECT_EQ(
      e.message,
      "2 of 3 documents are invalid:\n"
      "  manifests/bad.yaml:7:3: spec.replicas: must be greater than or equal to 0\n"
      "  manifests/bad.yaml:10:7: spec.template.spec.resources.memory: required\n"
      "  manifests/bad.yaml:13:7: spec.template.spec.restartPolicy: must be one of Always, "
      "OnFailure, Never\n"
      "  manifests/bad.yaml:22:12: metadata.name: " +
          e.causes[3].message +
          "\n"
          "  manifests/bad.yaml:24:16: spec.overcommit.cpu: must be greater than or equal to 1");
}

TEST(NormalizeManifests, UnknownFieldIsReportedWhereItWasWritten) {
  auto objs = normalize_text(std::string(kPool) +
                                 "spec:\n"
                                 "  placment: binpack\n"
                                 "  failover:\n"
                                 "    nodeGraceSecs: 3\n",
                             "typo.yaml");
  ASSERT_FALSE(objs.ok());
  const Error& e = objs.error();
  ASSERT_EQ(e.causes.size(), 2u) << e.message;
  EXPECT_EQ(e.causes[0], (Cause{"spec.placment", "unknown field \"placment\"", "typo.yaml:6:3"}));
  EXPECT_EQ(e.causes[1], (Cause{"spec.failover.nodeGraceSecs", "unknown field \"nodeGraceSecs\"",
                                "typo.yaml:8:5"}));
  EXPECT_EQ(e.message,
            "1 of 1 document is invalid:\n"
            "  typo.yaml:6:3: spec.placment: unknown field \"placment\"\n"
            "  typo.yaml:8:5: spec.failover.nodeGraceSecs: unknown field \"nodeGraceSecs\"");
}

TEST(NormalizeManifests, WrongTypeAndMissingKindAreLocated) {
  auto objs = normalize_text(std::string(kPool) +
                                 "spec:\n"
                                 "  overcommit: {cpu: \"4\"}\n"
                                 "---\n"
                                 "apiVersion: corral/v1\n"
                                 "metadata: {name: x}\n",
                             "t.yaml");
  ASSERT_FALSE(objs.ok());
  const Error& e = objs.error();
  ASSERT_EQ(e.causes.size(), 2u) << e.message;
  EXPECT_EQ(e.causes[0],
            (Cause{"spec.overcommit.cpu", "expected a number, got string", "t.yaml:6:16"}));
  // A field that was not written at all: the document's first line.
  EXPECT_EQ(e.causes[1].field, "kind");
  EXPECT_EQ(e.causes[1].location, "t.yaml:8");
  EXPECT_EQ(e.message.rfind("2 of 2 documents are invalid:\n", 0), 0u) << e.message;
}

TEST(NormalizeManifests, DuplicateKindAndNameIsAnError) {
  TempDir dir;
  write(dir.file("a.yaml"), kPool);
  write(dir.file("b.yaml"),
        "apiVersion: corral/v1\n"
        "kind: VMSet\n"  // same name, other kind: fine
        "metadata: {name: web}\n"
        "spec: {pool: web, template: {spec: {resources: {cpu: 1, memory: 1Gi}, "
        "runtime: {command: [x]}}}}\n"
        "---\n"
        "apiVersion: corral/v1\n"
        "kind: Pool\n"
        "metadata:\n"
        "  labels: {a: b}\n"
        "  name: web\n");
  auto docs = load(dir.path().string());
  ASSERT_TRUE(docs.ok()) << docs.error().message;
  auto objs = normalize_manifests(*docs);
  ASSERT_FALSE(objs.ok());
  const Error& e = objs.error();
  ASSERT_EQ(e.causes.size(), 1u) << e.message;
  EXPECT_EQ(e.causes[0],
            (Cause{"metadata.name",
                   "Pool \"web\" is defined twice (first at " + dir.file("a.yaml") + ":4:3)",
                   dir.file("b.yaml") + ":10:3"}));
  EXPECT_EQ(e.message, "1 of 3 documents is invalid:\n  " + dir.file("b.yaml") +
                           ":10:3: metadata.name: Pool \"web\" is defined twice (first at " +
                           dir.file("a.yaml") + ":4:3)");
}

TEST(NormalizeManifests, EmptyInputIsFine) {
  auto objs = normalize_manifests({});
  ASSERT_TRUE(objs.ok());
  EXPECT_TRUE(objs->empty());
}

// ---- the examples shipped in manifests/examples -----------------------------------

TEST(ExampleManifests, LoadAndNormalizeCleanly) {
  auto docs = load(testing::source_path("manifests/examples"));
  ASSERT_TRUE(docs.ok()) << docs.error().message;
  auto objs = normalize_manifests(*docs);
  ASSERT_TRUE(objs.ok()) << objs.error().message;
  ASSERT_EQ(objs->size(), 4u);
  // Sorted by file name: balancer.yaml, pool.yaml, secret.yaml, vmset.yaml.
  const Json& lb = (*objs)[0];
  const Json& pool = (*objs)[1];
  const Json& secret = (*objs)[2];
  const Json& vmset = (*objs)[3];
  EXPECT_EQ(secret["kind"], "Secret");
  EXPECT_EQ(secret["data"]["greeting"], "aGVsbG8=");  // "hello", stringData merged into data
  EXPECT_EQ(lb["kind"], "Balancer");
  EXPECT_EQ(lb["metadata"]["name"], "frontend");
  EXPECT_EQ(lb["spec"]["vmSet"], "frontend");
  EXPECT_EQ(lb["spec"]["listen"], "127.0.0.1:8080");
  EXPECT_EQ(lb["spec"]["mode"], "http");
  EXPECT_EQ(lb["spec"]["algorithm"], "roundRobin");
  EXPECT_EQ(lb["spec"]["healthCheck"]["type"], "http");
  EXPECT_EQ(lb["spec"]["healthCheck"]["path"], "/");

  EXPECT_EQ(pool["kind"], "Pool");
  EXPECT_EQ(pool["metadata"]["name"], "web");

  EXPECT_EQ(vmset["kind"], "VMSet");
  EXPECT_EQ(vmset["metadata"]["name"], "frontend");
  const Json& spec = vmset["spec"];
  EXPECT_EQ(spec["pool"], "web");
  EXPECT_EQ(spec["replicas"], 3);
  EXPECT_EQ(spec["template"]["spec"]["resources"],
            Json::parse(R"({"cpu":"100m","memory":"64Mi"})"));
  EXPECT_EQ(spec["template"]["spec"]["runtime"]["driver"], "process");
  const Json& command = spec["template"]["spec"]["runtime"]["command"];
  ASSERT_EQ(command.size(), 4u);
  EXPECT_EQ(command[0], "/usr/bin/python3");
  EXPECT_EQ(command[1], "-c");
  EXPECT_NE(command[2].get<std::string>().find("ThreadingHTTPServer"), std::string::npos);
  EXPECT_EQ(command[3], "${PORT}");
  EXPECT_EQ(spec["template"]["spec"]["runtime"]["env"][1]["valueFrom"]["secretKeyRef"],
            Json::parse(R"({"name":"frontend","key":"greeting"})"));
  EXPECT_EQ(spec["template"]["spec"]["restartPolicy"], "Always");
  EXPECT_EQ(spec["spread"], Json::parse(R"({"topologyKey":"topology.corral.io/zone","maxSkew":1})"));
  EXPECT_EQ(spec["disruption"]["maxUnavailable"], 1);
}

TEST(ExampleManifests, SurviveToYamlRoundTrip) {
  auto docs = load(testing::source_path("manifests/examples"));
  ASSERT_TRUE(docs.ok()) << docs.error().message;
  for (const auto& d : *docs) {
    auto back = parse_yaml_documents(to_yaml(d.object), "rt.yaml");
    ASSERT_TRUE(back.ok()) << back.error().message;
    ASSERT_EQ(back->size(), 1u);
    EXPECT_EQ((*back)[0].object, d.object) << d.file;
  }
}

}  // namespace manifest_test
}  // namespace corral
