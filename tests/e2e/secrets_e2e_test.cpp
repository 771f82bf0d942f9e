// Secrets end to end: corralctl applies a Secret and a VM that takes an
// environment variable from it; the real agent (process driver) starts the
// VM with the value in its environment — the VM writes it to a file — while
// a viewer's corralctl reads the Secret redacted and the VM with the
// reference only. A bad Secret manifest is refused naming file:line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/e2e/token_cluster_fixture.h"

namespace corral::testing {
namespace secrets_e2e_test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kPassword = "correct-horse-battery";

std::string read_all(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

using SecretsE2E = TokenClusterE2E;

TEST_F(SecretsE2E, TheVmGetsTheValueInItsEnvironmentAndAViewerCannotReadIt) {
  const std::string out = marker();
  const std::string manifest = process_vm_manifest(
      "app",
      "printf %s \"$DB_PASSWORD\" > " + out + ".tmp && mv " + out + ".tmp " + out +
          " && while :; do sleep 1; done",
      "    env:\n"
      "      - name: DB_PASSWORD\n"
      "        valueFrom:\n"
      "          secretKeyRef: {name: db, key: password}\n");
  // The VM first: it waits for its Secret, with the reason on its status.
  auto r = ctl("admin-token", {"apply", "-f", manifest});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(wait_for(
      [&] {
        auto d = ctl("admin-token", {"get", "vm", "app", "-o", "wide"});
        return d.out.find("secret \"db\" not found") != std::string::npos;
      },
      60s))
      << ctl("admin-token", {"get", "vm", "app", "-o", "yaml"}).out;
  EXPECT_FALSE(fs::exists(out));

  const std::string secret = dir_.file("secret.yaml");
  std::ofstream(secret) << "apiVersion: corral/v1\nkind: Secret\nmetadata:\n  name: db\n"
                           "stringData:\n  password: "
                        << kPassword << "\n";
  r = ctl("admin-token", {"apply", "-f", secret});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("secret/db created"), std::string::npos) << r.out;

  ASSERT_TRUE(wait_for([&] { return fs::exists(out); }, 60s))
      << ctl("admin-token", {"describe", "vm", "app"}).out << agent_->logs();
  EXPECT_EQ(read_all(out), kPassword);

  // The admin reads the value (base64, as Kubernetes stores it); describe shows its size.
  r = ctl("admin-token", {"describe", "secret", "db"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("password:   21 bytes"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(kPassword), std::string::npos) << r.out;

  // A viewer: redacted in get, list and watch; the VM shows the reference only.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"get", "secret", "db", "-o", "yaml"},
                                             {"get", "secrets", "-o", "json"},
                                             {"get", "secrets", "-w", "--watch-timeout", "1s", "-o", "json"},
                                             {"get", "vm", "app", "-o", "yaml"},
                                             {"describe", "vm", "app"}}) {
    r = ctl("viewer-token", args);
    EXPECT_EQ(r.exit_code, 0) << args[1] << ": " << r.err;
    EXPECT_EQ(r.out.find(kPassword), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5"), std::string::npos) << r.out;  // base64
    if (args[1].rfind("secret", 0) == 0) {
      EXPECT_NE(r.out.find("<redacted>"), std::string::npos) << r.out;
    }
  }
  r = ctl("viewer-token", {"describe", "secret", "db"});
  EXPECT_NE(r.out.find("password:   <redacted>"), std::string::npos) << r.out;
  // The node's own token may not read it either.
  r = ctl("host-a-token", {"get", "secret", "db"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("may not get secrets"), std::string::npos) << r.err;
}

TEST_F(SecretsE2E, ApplyOfABadSecretNamesFileAndLine) {
  const std::string secret = dir_.file("bad-secret.yaml");
  std::ofstream(secret) << "apiVersion: corral/v1\n"
                           "kind: Secret\n"
                           "metadata:\n"
                           "  name: db\n"
                           "data:\n"
                           "  password: not-base64!\n";
  auto r = ctl("admin-token", {"apply", "-f", secret});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("bad-secret.yaml:6"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("data.password"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("base64"), std::string::npos) << r.err;
  r = ctl("admin-token", {"get", "secrets", "-o", "name"});
  EXPECT_EQ(r.out, "") << "nothing was created";
}

}  // namespace secrets_e2e_test
}  // namespace corral::testing
