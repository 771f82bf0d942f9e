// GET /apis/corral/v1/vms/<name>/log (controller/server/vm_log.h) through the
// API's pipeline, with the agent behind a FakeAgentLogReader: what is passed
// to the agent, how each of its answers and failures reaches the caller, and
// the cap on reads in flight. Then ?follow=true: the route's checks and caps,
// and one follow's polls (FollowSession, log_follow.h) on a log that grows,
// with time passed in. Authorisation by role: tests/security/vm_log_test.cpp;
// follows over real HTTP: tests/integration/api_test.cpp; with the real
// binaries: tests/e2e/logs_e2e_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "api/json.h"
#include "api/kinds.h"
#include "base/clock.h"
#include "controller/server/context.h"
#include "controller/server/log_follow.h"
#include "controller/server/pipeline.h"
#include "controller/store/store.h"
#include "tests/unit/fake_agent_log_reader.h"

namespace corral::server {
namespace server_vm_log_test {

using std::chrono::seconds;
using testing::FakeAgentLogReader;

constexpr const char* kAddress = "127.0.0.1:4100";

// A server's Context without a server: the memory store, authentication off
// (every caller is the admin), the fake reader installed.
class VmLog : public ::testing::Test {
 protected:
  static ServerOptions test_options() {
    ServerOptions o;
    o.max_log_reads = 3;
    o.log_follow.max_per_identity = 2;
    o.log_follow.chunk_bytes = 8;
    o.log_follow.max_buffered = 32;
    return o;
  }

  void add_node(const std::string& name, const std::string& address) {
    create("Node", {{"apiVersion", "corral/v1"}, {"kind", "Node"}, {"metadata", {{"name", name}}}});
    if (!address.empty()) set_status("Node", name, "address", address);
  }
  void add_vm(const std::string& name, const std::string& node, const std::string& message = "") {
    Json v = {
        {"apiVersion", "corral/v1"},
        {"kind", "VM"},
        {"metadata", {{"name", name}}},
        {"spec",
         {{"resources", {{"cpu", "1"}, {"memory", "1Gi"}}}, {"runtime", {{"driver", "sim"}}}}}};
    if (!node.empty()) v["spec"]["nodeName"] = node;
    create("VM", v);
    if (!message.empty()) set_status("VM", name, "message", message);
  }
  // status.<field> = value on the stored object, as its controller or agent writes it.
  void set_status(const std::string& kind, const std::string& name, const std::string& field,
                  const std::string& value) {
    auto stored = store_->get(kind, name);
    ASSERT_TRUE(stored.ok());
    Json with_status = (*stored)->parse();
    with_status["status"][field] = value;
    ASSERT_TRUE(store_->update_status(kind, with_status).ok());
  }
  void create(const std::string& kind, const Json& object) {
    auto normalized = normalize_object(object);
    ASSERT_TRUE(normalized.ok()) << normalized.error().to_string();
    ASSERT_TRUE(store_->create(kind, std::move(*normalized)).ok());
  }

  // `target`: the path and query after /apis/corral/v1/.
  HttpResponse request(const std::string& target, const std::string& method = "GET") {
    HttpRequest req;
    req.method = method;
    req.target = "/apis/corral/v1/" + target;
    const size_t q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos) req.params = parse_query(req.target.substr(q + 1));
    HttpResponse res;
    serve(ctx_, req, res);
    return res;
  }
  // The Status message of an error answer.
  static std::string message(const HttpResponse& res) {
    auto j = parse_json(res.body);
    return j ? j->value("message", "") : res.body;
  }

  FakeClock clock_;
  std::unique_ptr<store::Store> store_ = store::open_memory_store(clock_);
  ServerOptions options_ = test_options();
  Authenticator auth_;
  metrics::Registry registry_;
  ServerMetrics metrics_{registry_};
  std::atomic<bool> stopping_{false};
  HeartbeatHandler heartbeat_;
  AdmissionHook admission_;
  FakeAgentLogReader reader_;
  AgentLogReader* agent_logs_ = &reader_;
  std::atomic<int> heartbeat_port_{0};
  std::mutex balancer_writes_;
  WatchLimiter watches_{1, 1};
  EventRateLimiter event_rate_{clock_, options_.event_limits};
  std::atomic<size_t> log_reads_{0};
  ControlPlaneInfo control_plane_;
  UsageHistorySource usage_history_;
  LogFollower log_follows_{*store_, options_.log_follow};
  Context ctx_{*store_,         clock_,           options_,   auth_,       metrics_,
               registry_,       stopping_,        heartbeat_, admission_,  agent_logs_,
               heartbeat_port_, balancer_writes_, watches_,   event_rate_, log_reads_,
               control_plane_,  usage_history_,   log_follows_};
};

TEST_F(VmLog, PassesTheAgentsLogThroughAsText) {
  add_node("host-1", kAddress);
  add_vm("web-1", "host-1");
  reader_.replies[kAddress] = {200, "started\nserving on :8080\n"};
  HttpResponse res = request("vms/web-1/log?tailLines=20");
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.body, "started\nserving on :8080\n");
  EXPECT_EQ(res.get_header_value("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(reader_.calls(),
            (std::vector<std::string>{"host-1 127.0.0.1:4100 /v1/logs/web-1?tailLines=20"}));
}

TEST_F(VmLog, WithoutTailLinesAsksForTheWholeLog) {
  add_node("host-1", kAddress);
  add_vm("web-1", "host-1");
  EXPECT_EQ(request("vms/web-1/log").status, 200);
  EXPECT_EQ(request("vms/web-1/log?tailLines=0").status, 200);
  EXPECT_EQ(request("vms/web-1/log?tailLines=999999999").status, 200);
  EXPECT_EQ(reader_.calls(),
            (std::vector<std::string>{"host-1 127.0.0.1:4100 /v1/logs/web-1",
                                      "host-1 127.0.0.1:4100 /v1/logs/web-1?tailLines=0",
                                      "host-1 127.0.0.1:4100 /v1/logs/web-1?tailLines=999999999"}));
}

TEST_F(VmLog, TailLinesMustBeANonNegativeIntegerOfAtMostNineDigits) {
  add_node("host-1", kAddress);
  add_vm("web-1", "host-1");
  for (const char* bad : {"-1", "", "abc", "1e3", "+5", "1000000000", "5%20"}) {
    HttpResponse res = request(std::string("vms/web-1/log?tailLines=") + bad);
    EXPECT_EQ(res.status, 400) << bad;
    EXPECT_NE(message(res).find("invalid tailLines"), std::string::npos) << message(res);
  }
  EXPECT_TRUE(reader_.calls().empty());
}

TEST_F(VmLog, MissingVmIs404AndOnlyGetIsAllowed) {
  HttpResponse res = request("vms/ghost/log");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(message(res), "vms \"ghost\" not found");
  add_node("host-1", kAddress);
  add_vm("web-1", "host-1");
  EXPECT_EQ(request("vms/web-1/log", "POST").status, 405);
  EXPECT_EQ(request("vms/web-1/log", "PUT").status, 405);
  EXPECT_EQ(request("vms/web-1/log", "DELETE").status, 405);
  EXPECT_EQ(request("vms/web-1/log", "HEAD").status, 200);
  // Only VMs keep logs.
  EXPECT_EQ(request("nodes/host-1/log").status, 404);
  EXPECT_EQ(reader_.calls().size(), 1u);
}

TEST_F(VmLog, UnboundVmIs400WithTheSchedulersReason) {
  add_vm("web-1", "", "0/3 nodes are available: 3 insufficient cpu.");
  HttpResponse res = request("vms/web-1/log");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(message(res),
            "vm/web-1 is not bound to a node yet (0/3 nodes are available: 3 insufficient cpu.)");
  add_vm("web-2", "");
  EXPECT_EQ(message(request("vms/web-2/log")), "vm/web-2 is not bound to a node yet");
  EXPECT_TRUE(reader_.calls().empty());
}

TEST_F(VmLog, NodeWithoutAgentAddressIs503) {
  add_node("host-1", "");
  add_vm("web-1", "host-1");
  HttpResponse res = request("vms/web-1/log");
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(message(res), "node/host-1 has no agent address (agent not running?)");
  add_vm("web-2", "gone");
  res = request("vms/web-2/log");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(message(res), "nodes \"gone\" not found");
  EXPECT_TRUE(reader_.calls().empty());
}

TEST_F(VmLog, UnreachableAgentIs503NamingNodeAndAddress) {
  add_node("host-1", kAddress);
  add_vm("web-1", "host-1");
  reader_.failures[kAddress] = make_error(
      ErrorCode::kUnavailable, "Failed to connect to 127.0.0.1 port 4100: Connection refused");
  HttpResponse res = request("vms/web-1/log");
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(message(res),
            "cannot reach agent of node/host-1 at 127.0.0.1:4100: Failed to connect to 127.0.0.1 "
            "port 4100: Connection refused");
  reader_.failures[kAddress] =
      make_error(ErrorCode::kTimeout, "Operation timed out after 10000 milliseconds");
  res = request("vms/web-1/log");
  EXPECT_EQ(res.status, 503);
  EXPECT_NE(
      message(res).find("cannot reach agent of node/host-1 at 127.0.0.1:4100: Operation timed out"),
      std::string::npos);
  reader_.failures[kAddress] =
      make_error(ErrorCode::kTooLarge, "its answer is longer than 16 bytes");
  res = request("vms/web-1/log");
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(message(res), "agent of node/host-1: its answer is longer than 16 bytes");
}

TEST_F(VmLog, AgentErrorAnswersKeepTheirReasonAndASensibleCode) {
  add_node("host-1", kAddress);
  add_vm("web-1", "host-1");
  struct Case {
    int agent_status;
    std::string agent_body;
    int status;
    std::string message;
  };
  const std::vector<Case> cases = {
      {404, "no log for vm/web-1 on this node (the sim driver keeps none)\n", 404,
       "agent of node/host-1: no log for vm/web-1 on this node (the sim driver keeps none)"},
      {400, "tailLines must be a non-negative integer, not \"x\"\n", 400,
       "agent of node/host-1: tailLines must be a non-negative integer, not \"x\""},
      {401, "the signature does not match\n", 503,
       "agent of node/host-1: it refused the controller's signature (HTTP 401: the signature "
       "does not match); its clock may be off, or it has not yet heard this controller's key in "
       "a heartbeat answer"},
      {503, "this agent has no endpoint key yet; try again shortly\n", 503,
       "agent of node/host-1: this agent has no endpoint key yet; try again shortly"},
      {500, "", 503, "agent of node/host-1: HTTP 500"},
  };
  for (const Case& c : cases) {
    reader_.replies[kAddress] = {c.agent_status, c.agent_body};
    HttpResponse res = request("vms/web-1/log");
    EXPECT_EQ(res.status, c.status) << c.agent_status;
    EXPECT_EQ(message(res), c.message) << c.agent_status;
  }
  // A hostile agent's reason is cut, not relayed whole.
  reader_.replies[kAddress] = {500, std::string(100'000, 'x')};
  EXPECT_LT(message(request("vms/web-1/log")).size(), 1100u);
}

TEST_F(VmLog, WithoutAReaderIs503) {
  agent_logs_ = nullptr;
  add_node("host-1", kAddress);
  add_vm("web-1", "host-1");
  HttpResponse res = request("vms/web-1/log");
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(message(res), "this controller reads no agent logs");
}

TEST_F(VmLog, ReadsInFlightPastTheCapAre429WithRetryAfter) {
  add_node("host-1", kAddress);
  add_vm("web-1", "host-1");
  reader_.replies[kAddress] = {200, "line\n"};
  reader_.hold();
  std::vector<std::thread> readers;
  std::vector<int> statuses(options_.max_log_reads);
  for (size_t i = 0; i < options_.max_log_reads; ++i)
    readers.emplace_back([&, i] { statuses[i] = request("vms/web-1/log").status; });
  ASSERT_TRUE(reader_.wait_for_reads_in_flight(options_.max_log_reads, seconds(30)));
  HttpResponse refused = request("vms/web-1/log");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.get_header_value("Retry-After"), "1");
  EXPECT_EQ(message(refused),
            "too many VM log reads in flight: the server allows 3 at once; retry in a second");
  reader_.release();
  for (auto& t : readers) t.join();
  for (int s : statuses) EXPECT_EQ(s, 200);
  // The slots are back: the next read goes through.
  EXPECT_EQ(log_reads_.load(), 0u);
  EXPECT_EQ(request("vms/web-1/log").status, 200);
  EXPECT_EQ(reader_.calls().size(), options_.max_log_reads + 1);
}

// ---- ?follow=true

// An agent's log that grows: tail reads answer it whole, sinceBytes reads
// from the offset (from 0 past its end: replaced), at most limitBytes, each
// with the offsets, as agent/local_endpoint.cpp answers.
struct GrowingLog {
  std::string text;
  Result<AgentReply> operator()(const std::string& path) const {
    auto number = [&](const std::string& name, int64_t otherwise) {
      const size_t at = path.find(name + "=");
      return at == std::string::npos ? otherwise : std::stoll(path.substr(at + name.size() + 1));
    };
    const int64_t size = static_cast<int64_t>(text.size());
    int64_t since = number("sinceBytes", 0);
    if (since > size) since = 0;
    AgentReply reply{200, text.substr(since, number("limitBytes", size))};
    reply.start = since;
    reply.end = since + static_cast<int64_t>(reply.body.size());
    return reply;
  }
};

class VmLogFollow : public VmLog {
 protected:
  VmLogFollow() {
    add_node("host-1", kAddress);
    add_vm("web-1", "host-1");
    reader_.answer = [this](const std::string& path) { return log_(path); };
  }
  // A follow as the route starts it: `first` read up to `offset`, begun at t0_.
  std::shared_ptr<FollowSession> follow(const std::string& first, int64_t offset) {
    return std::make_shared<FollowSession>(FollowTarget{"web-1", "host-1", kAddress}, first, offset,
                                           t0_, options_.log_follow);
  }
  FollowSession::Next poll(FollowSession& s, std::chrono::milliseconds after) {
    return s.poll(*store_, reader_, t0_ + after);
  }
  // All the session has for its client; *last: the last pull's answer.
  static std::string pulled(FollowSession& s, EventSource::Pull* last = nullptr) {
    std::string out;
    EventSource::Pull p;
    do p = s.pull(out);
    while (p == EventSource::Pull::kMore);
    if (last) *last = p;
    return out;
  }
  void bind_to(const std::string& node) {
    auto stored = store_->get("VM", "web-1");
    ASSERT_TRUE(stored.ok());
    Json vm = (*stored)->parse();
    vm["spec"]["nodeName"] = node;
    ASSERT_TRUE(store_->update("VM", vm).ok());
  }

  GrowingLog log_;
  FollowClock::time_point t0_ = FollowClock::time_point{} + std::chrono::hours(1);
  static constexpr std::chrono::milliseconds kTick{500};
};

TEST_F(VmLogFollow, TheRouteAnswersTheTailThenAStreamOfEvents) {
  log_.text = "one\ntwo\n";
  HttpResponse res = request("vms/web-1/log?follow=true&tailLines=1");
  ASSERT_EQ(res.status, 200) << res.body;
  ASSERT_NE(res.events, nullptr);
  EXPECT_EQ(res.get_header_value("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(res.events_lifetime, options_.log_follow.max_time + seconds(10));
  std::string out;
  EXPECT_EQ(res.events->pull(out), EventSource::Pull::kDrained);
  EXPECT_EQ(out, "one\ntwo\n");  // the fake answers a tail read whole
  EXPECT_EQ(reader_.calls(),
            (std::vector<std::string>{"host-1 127.0.0.1:4100 /v1/logs/web-1?tailLines=1"}));
  EXPECT_EQ(log_follows_.open(), 1u) << "polled from now on (by the follower's threads)";
  res.events.reset();  // the client went: the slot is back at once
  EXPECT_EQ(request("vms/web-1/log?follow=1").status, 200);
  EXPECT_EQ(request("vms/web-1/log?follow=true").status, 200);
}

TEST_F(VmLogFollow, FollowMustBeTrueOrFalse) {
  for (const char* bad : {"yes", "2", "TRUE "}) {
    HttpResponse res = request(std::string("vms/web-1/log?follow=") + bad);
    EXPECT_EQ(res.status, 400) << bad;
    EXPECT_NE(message(res).find("invalid follow"), std::string::npos) << message(res);
  }
  EXPECT_EQ(request("vms/web-1/log?follow=false").events, nullptr);
  EXPECT_TRUE(reader_.calls().size() == 1u);
}

TEST_F(VmLogFollow, FollowsPastTheIdentitysShareAre429BeforeAnyRead) {
  HttpResponse a = request("vms/web-1/log?follow=true");
  HttpResponse b = request("vms/web-1/log?follow=true");
  ASSERT_EQ(b.status, 200);
  const size_t reads = reader_.calls().size();
  HttpResponse refused = request("vms/web-1/log?follow=true");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.get_header_value("Retry-After"), "10");
  EXPECT_EQ(message(refused),
            "too many VM log follows: user \"anonymous\" holds 2, the most one identity may; end "
            "one or retry later");
  EXPECT_EQ(reader_.calls().size(), reads);
  EXPECT_EQ(request("vms/web-1/log").status, 200) << "plain reads are not follows";
  // A refused follow (no such VM) gives its slot back.
  a.events.reset();
  EXPECT_EQ(request("vms/ghost/log?follow=true").status, 404);
  EXPECT_EQ(request("vms/web-1/log?follow=true").status, 200);
}

TEST_F(VmLogFollow, AnAgentWithoutOffsetsCannotBeFollowed) {
  reader_.answer = nullptr;
  reader_.replies[kAddress] = {200, "old agent\n"};
  HttpResponse res = request("vms/web-1/log?follow=true");
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(message(res),
            "agent of node/host-1 cannot follow logs (it is older than this controller); read "
            "without follow");
  EXPECT_EQ(request("vms/web-1/log?follow=true").status, 503) << "the slot was given back";
}

TEST_F(VmLogFollow, PollsAskFromTheOffsetAndPassOnWhatWasWrittenSince) {
  log_.text = "one\n";
  auto s = follow("one\n", 4);
  EXPECT_EQ(poll(*s, kTick), FollowSession::Next::kLater);
  EXPECT_EQ(pulled(*s), "one\n");
  log_.text += "two\n";
  EXPECT_EQ(poll(*s, 2 * kTick), FollowSession::Next::kLater);
  log_.text += "three\n";
  EXPECT_EQ(poll(*s, 3 * kTick), FollowSession::Next::kLater);
  EXPECT_EQ(pulled(*s), "two\nthree\n");
  EXPECT_EQ(reader_.calls(),
            (std::vector<std::string>{"host-1 127.0.0.1:4100 /v1/logs/web-1?sinceBytes=4&limitBytes=8",
                                      "host-1 127.0.0.1:4100 /v1/logs/web-1?sinceBytes=4&limitBytes=8",
                                      "host-1 127.0.0.1:4100 /v1/logs/web-1?sinceBytes=8&limitBytes=8"}));
}

TEST_F(VmLogFollow, AFullPartIsFollowedAtOnceAndASlowClientStopsTheReads) {
  log_.text = std::string(100, 'x');
  auto s = follow("", 0);
  // chunk_bytes 8: a full part means more is there.
  EXPECT_EQ(poll(*s, kTick), FollowSession::Next::kSoon);
  for (int i = 0; i < 3; ++i) poll(*s, kTick);
  EXPECT_EQ(reader_.calls().size(), 4u);
  // max_buffered 32: the client has not pulled 32 bytes: no read until it does.
  EXPECT_EQ(poll(*s, kTick), FollowSession::Next::kLater);
  EXPECT_EQ(reader_.calls().size(), 4u);
  EXPECT_EQ(pulled(*s), std::string(32, 'x'));
  poll(*s, kTick);
  EXPECT_EQ(reader_.calls().size(), 5u);
  EXPECT_EQ(pulled(*s), std::string(8, 'x')) << "nothing lost, nothing twice";
}

TEST_F(VmLogFollow, ADeletedVmEndsTheStreamWithALineSayingSo) {
  log_.text = "partial";
  auto s = follow("partial", 7);
  ASSERT_TRUE(store_->remove("VM", "web-1").ok());
  EXPECT_EQ(poll(*s, kTick), FollowSession::Next::kDone);
  EventSource::Pull last;
  EXPECT_EQ(pulled(*s, &last), "partial\ncorral: follow ended: vm/web-1 was deleted\n")
      << "the line starts on a line of its own";
  EXPECT_EQ(last, EventSource::Pull::kEnded);
}

TEST_F(VmLogFollow, AVmBoundElsewhereEndsTheStream) {
  auto s = follow("", 0);
  bind_to("host-2");
  EXPECT_EQ(poll(*s, kTick), FollowSession::Next::kDone);
  EXPECT_EQ(pulled(*s),
            "corral: follow ended: vm/web-1 moved to node/host-2; follow it again to read its log "
            "there\n");
}

TEST_F(VmLogFollow, AnUnreachableAgentEndsTheStreamWithAnErrorAfterItsGrace) {
  auto s = follow("one\n", 4);
  reader_.answer = nullptr;
  reader_.failures[kAddress] = make_error(ErrorCode::kUnavailable, "Connection refused");
  EXPECT_EQ(poll(*s, kTick), FollowSession::Next::kLater);
  EXPECT_EQ(poll(*s, kTick + options_.log_follow.agent_grace / 2), FollowSession::Next::kLater);
  EXPECT_EQ(pulled(*s), "one\n");
  EXPECT_EQ(poll(*s, kTick + options_.log_follow.agent_grace), FollowSession::Next::kDone);
  EventSource::Pull last;
  EXPECT_EQ(pulled(*s, &last),
            "corral: follow ended: error: cannot reach agent of node/host-1 at 127.0.0.1:4100: "
            "Connection refused\n");
  EXPECT_EQ(last, EventSource::Pull::kEnded);
}

TEST_F(VmLogFollow, AnAgentBackWithinItsGraceKeepsTheFollow) {
  log_.text = "one\n";
  auto s = follow("one\n", 4);
  reader_.answer = nullptr;
  reader_.failures[kAddress] = make_error(ErrorCode::kUnavailable, "Connection refused");
  EXPECT_EQ(poll(*s, kTick), FollowSession::Next::kLater);
  reader_.answer = [this](const std::string& path) { return log_(path); };
  log_.text += "two\n";
  EXPECT_EQ(poll(*s, 2 * kTick), FollowSession::Next::kLater);
  reader_.answer = nullptr;
  EXPECT_EQ(poll(*s, kTick + options_.log_follow.agent_grace), FollowSession::Next::kLater)
      << "the grace counts from the first failure in a row";
  EXPECT_EQ(pulled(*s), "one\ntwo\n");
}

TEST_F(VmLogFollow, AReplacedLogIsSaidAndFollowedFromItsStart) {
  auto s = follow("one\ntwo\n", 8);
  log_.text = "new\n";
  EXPECT_EQ(poll(*s, kTick), FollowSession::Next::kLater);
  EXPECT_EQ(pulled(*s), "one\ntwo\ncorral: the log of vm/web-1 was replaced; following the new one\nnew\n");
}

TEST_F(VmLogFollow, AnAgentThatStopsSendingOffsetsEndsItAtOnce) {
  auto s = follow("", 0);
  reader_.answer = nullptr;
  reader_.replies[kAddress] = {200, "whole log\n"};
  EXPECT_EQ(poll(*s, kTick), FollowSession::Next::kDone);
  EXPECT_EQ(pulled(*s).rfind("corral: follow ended: error: agent of node/host-1 answered without", 0), 0u);
}

TEST_F(VmLogFollow, TheServersLongestFollowEndsIt) {
  auto s = follow("", 0);
  EXPECT_EQ(poll(*s, options_.log_follow.max_time), FollowSession::Next::kDone);
  EXPECT_EQ(pulled(*s),
            "corral: follow ended: the server ends a follow after 3600 s; run it again to go on\n");
}

TEST_F(VmLogFollow, AGoneClientEndsThePollsAndIsNotWoken) {
  auto s = follow("", 0);
  int wakes = 0;
  s->start([&] { ++wakes; });
  log_.text = "one\n";
  poll(*s, kTick);
  EXPECT_EQ(wakes, 1);
  s->cancel();
  log_.text += "two\n";
  EXPECT_EQ(poll(*s, 2 * kTick), FollowSession::Next::kDone);
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(reader_.calls().size(), 1u);
}

}  // namespace server_vm_log_test
}  // namespace corral::server
