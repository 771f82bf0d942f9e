// Issue 14, "Two processes share one port, silently": every listener of every
// binary binds exclusively and fails at start naming its flag (or, for a
// Balancer, its field). Each test starts a real binary on a port that is
// already listened on — by another copy of the same binary, or by a socket
// of this test that sets SO_REUSEPORT, the way cpp-httplib 0.11 and the old
// balancer bound theirs: a listener that also set SO_REUSEPORT would bind
// beside it and take a share of its connections.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include "api/json.h"
#include "client/client.h"
#include "tests/support/balancer_process.h"
#include "tests/support/e2e_util.h"
#include "tests/support/http_backend.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace corral::testing {
namespace exclusive_bind_test {

using namespace std::chrono_literals;

constexpr auto kWait = 60s;  // ends as soon as the process exits or is ready

// A loopback port this test listens on with SO_REUSEADDR and SO_REUSEPORT.
class HeldPort {
 public:
  HeldPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int yes = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof yes);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~HeldPort() { ::close(fd_); }
  HeldPort(const HeldPort&) = delete;
  HeldPort& operator=(const HeldPort&) = delete;
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Runs `argv` to its exit; its exit code (-1 when it did not exit in time)
// and its stderr.
struct Outcome {
  int code = -1;
  std::string err;
};
Outcome run_to_exit(std::vector<std::string> argv, const TempDir& dir, const std::string& tag) {
  ProcessOptions po;
  po.argv = std::move(argv);
  po.stderr_path = dir.file(tag + ".stderr");
  Process p(po);
  EXPECT_TRUE(p.started()) << p.error();
  Outcome out;
  out.code = p.wait(kWait).value_or(-1);
  out.err = read_file(po.stderr_path);
  return out;
}

// A controller on 127.0.0.1, port 0, no loops; ready once its ready file names its URL.
struct Controller {
  TempDir dir;
  std::unique_ptr<Process> process;
  std::string url;  // http://127.0.0.1:PORT

  bool start(std::string* error) {
    ProcessOptions po;
    po.argv = {controller_binary(), "--listen",     "127.0.0.1:0",     "--data-dir",
               dir.file("data"),    "--ready-file", dir.file("ready"), "--no-loops",
               "--log-level",       "warn"};
    po.stderr_path = dir.file("stderr");
    process = std::make_unique<Process>(po);
    bool ready = wait_for(
        [&] {
          url = read_file(dir.file("ready"));
          return !url.empty() || !process->running();
        },
        kWait);
    while (!url.empty() && url.back() == '\n') url.pop_back();
    if (!ready || url.empty()) *error = "controller not ready:\n" + read_file(dir.file("stderr"));
    return !url.empty();
  }
  std::string host_port() const { return url.substr(url.find("//") + 2); }
};

TEST(ExclusiveBind, ASecondControllerOnTheSamePortExitsNamingListen) {
  Controller first;
  std::string error;
  ASSERT_TRUE(first.start(&error)) << error;
  const std::string address = first.host_port();

  TempDir other;
  Outcome second = run_to_exit(
      {controller_binary(), "--listen", address, "--data-dir", other.file("data"), "--no-loops"},
      other, "second");
  EXPECT_EQ(second.code, 1) << second.err;
  EXPECT_NE(second.err.find("corral-controller: --listen " + address + ": address already in use"),
            std::string::npos)
      << second.err;
  // Every request still reaches the first one.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(http_get(address, "/healthz").status, 200);
}

TEST(ExclusiveBind, AControllerWhoseHeartbeatPortIsTakenExitsNamingHeartbeatListen) {
  HeldPort held;
  TempDir dir;
  Outcome out = run_to_exit({controller_binary(), "--listen", "127.0.0.1:0", "--heartbeat-listen",
                             held.address(), "--data-dir", dir.file("data"), "--no-loops"},
                            dir, "controller");
  EXPECT_EQ(out.code, 1) << out.err;
  EXPECT_NE(out.err.find("corral-controller: --heartbeat-listen " + held.address() +
                         ": address already in use"),
            std::string::npos)
      << out.err;
}

TEST(ExclusiveBind, AControllerDoesNotJoinASocketThatSetSoReuseport) {
  HeldPort held;
  TempDir dir;
  Outcome out = run_to_exit({controller_binary(), "--listen", held.address(), "--data-dir",
                             dir.file("data"), "--no-loops"},
                            dir, "controller");
  EXPECT_EQ(out.code, 1) << out.err;
  EXPECT_NE(out.err.find("--listen " + held.address() + ": address already in use"),
            std::string::npos)
      << out.err;
}

TEST(ExclusiveBind, AnAgentWhoseLocalEndpointPortIsTakenExitsNamingListen) {
  HeldPort held;
  TempDir dir;
  // No controller is needed: the endpoint binds before the agent calls one.
  Outcome out =
      run_to_exit({agent_binary(), "--server", "http://127.0.0.1:1", "--node", "n1", "--driver",
                   "sim", "--data-dir", dir.file("data"), "--listen", held.address()},
                  dir, "agent");
  EXPECT_EQ(out.code, 1) << out.err;
  EXPECT_NE(out.err.find("corral-agent: --listen " + held.address() + ": address already in use"),
            std::string::npos)
      << out.err;
}

std::string manifest(const std::string& listen, const std::string& backend) {
  return "apiVersion: corral/v1\nkind: Balancer\nmetadata: {name: web}\nspec:\n"
         "  vmSet: web\n  listen: " +
         listen +
         "\n  mode: http\nstatus:\n  endpoints:\n"
         "    - {vm: b0, node: n0, address: \"" +
         backend + "\", epoch: 1}\n";
}

TEST(ExclusiveBind, ABalancerWhoseAdminPortIsTakenExitsNamingAdmin) {
  HeldPort held;
  TempDir dir;
  std::ofstream(dir.file("lb.yaml")) << manifest("127.0.0.1:0", "127.0.0.1:1");
  Outcome out = run_to_exit({balancer_binary(), "--file", dir.file("lb.yaml"), "--threads", "1",
                             "--admin", held.address()},
                            dir, "balancer");
  EXPECT_EQ(out.code, 1) << out.err;
  EXPECT_NE(out.err.find("corral-balancer: --admin " + held.address() + ": address already in use"),
            std::string::npos)
      << out.err;
}

// The data plane: a second corral-balancer for a Balancer on the same
// address used to bind it too (SO_REUSEPORT on every loop) and take a share
// of its clients. Now it exits, and every request reaches the first.
TEST(ExclusiveBind, ASecondBalancerOnTheSameListenExitsNamingSpecListen) {
  HttpBackend backend("b0");
  std::string error;
  ASSERT_TRUE(backend.start(&error)) << error;
  TempDir dir;
  std::ofstream(dir.file("first.yaml")) << manifest("127.0.0.1:0", backend.address());
  BalancerProcess first(balancer_binary());
  ASSERT_TRUE(first.start({"--file", dir.file("first.yaml"), "--threads", "2"}, &error)) << error;
  const std::string address = first.listener("web");
  ASSERT_FALSE(address.empty());

  std::ofstream(dir.file("second.yaml")) << manifest(address, "127.0.0.1:1");
  Outcome second = run_to_exit({balancer_binary(), "--file", dir.file("second.yaml"), "--threads",
                                "2", "--admin", "127.0.0.1:0"},
                               dir, "second");
  EXPECT_EQ(second.code, 1) << second.err;
  EXPECT_NE(second.err.find("balancer web: spec.listen " + address + ": address already in use"),
            std::string::npos)
      << second.err;
  // The first one's two loops accept from one socket: every request is served.
  for (int i = 0; i < 10; ++i) {
    HttpResult r = http_get(address, "/x");
    EXPECT_EQ(r.status, 200) << r.body;
  }
}

TEST(ExclusiveBind, ABalancerDoesNotJoinASocketThatSetSoReuseport) {
  HeldPort held;
  TempDir dir;
  std::ofstream(dir.file("lb.yaml")) << manifest(held.address(), "127.0.0.1:1");
  Outcome out = run_to_exit({balancer_binary(), "--file", dir.file("lb.yaml"), "--threads", "2",
                             "--admin", "127.0.0.1:0"},
                            dir, "balancer");
  EXPECT_EQ(out.code, 1) << out.err;
  EXPECT_NE(
      out.err.find("balancer web: spec.listen " + held.address() + ": address already in use"),
      std::string::npos)
      << out.err;
}

// Through the API: the controller refuses a second Balancer on the same
// address (422 naming both), and a Balancer whose port another process holds
// is reported by corral-balancer as Serving False naming spec.listen.
TEST(ExclusiveBind, ThroughTheApiACollidingBalancerIs422AndATakenPortIsNotServing) {
  Controller controller;
  std::string error;
  ASSERT_TRUE(controller.start(&error)) << error;
  ClientConfig cfg;
  cfg.server = controller.url;
  ApiClient api(cfg);
  HeldPort held;
  Json web =
      parse_json(R"({"apiVersion": "corral/v1", "kind": "Balancer", "metadata": {"name": "web"},
                            "spec": {"vmSet": "web", "listen": ")" +
                 held.address() + R"("}})")
          .value();
  ASSERT_TRUE(api.call("POST", ApiClient::resource_path("balancers"), &web).ok());
  Json api_lb = web;
  api_lb["metadata"]["name"] = "api";
  api_lb["spec"]["listen"] = "0.0.0.0:" + held.address().substr(held.address().rfind(':') + 1);
  auto refused = api.call("POST", ApiClient::resource_path("balancers"), &api_lb);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalid);
  EXPECT_NE(refused.error().to_string().find(api_lb["spec"]["listen"].get<std::string>() +
                                             " is already used by balancer/web (spec.listen " +
                                             held.address() + ")"),
            std::string::npos)
      << refused.error().to_string();

  TempDir dir;
  ProcessOptions po;
  po.argv = {balancer_binary(), "--server", controller.url, "--balancer", "web",
             "--threads",       "2",        "--admin",      "127.0.0.1:0"};
  po.stderr_path = dir.file("balancer.stderr");
  Process balancer(po);
  ASSERT_TRUE(balancer.started()) << balancer.error();
  std::string message;
  bool reported = wait_for(
      [&] {
        auto got = api.call("GET", ApiClient::resource_path("balancers", "web"));
        if (!got) return false;
        for (const Json& c :
             got->value("status", Json::object()).value("conditions", Json::array()))
          if (c.value("type", "") == "Serving" && c.value("status", "") == "False")
            message = c.value("message", "");
        return !message.empty();
      },
      kWait);
  ASSERT_TRUE(reported) << read_file(po.stderr_path);
  EXPECT_EQ(message, "spec.listen " + held.address() + ": address already in use");
}

}  // namespace exclusive_bind_test
}  // namespace corral::testing
