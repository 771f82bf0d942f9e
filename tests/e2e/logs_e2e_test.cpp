// `corralctl logs` end to end: the real controller, a real agent started with
// a node token — whose endpoint takes only calls the controller signed with
// that node's key — and a VM run by the process driver. corralctl asks the
// API (GET vms/<name>/log) with the user's token; the controller reads the
// log from the agent with its own signature. The agent refuses corralctl's
// direct, unsigned call; a node token may not read logs through the API.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <memory>
#include <string>
#include <vector>

#include "client/client.h"
#include "tests/e2e/token_cluster_fixture.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"

namespace corral::testing {
namespace logs_e2e_test {

using namespace std::chrono_literals;

using LogsE2E = TokenClusterE2E;

TEST_F(LogsE2E, CorralctlReadsTheLogThroughTheControllerFromASigningOnlyAgent) {
  const std::string manifest = process_vm_manifest(
      "app", ": " + marker() + "; echo one; echo two; echo three; while :; do sleep 1; done");
  auto r = ctl("admin-token", {"apply", "-f", manifest});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  // Until the VM runs and its agent holds its key the answer says why not.
  ASSERT_TRUE(wait_for(
      [&] {
        r = ctl("admin-token", {"logs", "app"});
        return r.exit_code == 0 && r.out == "one\ntwo\nthree\n";
      },
      60s))
      << r.out << r.err << ctl("admin-token", {"describe", "vm", "app"}).out << agent_->logs();

  // The same read again at once, and the three forms of the name with --tail:
  // each is signed afresh, never taken for a replay.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"logs", "app"}, {"logs", "vm", "app", "--tail", "1"}, {"logs", "vm/app", "--tail", "2"}}) {
    r = ctl("admin-token", args);
    EXPECT_EQ(r.exit_code, 0) << args.back() << ": " << r.err;
  }
  EXPECT_EQ(r.out, "two\nthree\n");
  r = ctl("admin-token", {"logs", "app", "--tail", "1"});
  EXPECT_EQ(r.out, "three\n") << r.err;

  // A viewer reads logs too (Kubernetes' view role reads pods/log).
  r = ctl("viewer-token", {"logs", "app", "--tail", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "three\n");

  // A node token may not, not even for a VM on its own node; nor a balancer's.
  r = ctl("host-a-token", {"logs", "app"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("nodes may not read VM logs"), std::string::npos) << r.err;
  r = ctl("lb-token", {"logs", "app"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("balancers may not read VM logs"), std::string::npos) << r.err;

  // Errors name what is missing, and why: a VM the scheduler finds no place
  // for (it names no pool) is not bound, with the scheduler's reason.
  r = ctl("admin-token", {"logs", "ghost"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: vms \"ghost\" not found\n");
  const std::string unplaced = dir_.file("unplaced.yaml");
  std::ofstream(unplaced) << "apiVersion: corral/v1\nkind: VM\nmetadata:\n  name: unplaced\nspec:\n"
                             "  resources: {cpu: 100m, memory: 16Mi}\n"
                             "  runtime: {driver: process, command: [/bin/true]}\n";
  r = ctl("admin-token", {"apply", "-f", unplaced});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(wait_for(
      [&] {
        r = ctl("admin-token", {"logs", "unplaced"});
        return r.err.rfind("error: vm/unplaced is not bound to a node yet (", 0) == 0;
      },
      60s))
      << r.err;
  EXPECT_EQ(r.exit_code, 1);

  // What corralctl used to do — call the agent itself — is refused there.
  ClientConfig direct;
  direct.server = agent_->url();
  direct.token = "admin-token";  // a bearer token means nothing to an agent
  ApiClient agent_client(direct);
  auto answer = agent_client.request("GET", "/v1/logs/app");
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->status, 401) << answer->body;
}

// `corralctl logs -f` against a VM that prints a line every 100 ms: lines
// written after the follow began arrive while it runs, and deleting the VM
// ends it, with the controller's reason on stderr and exit code 0.
TEST_F(LogsE2E, FollowStreamsNewLinesUntilTheVmIsDeleted) {
  const std::string manifest = process_vm_manifest(
      "ticker", ": " + marker() + "; i=0; while :; do echo line $i; i=$((i+1)); sleep 0.1; done");
  auto r = ctl("admin-token", {"apply", "-f", manifest});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // The number of the last line written before the follow starts.
  auto last_number = [](const std::string& text) {
    const size_t at = text.rfind("line ");
    return at == std::string::npos ? -1 : std::atoi(text.c_str() + at + 5);
  };
  int before = -1;
  ASSERT_TRUE(wait_for(
      [&] {
        r = ctl("admin-token", {"logs", "ticker", "--tail", "1"});
        before = last_number(r.out);
        return r.exit_code == 0 && before >= 0;
      },
      60s))
      << r.out << r.err << agent_->logs();

  ProcessOptions p;
  p.argv = {corralctl_binary(), "--server", controller_->url(), "logs", "ticker", "-f", "--tail", "1"};
  p.env["CORRAL_TOKEN"] = "viewer-token";
  p.stdout_path = dir_.file("follow.out");
  p.stderr_path = dir_.file("follow.err");
  Process follow(p);
  ASSERT_TRUE(follow.started()) << follow.error();
  // Ten lines past the one before the follow: the VM wrote them since.
  std::string out;
  ASSERT_TRUE(wait_for(
      [&] {
        out = read_file(p.stdout_path);
        return last_number(out) >= before + 10;
      },
      30s))
      << out << read_file(p.stderr_path);
  EXPECT_TRUE(follow.running());
  // In order, none lost or twice: line k is followed by line k+1.
  std::istringstream lines(out);
  std::string line;
  int expected = -1;
  while (std::getline(lines, line)) {
    const int n = last_number(line);
    if (expected >= 0) {
      EXPECT_EQ(n, expected) << out;
    }
    expected = n + 1;
  }

  r = ctl("admin-token", {"delete", "vm", "ticker"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto code = follow.wait(30s);
  ASSERT_TRUE(code.has_value()) << "the follow did not end after its VM was deleted";
  EXPECT_EQ(*code, 0) << read_file(p.stderr_path);
  EXPECT_EQ(read_file(p.stderr_path), "corralctl: the server ended the follow: vm/ticker was deleted\n");
}

}  // namespace logs_e2e_test
}  // namespace corral::testing
