// What kubectl needs of the API, over HTTP on a real server (in memory and
// on a SQLite file): PATCH (merge, JSON and strategic merge patches) with its
// resourceVersion rules and retries, the VMSet scale subresource, the
// OpenAPI documents and Table answers. What kubectl itself does with them is
// tests/e2e/kubectl_test.cpp.
#include <gtest/gtest.h>

#include "api/json.h"
#include "tests/integration/server_fixture.h"
#include "tests/support/raw_socket.h"

namespace corral::testing {
namespace kubectl_api_test {

constexpr const char* kVMs = "/apis/corral/v1/vms";
constexpr const char* kVMSets = "/apis/corral/v1/vmsets";
constexpr const char* kMerge = "application/merge-patch+json";
constexpr const char* kJsonPatch = "application/json-patch+json";
constexpr const char* kStrategic = "application/strategic-merge-patch+json";

class KubectlApiTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto port = h_.start(GetParam());
    ASSERT_TRUE(port.ok()) << port.error().to_string();
    c_ = h_.client();
    auto r = c_->Post(kVMs, vm("a", "", {{"tier", "web"}, {"old", "yes"}}).dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << r->body;
  }

  Json get(const std::string& path) {
    auto r = c_->Get(path);
    EXPECT_TRUE(r && r->status == 200);
    return r ? parse(r->body) : Json();
  }

  // A PATCH that must answer `code`; returns the body.
  Json patch(const std::string& path, const std::string& body, const char* type, int code) {
    auto r = c_->Patch(path, body, type);
    EXPECT_TRUE(r);
    if (!r) return Json();
    EXPECT_EQ(r->status, code) << r->body;
    return parse(r->body);
  }

  Harness h_;
  std::unique_ptr<httplib::Client> c_;
};

TEST_P(KubectlApiTest, EachPatchTypeChangesTheStoredObject) {
  const std::string path = std::string(kVMs) + "/a";
  const std::string rv0 = get(path)["metadata"]["resourceVersion"];

  Json merged = patch(path, R"({"metadata":{"labels":{"added":"1","old":null}}})", kMerge, 200);
  EXPECT_EQ(merged["metadata"]["labels"], Json({{"added", "1"}, {"tier", "web"}}));
  EXPECT_NE(merged["metadata"]["resourceVersion"], rv0);

  Json replaced = patch(path, R"([{"op":"replace","path":"/spec/resources/cpu","value":"2"},
                                  {"op":"add","path":"/metadata/annotations","value":{"note":"x"}}])",
                        kJsonPatch, 200);
  EXPECT_EQ(replaced["spec"]["resources"]["cpu"], "2");
  EXPECT_EQ(replaced["metadata"]["annotations"]["note"], "x");

  Json strategic = patch(path, R"({"metadata":{"labels":{"added":null}},"spec":{"resources":{"memory":"2Gi"}}})",
                         kStrategic, 200);
  EXPECT_EQ(strategic["metadata"]["labels"], Json({{"tier", "web"}}));
  EXPECT_EQ(strategic["spec"]["resources"]["memory"], "2Gi");
  EXPECT_EQ(strategic["spec"]["resources"]["cpu"], "2");
  // What the answers showed is what is stored.
  EXPECT_EQ(get(path), strategic);
}

TEST_P(KubectlApiTest, AStaleResourceVersionInThePatchIsAConflictAndChangesNothing) {
  const std::string path = std::string(kVMs) + "/a";
  const std::string stale = get(path)["metadata"]["resourceVersion"];
  patch(path, R"({"metadata":{"labels":{"changed":"1"}}})", kMerge, 200);
  const Json before = get(path);
  Json status = patch(path, R"({"metadata":{"resourceVersion":")" + stale + R"(","labels":{"x":"y"}}})",
                      kMerge, 409);
  EXPECT_EQ(status.value("reason", ""), "Conflict");
  EXPECT_EQ(get(path), before);
  // The current one is accepted.
  const std::string rv = before["metadata"]["resourceVersion"];
  patch(path, R"({"metadata":{"resourceVersion":")" + rv + R"(","labels":{"x":"y"}}})", kMerge, 200);
}

TEST_P(KubectlApiTest, AConflictWithAnotherWriterIsRetriedUnlessTheVersionIsPinned) {
  const std::string path = std::string(kVMs) + "/a";
  // Two writers get in first: a patch that pins nothing reads again and wins.
  h_.store->update_conflicts = 2;
  h_.store->updates_seen = 0;
  patch(path, R"({"metadata":{"labels":{"retried":"yes"}}})", kMerge, 200);
  EXPECT_EQ(h_.store->updates_seen.load(), 3);
  EXPECT_EQ(get(path)["metadata"]["labels"]["retried"], "yes");
  // A patch that pins the version it saw: once another writer got in, the
  // retry finds a newer version than the one pinned, and the answer is 409.
  const std::string rv = get(path)["metadata"]["resourceVersion"];
  h_.store->update_conflicts = 1;
  h_.store->updates_seen = 0;
  patch(path, R"({"metadata":{"resourceVersion":")" + rv + R"(","labels":{"pinned":"1"}}})", kMerge,
        409);
  EXPECT_EQ(h_.store->updates_seen.load(), 2);
  EXPECT_FALSE(get(path)["metadata"]["labels"].contains("pinned"));
  // A writer that keeps winning: after a few tries the answer is 409.
  h_.store->update_conflicts = 100;
  patch(path, R"({"metadata":{"labels":{"never":"1"}}})", kMerge, 409);
  h_.store->update_conflicts = 0;
  EXPECT_FALSE(get(path)["metadata"]["labels"].contains("never"));
}

TEST_P(KubectlApiTest, APatchThatBreaksTheObjectNamesTheFieldAndChangesNothing) {
  const std::string path = std::string(kVMs) + "/a";
  const Json before = get(path);
  Json invalid = patch(path, R"({"spec":{"resources":{"cpu":"-1"}}})", kMerge, 422);
  EXPECT_NE(invalid.dump().find("spec.resources.cpu"), std::string::npos) << invalid.dump();
  Json unknown = patch(path, R"({"spec":{"colour":"blue"}})", kMerge, 422);
  EXPECT_NE(unknown.dump().find("spec.colour"), std::string::npos) << unknown.dump();
  Json renamed = patch(path, R"({"metadata":{"name":"b"}})", kMerge, 400);
  EXPECT_NE(renamed.value("message", "").find("does not match the name on the URL"), std::string::npos);
  Json failed_op = patch(path, R"([{"op":"remove","path":"/spec/nothing"}])", kJsonPatch, 422);
  EXPECT_NE(failed_op.value("message", "").find("patch[0] (remove /spec/nothing)"), std::string::npos);
  Json media = patch(path, R"({"spec":{}})", "application/json", 415);
  EXPECT_NE(media.value("message", "").find("application/merge-patch+json"), std::string::npos);
  patch(std::string(kVMs) + "/missing", R"({"spec":{}})", kMerge, 404);
  auto dry = c_->Patch(path + "?dryRun=All", R"({"metadata":{"labels":{"d":"1"}}})", kMerge);
  ASSERT_TRUE(dry);
  EXPECT_EQ(dry->status, 400) << dry->body;
  EXPECT_EQ(get(path), before);
}

TEST_P(KubectlApiTest, TheMainPathIgnoresStatusAndTheStatusPathOnlyWritesStatus) {
  const std::string path = std::string(kVMs) + "/a";
  Json main = patch(path, R"({"status":{"phase":"Running"},"metadata":{"labels":{"m":"1"}}})", kMerge, 200);
  EXPECT_FALSE(main.contains("status") && main["status"].value("phase", "") == "Running");
  EXPECT_EQ(main["metadata"]["labels"]["m"], "1");
  Json status = patch(path + "/status", R"({"status":{"phase":"Running"},"metadata":{"labels":{"s":"1"}}})",
                      kMerge, 200);
  EXPECT_EQ(status["status"]["phase"], "Running");
  EXPECT_FALSE(status["metadata"]["labels"].contains("s"));
}

TEST_P(KubectlApiTest, TheScaleSubresourceReadsAndWritesReplicas) {
  auto created = c_->Post(kVMSets, vmset("web", 2).dump(), "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  const std::string scale_path = std::string(kVMSets) + "/web/scale";
  Json scale = get(scale_path);
  EXPECT_EQ(scale["apiVersion"], "autoscaling/v1");
  EXPECT_EQ(scale["kind"], "Scale");
  EXPECT_EQ(scale["metadata"]["name"], "web");
  EXPECT_EQ(scale["spec"]["replicas"], 2);
  EXPECT_EQ(scale["status"]["selector"], "corral.io/vmset=web");

  // kubectl scale: a merge patch of the Scale.
  Json patched = patch(scale_path, R"({"spec":{"replicas":5}})", kMerge, 200);
  EXPECT_EQ(patched["spec"]["replicas"], 5);
  EXPECT_EQ(get(std::string(kVMSets) + "/web")["spec"]["replicas"], 5);

  // PUT with the version it read; a stale one is a conflict.
  Json put = get(scale_path);
  put["spec"]["replicas"] = 1;
  auto ok = c_->Put(scale_path, put.dump(), "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(get(std::string(kVMSets) + "/web")["spec"]["replicas"], 1);
  // client-go's scale client sends its PUT without a Content-Type: JSON, as
  // Kubernetes reads it.
  Json untyped = get(scale_path);
  untyped["spec"]["replicas"] = 2;
  {
    RawConnection raw(h_.port);
    ASSERT_TRUE(raw.connected());
    const std::string body = untyped.dump();
    ASSERT_TRUE(raw.send_all("PUT " + scale_path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             "Connection: close\r\nContent-Length: " + std::to_string(body.size()) +
                             "\r\n\r\n" + body));
    const std::string answer = raw.read_until_close();
    EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  }
  EXPECT_EQ(get(std::string(kVMSets) + "/web")["spec"]["replicas"], 2);
  put["spec"]["replicas"] = 7;
  auto stale = c_->Put(scale_path, put.dump(), "application/json");
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->status, 409) << stale->body;

  const Json before = get(std::string(kVMSets) + "/web");
  Json negative = patch(scale_path, R"({"spec":{"replicas":-1}})", kMerge, 422);
  EXPECT_NE(negative.dump().find("spec.replicas"), std::string::npos);
  Json words = patch(scale_path, R"({"spec":{"replicas":"three"}})", kMerge, 422);
  EXPECT_NE(words.dump().find("spec.replicas"), std::string::npos);
  EXPECT_EQ(get(std::string(kVMSets) + "/web"), before);
  // Only VMSets scale.
  auto vm_scale = c_->Get(std::string(kVMs) + "/a/scale");
  ASSERT_TRUE(vm_scale);
  EXPECT_EQ(vm_scale->status, 404);
}

TEST_P(KubectlApiTest, DiscoveryAndOpenApiDescribeWhatIsServed) {
  Json resources = get("/apis/corral/v1");
  bool scale = false;
  for (const Json& r : resources["resources"]) {
    if (r["name"] == "vmsets/scale") {
      scale = true;
      EXPECT_EQ(r["group"], "autoscaling");
      EXPECT_EQ(r["kind"], "Scale");
    }
    if (r["name"] == "vms") {
      EXPECT_NE(r.dump().find("\"patch\""), std::string::npos);
    }
  }
  EXPECT_TRUE(scale);

  Json index = get("/openapi/v3");
  const std::string url = index["paths"]["apis/corral/v1"]["serverRelativeURL"];
  ASSERT_EQ(url.rfind("/openapi/v3/apis/corral/v1?hash=", 0), 0u) << url;
  Json doc = get(url);
  const Json& vm_schema = doc["components"]["schemas"]["io.corral.v1.VM"];
  EXPECT_EQ(vm_schema["x-kubernetes-group-version-kind"][0]["kind"], "VM");
  // From the codec's field list: a VM's spec fields with their types.
  EXPECT_EQ(vm_schema["properties"]["spec"]["properties"]["nodeName"]["type"], "string");
  EXPECT_TRUE(vm_schema["properties"]["spec"]["properties"]["resources"]["properties"].contains("cpu"));
  const Json& patch_op = doc["paths"]["/apis/corral/v1/vms/{name}"]["patch"];
  EXPECT_EQ(patch_op["x-kubernetes-group-version-kind"]["kind"], "VM");
  EXPECT_EQ(patch_op["parameters"][0]["name"], "fieldValidation");
  EXPECT_TRUE(doc["paths"].contains("/apis/corral/v1/vmsets/{name}/scale"));

  Json v2 = get("/openapi/v2");
  EXPECT_EQ(v2["swagger"], "2.0");
  EXPECT_EQ(v2["definitions"]["io.corral.v1.VM"]["properties"]["spec"]["properties"]["resources"]
                ["properties"]["cpu"]["format"],
            "int-or-string");
  auto proto = c_->Get("/openapi/v2", {{"Accept", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"}});
  ASSERT_TRUE(proto);
  EXPECT_EQ(proto->status, 200);
  EXPECT_EQ(proto->get_header_value("Content-Type"),
            "application/com.github.proto-openapi.spec.v2@v1.0+protobuf");
  // Document.swagger (field 1, length-delimited): 0x0a, 3, "2.0".
  EXPECT_EQ(proto->body.substr(0, 5), std::string("\x0a\x03" "2.0"));
}

TEST_P(KubectlApiTest, TablesCarryTheColumnsCorralctlPrints) {
  const httplib::Headers table = {
      {"Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
                 "g=meta.k8s.io,application/json"}};
  auto list = c_->Get(kVMs, table);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->status, 200) << list->body;
  Json t = parse(list->body);
  EXPECT_EQ(t["kind"], "Table");
  EXPECT_EQ(t["apiVersion"], "meta.k8s.io/v1");
  EXPECT_FALSE(t["metadata"].value("resourceVersion", "").empty());
  // corralctl's VM columns, the -o wide ones at priority 1.
  std::vector<std::string> names;
  for (const Json& c : t["columnDefinitions"]) names.push_back(c["name"]);
  ASSERT_GE(names.size(), 8u);
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + 7),
            (std::vector<std::string>{"NAME", "PHASE", "NODE", "EPOCH", "RESTARTS", "ADDRESS", "AGE"}));
  EXPECT_EQ(t["columnDefinitions"][0]["format"], "name");
  EXPECT_EQ(t["columnDefinitions"][6]["priority"], 0);
  EXPECT_EQ(t["columnDefinitions"][7]["priority"], 1);
  ASSERT_EQ(t["rows"].size(), 1u);
  EXPECT_EQ(t["rows"][0]["cells"][0], "a");
  EXPECT_EQ(t["rows"][0]["cells"][1], "Pending");
  EXPECT_EQ(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
  EXPECT_EQ(t["rows"][0]["object"]["metadata"]["labels"]["tier"], "web");

  auto whole = c_->Get(std::string(kVMs) + "?includeObject=Object", table);
  ASSERT_TRUE(whole);
  EXPECT_EQ(parse(whole->body)["rows"][0]["object"]["kind"], "VM");
  auto one = c_->Get(std::string(kVMs) + "/a?includeObject=None", table);
  ASSERT_TRUE(one);
  Json single = parse(one->body);
  EXPECT_EQ(single["kind"], "Table");
  EXPECT_FALSE(single["rows"][0].contains("object"));
  // Plain JSON first in Accept: the object itself.
  auto plain = c_->Get(std::string(kVMs) + "/a", {{"Accept", "application/json, application/json;as=Table;v=v1;g=meta.k8s.io"}});
  ASSERT_TRUE(plain);
  EXPECT_EQ(parse(plain->body)["kind"], "VM");
}

INSTANTIATE_TEST_SUITE_P(Backends, KubectlApiTest, ::testing::Values("memory", "sqlite"));

}  // namespace kubectl_api_test
}  // namespace corral::testing
