// Real kubectl against a real corral-controller (issue 18 §2): apply with
// validation on (OpenAPI v2 in protobuf, v3 with fieldValidation), apply
// again (the last-applied annotation's three-way merge), label, annotate,
// patch of every type, scale, edit, explain, and a viewer refused. Skipped,
// with a message, where kubectl is not installed.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "api/json.h"
#include "client/client.h"
#include "tests/support/cluster.h"
#include "tests/support/paths.h"

namespace corral::testing {
namespace kubectl_test {

namespace fs = std::filesystem;

std::string find_kubectl() { return find_on_path("kubectl").value_or(""); }

void write_private(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), 0600);
}

class KubectlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kubectl_ = find_kubectl();
    if (kubectl_.empty()) GTEST_SKIP() << "kubectl is not installed: the kubectl tests are skipped";
    // kubectl sends a token only over TLS: the controller serves HTTPS with a
    // certificate made here for 127.0.0.1.
    if (std::system("openssl version > /dev/null 2>&1") != 0)
      GTEST_SKIP() << "the openssl command line tool is not installed";
    ca_ = dir_.file("cert.pem");
    const std::string key = dir_.file("key.pem");
    const std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
        "-addext subjectAltName=IP:127.0.0.1 -keyout " + key + " -out " + ca_ + " > /dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    ControllerOptions o;
    o.binary = controller_binary();
    o.data_dir = (dir_.path() / "data").string();
    o.extra_args = {"--tls-cert", ca_, "--tls-key", key};
    o.tokens_file = dir_.file("tokens");
    write_private(o.tokens_file, "admin-token,alice,admin\nview-token,bob,viewer\n");
    controller_ = std::make_unique<Controller>(o);
    std::string error;
    ASSERT_TRUE(controller_->start(&error)) << error;
    for (const char* who : {"admin", "view"}) {
      write_private(dir_.file(std::string(who) + ".kubeconfig"),
                    "apiVersion: v1\nkind: Config\n"
                    "clusters:\n- name: corral\n  cluster:\n    server: " + controller_->url() +
                    "\n    certificate-authority: " + ca_ + "\n"
                    "users:\n- name: u\n  user:\n    token: " + std::string(who) + "-token\n"
                    "contexts:\n- name: corral\n  context:\n    cluster: corral\n    user: u\n"
                    "current-context: corral\n");
    }
  }

  CommandResult kubectl(std::vector<std::string> args, const std::string& who = "admin",
                        std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), "--kubeconfig=" + dir_.file(who + ".kubeconfig"));
    CommandOptions o;
    o.env = std::move(env);
    o.timeout = std::chrono::seconds(60);
    return run_command(kubectl_, args, o);
  }

  // A kubectl run that must succeed; returns its stdout.
  std::string ok(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    std::string line;
    for (const auto& a : args) line += " " + a;
    auto r = kubectl(args, "admin", std::move(env));
    EXPECT_EQ(r.exit_code, 0) << "kubectl" << line << "\nstdout: " << r.out << "\nstderr: " << r.err;
    return r.out;
  }

  Json get(const std::string& plural, const std::string& name) {
    ClientConfig cfg;
    cfg.server = controller_->url();
    cfg.token = "admin-token";
    cfg.ca_file = ca_;
    ApiClient api(cfg);
    auto r = api.call("GET", ApiClient::resource_path(plural) + "/" + name);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
    return r.ok() ? *r : Json();
  }

  std::string manifest(const std::string& name, const std::string& text) {
    const std::string path = dir_.file(name);
    std::ofstream(path) << text;
    return path;
  }

  TempDir dir_;
  std::string kubectl_;
  std::string ca_;  // the controller's self-signed certificate
  std::unique_ptr<Controller> controller_;
};

const char* kVMSet = R"(apiVersion: corral/v1
kind: VMSet
metadata:
  name: web
  labels: {team: blue, stage: test}
spec:
  pool: web
  replicas: 2
  template:
    spec:
      resources: {cpu: 100m, memory: 64Mi}
      runtime: {driver: sim}
)";

TEST_F(KubectlTest, ApplyWithValidationTheExampleManifestsAndApplyAgain) {
  // The shipped examples, validated by kubectl itself (no --validate=false).
  const std::string examples = source_path("manifests/examples");
  std::string out = ok({"apply", "-f", examples});
  EXPECT_NE(out.find("vmset.corral/frontend created"), std::string::npos) << out;
  EXPECT_NE(out.find("pool.corral/web created"), std::string::npos) << out;
  out = ok({"apply", "-f", examples});
  EXPECT_NE(out.find("vmset.corral/frontend unchanged"), std::string::npos) << out;

  // The three-way merge: a label removed from the file goes, one added by
  // someone else stays, a changed field changes.
  const std::string file = manifest("web.yaml", kVMSet);
  ok({"apply", "-f", file});
  ok({"label", "vmset", "web", "owner=ops"});
  std::string changed = kVMSet;
  changed.replace(changed.find("{team: blue, stage: test}"), 25, "{team: blue}");
  changed.replace(changed.find("replicas: 2"), 11, "replicas: 4");
  out = ok({"apply", "-f", manifest("web.yaml", changed)});
  EXPECT_NE(out.find("vmset.corral/web configured"), std::string::npos) << out;
  Json web = get("vmsets", "web");
  EXPECT_EQ(web["spec"]["replicas"], 4);
  EXPECT_EQ(web["metadata"]["labels"], Json({{"owner", "ops"}, {"team", "blue"}}));
  EXPECT_TRUE(web["metadata"]["annotations"].contains("kubectl.kubernetes.io/last-applied-configuration"));

  // A field Corral does not know: the server refuses it, naming it.
  std::string typo = kVMSet;
  typo.replace(typo.find("replicas: 2"), 11, "replica: 2");
  auto refused = kubectl({"apply", "-f", manifest("typo.yaml", typo)});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE((refused.out + refused.err).find("replica"), std::string::npos) << refused.err;
  EXPECT_EQ(get("vmsets", "web")["spec"]["replicas"], 4);
}

TEST_F(KubectlTest, LabelAnnotatePatchScaleAndEdit) {
  ok({"apply", "-f", manifest("web.yaml", kVMSet)});
  ok({"label", "vmset", "web", "tier=db"});
  ok({"label", "vmset", "web", "stage-"});
  ok({"annotate", "vmset", "web", "note=hello"});
  Json web = get("vmsets", "web");
  EXPECT_EQ(web["metadata"]["labels"], Json({{"team", "blue"}, {"tier", "db"}}));
  EXPECT_EQ(web["metadata"]["annotations"]["note"], "hello");

  ok({"patch", "vmset", "web", "--type=merge", "-p", R"({"spec":{"replicas":3}})"});
  EXPECT_EQ(get("vmsets", "web")["spec"]["replicas"], 3);
  ok({"patch", "vmset", "web", "--type=json", "-p",
      R"([{"op":"replace","path":"/spec/template/spec/resources/cpu","value":"200m"}])"});
  EXPECT_EQ(get("vmsets", "web")["spec"]["template"]["spec"]["resources"]["cpu"], "200m");
  // kubectl's default type is a strategic merge patch.
  ok({"patch", "vmset", "web", "-p", R"({"metadata":{"labels":{"tier":null}}})"});
  EXPECT_FALSE(get("vmsets", "web")["metadata"]["labels"].contains("tier"));

  std::string out = ok({"scale", "vmset", "web", "--replicas=5"});
  EXPECT_NE(out.find("vmset.corral/web scaled"), std::string::npos) << out;
  EXPECT_EQ(get("vmsets", "web")["spec"]["replicas"], 5);
  // With a precondition kubectl reads the Scale, checks and writes it.
  ok({"scale", "vmset", "web", "--current-replicas=5", "--replicas=1"});
  EXPECT_EQ(get("vmsets", "web")["spec"]["replicas"], 1);
  auto wrong = kubectl({"scale", "vmset", "web", "--current-replicas=7", "--replicas=2"});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_EQ(get("vmsets", "web")["spec"]["replicas"], 1);

  // kubectl edit with an "editor" that changes the replicas.
  const std::string editor = dir_.file("editor.sh");
  std::ofstream(editor) << "#!/bin/sh\nsed -i 's/replicas: 1$/replicas: 6/' \"$1\"\n";
  ::chmod(editor.c_str(), 0700);
  ok({"edit", "vmset", "web"}, {{"KUBE_EDITOR", editor}});
  EXPECT_EQ(get("vmsets", "web")["spec"]["replicas"], 6);

  // A viewer may look, not touch.
  auto viewer = kubectl({"scale", "vmset", "web", "--replicas=0"}, "view");
  EXPECT_NE(viewer.exit_code, 0);
  EXPECT_NE(viewer.err.find("Forbidden"), std::string::npos) << viewer.err;
  EXPECT_EQ(get("vmsets", "web")["spec"]["replicas"], 6);
}

TEST_F(KubectlTest, AuthWhoamiNamesTheTokensUserAndRole) {
  // kubectl sends the review as protobuf; the server reads the token, not the body.
  const std::string admin = ok({"auth", "whoami"});
  EXPECT_NE(admin.find("alice"), std::string::npos) << admin;
  EXPECT_NE(admin.find("corral:admin"), std::string::npos) << admin;
  auto viewer = kubectl({"auth", "whoami"}, "view");
  EXPECT_EQ(viewer.exit_code, 0) << viewer.err;
  EXPECT_NE(viewer.out.find("corral:viewer"), std::string::npos) << viewer.out;
}

TEST_F(KubectlTest, GetPrintsTheColumnsCorralctlPrints) {
  ok({"apply", "-f", manifest("web.yaml", kVMSet)});
  std::string out = ok({"get", "vmsets"});
  EXPECT_NE(out.find("NAME"), std::string::npos) << out;
  EXPECT_NE(out.find("DESIRED"), std::string::npos) << out;
  EXPECT_NE(out.find("AVAILABILITY"), std::string::npos) << out;
  EXPECT_EQ(out.find("SCHEDULED"), std::string::npos) << out;  // a wide column
  EXPECT_NE(out.find("web"), std::string::npos) << out;
  out = ok({"get", "vmsets", "-o", "wide"});
  EXPECT_NE(out.find("SCHEDULED"), std::string::npos) << out;
  out = ok({"get", "vmset", "web", "--show-labels"});
  EXPECT_NE(out.find("stage=test,team=blue"), std::string::npos) << out;
  // A watch prints rows in the same columns (Tables on the watch too).
  auto watched = kubectl({"get", "vmsets", "-w", "--request-timeout=3s"});
  EXPECT_NE(watched.out.find("DESIRED"), std::string::npos) << watched.out << watched.err;
  EXPECT_EQ(watched.err.find("non-Table"), std::string::npos) << watched.err;
}

TEST_F(KubectlTest, ExplainReadsTheSchemasTheCodecDecodesWith) {
  std::string out = ok({"explain", "vmsets.spec"});
  EXPECT_NE(out.find("replicas"), std::string::npos) << out;
  EXPECT_NE(out.find("template"), std::string::npos) << out;
  out = ok({"explain", "vms.spec.resources"});
  EXPECT_NE(out.find("cpu"), std::string::npos) << out;
  EXPECT_NE(out.find("memory"), std::string::npos) << out;
}

}  // namespace kubectl_test
}  // namespace corral::testing
