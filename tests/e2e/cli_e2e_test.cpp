// corralctl against a real corral-controller: every verb, and every kind of
// bad input with its exit code, its message, and nothing stored changed.
#include <signal.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "api/json.h"
#include "client/client.h"
#include "tests/support/cluster.h"
#include "tests/support/e2e_util.h"

namespace corral::testing {
namespace cli_e2e_test {

namespace fs = std::filesystem;

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
  auto p = s.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  if (p != std::string::npos) s.replace(p, from.size(), to);
  return s;
}

class CliE2E : public ::testing::Test {
 protected:
  void start(const std::string& tokens = "") {
    ControllerOptions o;
    o.binary = controller_binary();
    o.data_dir = (dir_.path() / "data").string();
    if (!tokens.empty()) {
      o.tokens_file = dir_.file("tokens");
      write(o.tokens_file, tokens);
    }
    controller_ = std::make_unique<Controller>(o);
    std::string error;
    ASSERT_TRUE(controller_->start(&error)) << error;
  }

  CommandResult ctl(std::vector<std::string> args, CommandOptions options = {}) {
    args.insert(args.begin(), {"--server", controller_->url()});
    // The token goes by the environment, as an operator's would (never argv);
    // a test that names --token-file itself overrides it.
    if (!token_.empty() && !options.env.count("CORRAL_TOKEN")) options.env["CORRAL_TOKEN"] = token_;
    return run_command(corralctl_binary(), args, options);
  }

  // Everything people write, as JSON text: compared before and after a
  // refused command. Status (and the resourceVersion its writes move) is left
  // out: the controller's loops write it whenever they get to it — a Pool's
  // status lands some time after the Pool was created — and no command
  // writes it.
  std::string snapshot() {
    ClientConfig cfg;
    cfg.server = controller_->url();
    cfg.token = admin_token_;
    ApiClient api(cfg);
    std::string out;
    for (const char* plural : {"nodes", "pools", "vmsets", "vms", "balancers"}) {
      auto list = api.call("GET", ApiClient::resource_path(plural));
      EXPECT_TRUE(list.ok()) << (list.ok() ? "" : list.error().to_string());
      if (!list.ok()) continue;
      Json items = (*list)["items"];
      for (Json& item : items) {
        item.erase("status");
        if (item.contains("metadata")) item["metadata"].erase("resourceVersion");
      }
      out += items.dump() + "\n";
    }
    return out;
  }

  // A refused command: non-zero exit, "error: " with `expected` on stderr,
  // and the store as it was.
  void expect_refused(const std::vector<std::string>& args, const std::string& expected, int code = 1) {
    std::string before = snapshot();
    auto r = ctl(args);
    EXPECT_EQ(r.exit_code, code) << r.out << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(expected), std::string::npos) << "expected \"" << expected << "\" in:\n" << r.err;
    EXPECT_EQ(snapshot(), before) << "a refused command changed the store";
  }

  std::string examples() const { return source_path("manifests/examples/"); }

  // A copy of the examples in a temp dir, to edit.
  std::string copy_examples() {
    fs::path copy = dir_.path() / "examples";
    fs::create_directories(copy);
    for (const auto& e : fs::directory_iterator(examples()))
      fs::copy_file(e.path(), copy / e.path().filename(), fs::copy_options::overwrite_existing);
    return copy.string();
  }

  TempDir dir_;
  std::unique_ptr<Controller> controller_;
  std::string token_;
  std::string admin_token_;
};

TEST_F(CliE2E, ApplyGetDescribeDiffDelete) {
  start();
  auto r = ctl({"apply", "-f", examples()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("pool/web created"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("vmset/frontend created"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("balancer/frontend created"), std::string::npos) << r.out;

  r = ctl({"apply", "-f", examples()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("pool/web unchanged"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("vmset/frontend unchanged"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("created"), std::string::npos) << r.out;

  // diff: nothing differs yet.
  r = ctl({"diff", "-f", examples()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "");

  std::string copy = copy_examples();
  std::string vmset = copy + "/vmset.yaml";
  write(vmset, replace_once(read_file(vmset), "replicas: 3", "replicas: 5"));
  r = ctl({"diff", "-f", vmset});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("-  replicas: 3\n+  replicas: 5\n"), std::string::npos) << r.out;

  r = ctl({"apply", "-f", copy});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("vmset/frontend configured"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pool/web unchanged"), std::string::npos) << r.out;
  r = ctl({"diff", "-f", vmset});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  r = ctl({"get", "pools,vmsets,vms"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex("NAME +READY +CAPACITY +ALLOCATED +USED +LOAD +SPREAD +TOLERATES +AGE\n")))
      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\npool/web +0/0 "))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\n\nNAME +POOL +DESIRED +CURRENT +RUNNING +READY")))
      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\nvmset/frontend +web +5 "))) << r.out;

  r = ctl({"get", "vmset", "frontend", "-o", "yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("apiVersion: corral/v1\nkind: VMSet\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("replicas: 5"), std::string::npos);
  r = ctl({"get", "vmset", "frontend", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["metadata"]["name"], "frontend");
  EXPECT_EQ(j["spec"]["replicas"], 5);
  r = ctl({"get", "vmset", "frontend", "-o", "name"});
  EXPECT_EQ(r.out, "vmset/frontend\n");

  r = ctl({"get", "pools", "-l", "app=frontend", "-o", "name"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "pool/web\n");
  r = ctl({"get", "pools", "-l", "app=nothing"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "No resources found.\n");

  r = ctl({"describe", "vmset", "frontend"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("^Name: +frontend\n"))) << r.out;
  EXPECT_NE(r.out.find("\nSpec:\n  pool: web\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nEvents:"), std::string::npos) << r.out;

  r = ctl({"api-resources"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("NAME +SHORTNAMES +APIVERSION +NAMESPACED +KIND\n")))
      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\npools +pool +corral/v1 +false +Pool\n"))) << r.out;

  r = ctl({"version"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Client Version: " CORRAL_VERSION "\nServer Version: "), std::string::npos) << r.out;
  r = run_command(corralctl_binary(), {"version", "--client"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "Client Version: " CORRAL_VERSION "\n");

  r = ctl({"delete", "-f", examples() + "balancer.yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "balancer/frontend deleted\n");
  r = ctl({"delete", "vmset", "frontend", "ghost"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "vmset/frontend deleted\n");
  EXPECT_NE(r.err.find("error: vmsets \"ghost\" not found"), std::string::npos) << r.err;
  r = ctl({"get", "vmsets,balancers"});
  EXPECT_EQ(r.err, "No resources found.\n");
}

// `source <(corralctl completion bash)`, then what TAB offers: verbs, kinds,
// the cluster's objects by name, output formats.
TEST_F(CliE2E, BashCompletionOffersVerbsKindsAndTheClustersNames) {
  start();
  ASSERT_EQ(ctl({"apply", "-f", examples()}).exit_code, 0);
  const std::string bin_dir = fs::path(corralctl_binary()).parent_path().string();
  auto complete = [&](const std::string& words, int cword) {
    const std::string script = "source <(corralctl completion bash) && COMP_WORDS=(" + words +
                               ") && COMP_CWORD=" + std::to_string(cword) +
                               " && _corralctl && echo \"${COMPREPLY[*]}\"";
    CommandOptions o;
    o.env["PATH"] = bin_dir + ":/usr/bin:/bin";
    auto r = run_command("/bin/bash", {"-c", script}, o);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  EXPECT_EQ(complete("corralctl ge", 1), "get\n");
  EXPECT_EQ(complete("corralctl get vmse", 2), "vmsets vmset\n");
  EXPECT_EQ(complete("corralctl --server " + controller_->url() + " describe vmset fr", 5), "frontend\n");
  EXPECT_EQ(complete("corralctl get pools -o ya", 4), "yaml\n");
  auto zsh = ctl({"completion", "zsh"});
  EXPECT_EQ(zsh.exit_code, 0);
  EXPECT_NE(zsh.out.find("bashcompinit"), std::string::npos);
  auto fish = ctl({"completion", "fish"});
  EXPECT_NE(fish.exit_code, 0);
  EXPECT_NE(fish.err.find("corralctl completes bash and zsh"), std::string::npos) << fish.err;
}

TEST_F(CliE2E, WatchSeesACreateMadeMeanwhile) {
  start();
  auto vm_yaml = [](const std::string& name) {
    return "apiVersion: corral/v1\nkind: VM\nmetadata: {name: " + name +
           "}\nspec:\n  resources: {cpu: 100m, memory: 64Mi}\n  runtime: {driver: sim}\n";
  };
  write(dir_.file("vm1.yaml"), vm_yaml("listed-1"));
  write(dir_.file("vm2.yaml"), vm_yaml("watched-2"));
  ASSERT_EQ(ctl({"apply", "-f", dir_.file("vm1.yaml")}).exit_code, 0);

  // The watch starts at the list's revision, so a create made any time after
  // the list (and before --watch-timeout) is seen; the timeout is generous
  // (the test waits it out: it is how the watch ends with exit code 0), so
  // that the create lands inside it however slowly corralctl apply starts.
  ProcessOptions po;
  po.argv = {corralctl_binary(), "--server", controller_->url(), "get", "vms", "-w", "--watch-timeout", "15s"};
  po.env["HOME"] = dir_.path().string();
  po.unset_env = {"CORRAL_SERVER", "CORRAL_TOKEN", "CORRAL_CA"};
  po.stdout_path = dir_.file("watch.out");
  po.stderr_path = dir_.file("watch.err");
  Process watch(po);
  ASSERT_TRUE(watch.started()) << watch.error();
  // Once the table of the existing VM is out, the list is done and the watch
  // (about to be) open.
  ASSERT_TRUE(wait_for([&] { return read_file(dir_.file("watch.out")).find("listed-1") != std::string::npos; },
                       std::chrono::seconds(60)))
      << read_file(dir_.file("watch.out")) << read_file(dir_.file("watch.err"));
  auto r = ctl({"apply", "-f", dir_.file("vm2.yaml")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // The new VM's row comes while the watch runs; then the watch ends on its own.
  EXPECT_TRUE(wait_for([&] { return read_file(dir_.file("watch.out")).find("\nwatched-2 ") != std::string::npos; },
                       std::chrono::seconds(60)))
      << read_file(dir_.file("watch.out"));
  EXPECT_EQ(watch.wait(std::chrono::seconds(60)), 0) << read_file(dir_.file("watch.err"));
  std::string out = read_file(dir_.file("watch.out"));
  EXPECT_TRUE(std::regex_search(out, std::regex("^NAME +PHASE +NODE +EPOCH +RESTARTS +ADDRESS +AGE\nlisted-1 +")))
      << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("\nwatched-2 +"))) << out;
}

TEST_F(CliE2E, BadInputIsRefusedWithAClearMessageAndNothingChanges) {
  start();
  ASSERT_EQ(ctl({"apply", "-f", examples() + "pool.yaml"}).exit_code, 0);

  std::string bad_yaml = dir_.file("bad.yaml");
  write(bad_yaml, "apiVersion: corral/v1\nkind: Pool\nmetadata:\n  name: [web\n");
  expect_refused({"apply", "-f", bad_yaml}, "bad.yaml:");
  std::smatch m;
  auto r = ctl({"apply", "-f", bad_yaml});
  EXPECT_TRUE(std::regex_search(r.err, m, std::regex("bad\\.yaml:[0-9]+:[0-9]+: "))) << r.err;

  std::string kind = dir_.file("kind.yaml");
  write(kind, "apiVersion: corral/v1\nkind: Widget\nmetadata: {name: w}\n");
  expect_refused({"apply", "-f", kind}, "unknown kind \"Widget\"");

  std::string field = dir_.file("field.yaml");
  write(field,
        "apiVersion: corral/v1\nkind: Pool\nmetadata: {name: web2}\nspec:\n  placement: spread\n  colour: "
        "blue\n");
  expect_refused({"apply", "-f", field}, "field.yaml:6:3: spec.colour: unknown field");

  std::string value = dir_.file("value.yaml");
  write(value, read_file(examples() + "vmset.yaml"));
  write(value, replace_once(read_file(value), "replicas: 3", "replicas: -2"));
  expect_refused({"apply", "-f", value}, "spec.replicas");
  r = ctl({"apply", "-f", value});
  EXPECT_TRUE(std::regex_search(r.err, std::regex("value\\.yaml:[0-9]+:[0-9]+: spec\\.replicas: "))) << r.err;

  // One good document and one bad: nothing at all is written.
  std::string mixed = dir_.file("mixed.yaml");
  write(mixed, "apiVersion: corral/v1\nkind: Pool\nmetadata: {name: fresh}\n---\n" + read_file(value));
  expect_refused({"apply", "-f", mixed}, "spec.replicas");

  expect_refused({"get", "pool", "missing"}, "pools \"missing\" not found");
  expect_refused({"describe", "pool", "missing"}, "not found");
  expect_refused({"delete", "vm", "missing"}, "not found");
  expect_refused({"get", "widgets"}, "doesn't have a resource type \"widgets\"");
  expect_refused({"get", "pools", "-l", "app in x"}, "BadRequest: invalid label selector");
  expect_refused({"get", "pools", "--field-selector", "spec.nosuch=1"}, "spec.nosuch");
  expect_refused({"get", "pools", "-o", "xml"}, "output format \"xml\"");
  expect_refused({"diff", "-f", bad_yaml}, "bad.yaml:", 2);
  expect_refused({"apply", "-f", dir_.file("nonexistent.yaml")}, "nonexistent.yaml");
  expect_refused({"frobnicate"}, "frobnicate");

  // A server that is not there.
  r = run_command(corralctl_binary(), {"--server", "http://127.0.0.1:1", "get", "pools"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("error: cannot reach http://127.0.0.1:1"), std::string::npos) << r.err;
}

TEST_F(CliE2E, TokensAreCheckedAndRolesEnforced) {
  start("admin-token,alice,admin\nview-token,bob,viewer\n");
  admin_token_ = "admin-token";
  token_ = "admin-token";
  ASSERT_EQ(ctl({"apply", "-f", examples() + "pool.yaml"}).exit_code, 0);

  token_.clear();
  expect_refused({"get", "pools"}, "Unauthorized");
  token_ = "wrong";
  expect_refused({"get", "pools"}, "Unauthorized");
  token_ = "view-token";
  expect_refused({"apply", "-f", examples()}, "Forbidden");

  // The viewer may read.
  auto r = ctl({"get", "pools", "-o", "name"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "pool/web\n");
  token_.clear();

  // Never on the command line (every user reads argv); from a private file.
  expect_refused({"get", "pools", "--token", "view-token"}, "--token-file FILE");
  const std::string token_file = dir_.file("view.token");
  write(token_file, "view-token\n");
  ::chmod(token_file.c_str(), 0644);
  expect_refused({"get", "pools", "--token-file", token_file}, "chmod 600");
  ::chmod(token_file.c_str(), 0600);
  r = ctl({"get", "pools", "-o", "name", "--token-file", token_file});
  EXPECT_EQ(r.exit_code, 0) << r.err;

  // The token may come from the environment or the config file too.
  CommandOptions env;
  env.env["CORRAL_TOKEN"] = "view-token";
  r = ctl({"get", "pools", "-o", "name"}, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string cfg = dir_.file("config");
  write(cfg, "server: " + controller_->url() + "\ntoken: view-token\n");
  r = run_command(corralctl_binary(), {"--config", cfg, "get", "pools", "-o", "name"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "pool/web\n");
  write(cfg, "server: " + controller_->url() + "\ntoken: [\n");
  r = run_command(corralctl_binary(), {"--config", cfg, "get", "pools"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("error: " + cfg + ":"), std::string::npos) << r.err;
}

// Issue 15.2: revoking a token needs no restart. SIGHUP reloads the tokens
// file; a file that does not load leaves the old tokens in force.
TEST_F(CliE2E, SighupReloadsTheTokensFile) {
  start("admin-token,root,admin\nold-token,ops,viewer\n");
  admin_token_ = "admin-token";
  token_ = "old-token";
  ASSERT_EQ(ctl({"get", "pools"}).exit_code, 0);

  const std::string tokens = dir_.file("tokens");
  write(tokens, "admin-token,root,admin\nnew-token,ops,viewer\n");
  ::kill(controller_->process()->pid(), SIGHUP);
  auto revoked = [&] {
    auto r = ctl({"get", "pools"});
    return r.exit_code != 0 && r.err.find("Unauthorized") != std::string::npos;
  };
  ASSERT_TRUE(wait_for(revoked, std::chrono::seconds(30))) << "old-token accepted after SIGHUP";
  token_ = "new-token";
  EXPECT_EQ(ctl({"get", "pools"}).exit_code, 0);

  // A broken file changes nothing; the controller keeps serving.
  write(tokens, "admin-token,root,admin\nbroken line\n");
  ::kill(controller_->process()->pid(), SIGHUP);
  ASSERT_TRUE(wait_for(
      [&] { return controller_->logs().find("tokens not reloaded") != std::string::npos; },
      std::chrono::seconds(30)))
      << controller_->logs();
  EXPECT_EQ(ctl({"get", "pools"}).exit_code, 0) << "the previous tokens stay in force";
}

}  // namespace cli_e2e_test
}  // namespace corral::testing
