#include <sys/stat.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "client/client.h"
#include "cli/app.h"
#include "cli/options.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/cli_test_context.h"

namespace corral::cli {
namespace client_config_test {

using testing::TempDir;
using testing::write_file;

// Points HOME at a temp dir and clears CORRAL_* for the test's duration.
class ClientConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"HOME", "CORRAL_SERVER", "CORRAL_TOKEN", "CORRAL_CA"}) {
      const char* v = std::getenv(name);
      saved_.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
      unsetenv(name);
    }
    setenv("HOME", home_.path().c_str(), 1);
    std::filesystem::create_directories(home_.path() / ".corral");
  }
  void TearDown() override {
    for (const auto& [name, v] : saved_) {
      if (v)
        setenv(name.c_str(), v->c_str(), 1);
      else
        unsetenv(name.c_str());
    }
  }
  std::string config_path() const { return home_.file(".corral/config"); }

  TempDir home_;
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST_F(ClientConfigTest, DefaultsWithoutFileOrEnv) {
  auto cfg = resolve_client_config({});
  ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
  EXPECT_EQ(cfg->server, ClientConfig{}.server);
  EXPECT_EQ(cfg->token, "");
}

TEST_F(ClientConfigTest, FileThenEnvThenFlags) {
  write_file(config_path(), "server: https://file:1\ntoken: file-token\nca: /file/ca.pem\n");
  auto from_file = resolve_client_config({});
  ASSERT_TRUE(from_file.ok()) << from_file.error().to_string();
  EXPECT_EQ(from_file->server, "https://file:1");
  EXPECT_EQ(from_file->token, "file-token");
  EXPECT_EQ(from_file->ca_file, "/file/ca.pem");

  setenv("CORRAL_SERVER", "https://env:2", 1);
  setenv("CORRAL_TOKEN", "env-token", 1);
  auto from_env = resolve_client_config({});
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(from_env->server, "https://env:2");
  EXPECT_EQ(from_env->token, "env-token");
  EXPECT_EQ(from_env->ca_file, "/file/ca.pem");  // not overridden

  GlobalOptions flags;
  flags.server = "https://flag:3/";
  flags.ca = "/flag/ca.pem";
  auto from_flags = resolve_client_config(flags);
  ASSERT_TRUE(from_flags.ok());
  EXPECT_EQ(from_flags->server, "https://flag:3");
  EXPECT_EQ(from_flags->token, "env-token");
  EXPECT_EQ(from_flags->ca_file, "/flag/ca.pem");
}

// Several controllers (issue 16): a comma-separated list or a YAML list in
// the file, a list in the environment or a flag, each entry normalised.
TEST_F(ClientConfigTest, ServerListsFromTheFileTheEnvironmentAndFlags) {
  write_file(config_path(), "server: [\"https://c1:7443/\", https://c2:7443]\n");
  auto from_file = resolve_client_config({});
  ASSERT_TRUE(from_file.ok()) << from_file.error().to_string();
  EXPECT_EQ(from_file->server, "https://c1:7443,https://c2:7443");

  write_file(config_path(), "server: [https://c1:7443, 7]\n");
  auto bad = load_client_config();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("each server must be a string"), std::string::npos)
      << bad.error().message;

  setenv("CORRAL_SERVER", " http://e1:1/ ,, http://e2:2", 1);
  auto from_env = load_client_config();
  ASSERT_FALSE(from_env.ok());  // the file is still malformed
  write_file(config_path(), "token: t\n");
  from_env = load_client_config();
  ASSERT_TRUE(from_env.ok()) << from_env.error().to_string();
  EXPECT_EQ(from_env->server, "http://e1:1,http://e2:2");

  GlobalOptions flags;
  flags.server = "https://f1:3/,https://f2:3/";
  auto from_flags = resolve_client_config(flags);
  ASSERT_TRUE(from_flags.ok());
  EXPECT_EQ(from_flags->server, "https://f1:3,https://f2:3");
  EXPECT_EQ(split_servers(from_flags->server), (std::vector<std::string>{"https://f1:3", "https://f2:3"}));
}

TEST_F(ClientConfigTest, ExplicitConfigFlagIsRead) {
  TempDir other;
  write_file(other.file("cfg"), "server: http://other:9\n");
  GlobalOptions flags;
  flags.config = other.file("cfg");
  auto cfg = resolve_client_config(flags);
  ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
  EXPECT_EQ(cfg->server, "http://other:9");
  flags.config = other.file("missing");
  EXPECT_FALSE(resolve_client_config(flags).ok());
}

TEST_F(ClientConfigTest, MalformedYamlNamesFileAndLine) {
  write_file(config_path(), "server: http://a:1\ntoken: [unclosed\n");
  auto cfg = load_client_config();
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find(config_path() + ":"), std::string::npos) << cfg.error().message;
}

TEST_F(ClientConfigTest, UnknownKeyAndWrongTypeNameTheLine) {
  write_file(config_path(), "server: http://a:1\nport: 7\n");
  auto cfg = load_client_config();
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find(config_path() + ":2"), std::string::npos) << cfg.error().message;
  EXPECT_NE(cfg.error().message.find("port"), std::string::npos);

  write_file(config_path(), "server: http://a:1\ntoken: {a: b}\n");
  cfg = load_client_config();
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find(config_path() + ":2"), std::string::npos) << cfg.error().message;
}

TEST_F(ClientConfigTest, CorralctlReportsABadConfigAndExitsNonZero) {
  write_file(config_path(), "server: [\n");
  std::istringstream in;
  std::ostringstream out, err;
  const char* argv[] = {"corralctl", "get", "pools"};
  bool factory_called = false;
  int rc = run_corralctl(3, argv, in, out, err, [&](const ClientConfig&) {
    factory_called = true;
    return std::unique_ptr<ResourceClient>(new testing::FakeResourceClient());
  });
  EXPECT_EQ(rc, 1);
  EXPECT_FALSE(factory_called);
  EXPECT_EQ(err.str().rfind("error: " + config_path() + ":", 0), 0u) << err.str();
}

TEST_F(ClientConfigTest, FlagsReachTheClientAfterTheVerb) {
  std::istringstream in;
  std::ostringstream out, err;
  const std::string token_file = home_.file("token");
  std::ofstream(token_file) << "t\n";
  ::chmod(token_file.c_str(), 0600);
  const char* argv[] = {"corralctl", "version", "--server", "http://x:5", "--token-file",
                        token_file.c_str()};
  ClientConfig seen;
  int rc = run_corralctl(6, argv, in, out, err, [&](const ClientConfig& c) {
    seen = c;
    return std::unique_ptr<ResourceClient>(new testing::FakeResourceClient());
  });
  EXPECT_EQ(rc, 0) << err.str();
  EXPECT_EQ(seen.server, "http://x:5");
  EXPECT_EQ(seen.token, "t");
  EXPECT_EQ(out.str(), std::string("Client Version: ") + CORRAL_VERSION + "\nServer Version: v9.9.9\n");
}

// Issue 15.2: a token on the command line is readable by every user of the
// host (ps, /proc/PID/cmdline); so is a token file others may read.
TEST_F(ClientConfigTest, TokensOnTheCommandLineOrInAnOpenFileAreRefused) {
  const std::string open_file = home_.file("open-token");
  std::ofstream(open_file) << "t\n";
  ::chmod(open_file.c_str(), 0644);
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--token", "t"}, std::vector<std::string>{"--token-file", open_file}}) {
    std::istringstream in;
    std::ostringstream out, err;
    std::vector<const char*> argv = {"corralctl", "version", "--server", "http://x:5"};
    for (const auto& a : args) argv.push_back(a.c_str());
    bool factory_called = false;
    int rc = run_corralctl(static_cast<int>(argv.size()), argv.data(), in, out, err,
                           [&](const ClientConfig&) {
                             factory_called = true;
                             return std::unique_ptr<ResourceClient>(
                                 new testing::FakeResourceClient());
                           });
    EXPECT_NE(rc, 0) << args[0];
    EXPECT_FALSE(factory_called) << args[0];
    EXPECT_NE(err.str().find(args[0] == "--token" ? "--token-file FILE" : "chmod 600"),
              std::string::npos)
        << err.str();
  }
}

// Issue 18 §5: the argument parser's own words ("args is required") become
// what to type, as kubectl's.
TEST_F(ClientConfigTest, ParseErrorsSayWhatToType) {
  struct Case {
    std::vector<const char*> argv;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"corralctl", "get"}, "error: You must specify the type of resource to get."},
      {{"corralctl", "cordon"}, "error: You must specify the nodes to cordon: corralctl cordon NODE..."},
      {{"corralctl", "get", "vms", "-o", "yaml", "-o", "json"}, "was given more than once: give it once"},
      {{"corralctl", "scale", "vmset", "web"}, "error: You must give the number of replicas"},
      {{"corralctl", "simulate", "fail"}, "error: You must specify the nodes: corralctl simulate fail NODE..."},
  };
  for (const Case& c : cases) {
    std::istringstream in;
    std::ostringstream out, err;
    int rc = run_corralctl(static_cast<int>(c.argv.size()), c.argv.data(), in, out, err,
                           [&](const ClientConfig&) {
                             return std::unique_ptr<ResourceClient>(new testing::FakeResourceClient());
                           });
    EXPECT_EQ(rc, 1) << c.argv[1];
    EXPECT_NE(err.str().find(c.says), std::string::npos) << err.str();
    EXPECT_NE(err.str().find("See 'corralctl " + std::string(c.argv[1])), std::string::npos) << err.str();
  }
  // A verb's --help names the global flags.
  std::istringstream in;
  std::ostringstream out, err;
  const char* help[] = {"corralctl", "get", "--help"};
  EXPECT_EQ(run_corralctl(3, help, in, out, err, nullptr), 0);
  EXPECT_NE(out.str().find("--token-file FILE"), std::string::npos) << out.str();
}

// kubectl's habit: `-o=name` is `-o name` (and `-l=app=web` is `-l app=web`).
TEST_F(ClientConfigTest, OneLetterFlagsTakeTheirValueAfterAnEqualsSign) {
  std::istringstream in;
  std::ostringstream out, err;
  const char* argv[] = {"corralctl", "--server", "http://x:5", "get", "vms", "-o=name", "-l=app=web"};
  int rc = run_corralctl(7, argv, in, out, err, [&](const ClientConfig&) {
    auto fake = std::make_unique<testing::FakeResourceClient>();
    fake->put(Json::parse(R"({"apiVersion":"corral/v1","kind":"VM","metadata":{"name":"web-1","labels":{"app":"web"}}})"));
    fake->put(Json::parse(R"({"apiVersion":"corral/v1","kind":"VM","metadata":{"name":"db-1","labels":{"app":"db"}}})"));
    return std::unique_ptr<ResourceClient>(std::move(fake));
  });
  EXPECT_EQ(rc, 0) << err.str();
  EXPECT_EQ(out.str(), "vm/web-1\n");
}

TEST(ErrorFromResponse, StatusBodyBecomesAnErrorWithCauses) {
  HttpResponse r{422,
                 R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"VMSet \"a\" is invalid",
                     "reason":"Invalid","code":422,
                     "details":{"causes":[{"field":"spec.replicas","message":"must be >= 0"}]}})",
                 "application/json"};
  Error e = error_from_response(r);
  EXPECT_EQ(e.code, ErrorCode::kInvalid);
  EXPECT_EQ(e.message, "VMSet \"a\" is invalid");
  ASSERT_EQ(e.causes.size(), 1u);
  EXPECT_EQ(e.causes[0].field, "spec.replicas");
  EXPECT_EQ(e.to_string(), "VMSet \"a\" is invalid\n  spec.replicas: must be >= 0");
}

TEST(ErrorFromResponse, NonStatusBodyUsesTheHttpCode) {
  Error e = error_from_response({404, "nope", "text/plain"});
  EXPECT_EQ(e.code, ErrorCode::kNotFound);
  EXPECT_NE(e.message.find("404"), std::string::npos);
  EXPECT_EQ(error_from_response({409, R"({"kind":"Status","reason":"Conflict","code":409})", ""}).code,
            ErrorCode::kConflict);
}

TEST(ApiClient, UnreachableServerIsUnavailable) {
  ClientConfig cfg;
  cfg.server = "http://127.0.0.1:1";  // nothing listens on port 1
  cfg.timeout = std::chrono::milliseconds(2000);
  ApiClient client(cfg);
  auto r = client.call("GET", "/version");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(r.error().message.rfind("cannot reach http://127.0.0.1:1", 0), 0u) << r.error().message;
}

TEST(ApiClient, PathsAreEncoded) {
  EXPECT_EQ(ApiClient::resource_path("vms", "a b", "status"), "/apis/corral/v1/vms/a%20b/status");
  EXPECT_EQ(ApiClient::url_encode("app in (a,b)"), "app%20in%20%28a%2Cb%29");
}

}  // namespace client_config_test
}  // namespace corral::cli
