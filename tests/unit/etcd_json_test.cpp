// The etcd client's JSON (controller/store/etcd/etcd_json.h): the shapes the
// gRPC-gateway of etcd 3.4.23 was seen to send, read into typed answers and
// Errors, and requests written with the field names of rpc.proto.
#include "controller/store/etcd/etcd_json.h"

#include <gtest/gtest.h>

#include <string>

#include "api/json.h"

namespace corral::etcd {
namespace etcd_json_test {

TEST(EtcdJson, PrefixEndIncrementsTheLastByteBelow0xff) {
  EXPECT_EQ(prefix_end("/p/"), "/p0");
  EXPECT_EQ(prefix_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_end(std::string("\xff\xff", 2)), std::string(1, '\0'));
  EXPECT_EQ(prefix_end(""), std::string(1, '\0'));
}

TEST(EtcdJson, ARangeAnswerReadsInt64StringsBase64AndAbsentFieldsAsZero) {
  // As etcd sent it: the lease and "more" left out, int64s as strings.
  auto r = decode_range(
      R"({"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709",)"
      R"("revision":"2","raft_term":"2"},"kvs":[{"key":"Zm9v","create_revision":"2",)"
      R"("mod_revision":"2","version":"1","value":"YmFy"}],"count":"1"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->revision, 2);
  ASSERT_EQ(r->kvs.size(), 1u);
  EXPECT_EQ(r->kvs[0], (KeyValue{"foo", "bar", 2, 2, 1, 0}));
  EXPECT_EQ(r->count, 1);
  EXPECT_FALSE(r->more);

  auto empty = decode_range(R"({"header":{"revision":"7"}})");
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_TRUE(empty->kvs.empty());
  EXPECT_EQ(empty->count, 0);
}

TEST(EtcdJson, AMalformedAnswerIsInternalAndSaysWhy) {
  auto bad_base64 = decode_range(R"({"kvs":[{"key":"not base64!"}]})");
  ASSERT_FALSE(bad_base64.ok());
  EXPECT_EQ(bad_base64.error().code, ErrorCode::kInternal);
  EXPECT_EQ(bad_base64.error().message, "malformed answer: \"key\" is not base64");
  auto bad_int = decode_range(R"({"count":"twelve"})");
  ASSERT_FALSE(bad_int.ok());
  EXPECT_EQ(bad_int.error().message, "malformed answer: \"count\" is not an integer: twelve");
  EXPECT_FALSE(decode_txn("{").ok());
  EXPECT_FALSE(decode_txn(R"({"responses":[{"response_unknown":{}}]})").ok());
}

TEST(EtcdJson, ATxnAnswerHoldsEachBranchOpsAnswer) {
  auto r = decode_txn(
      R"({"header":{"revision":"4"},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"4"}}},)"
      R"({"response_delete_range":{"header":{"revision":"4"},"deleted":"1"}},)"
      R"({"response_range":{"header":{"revision":"4"},"kvs":[{"key":"Zm9v","value":"YmF6"}],"count":"1"}}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->succeeded);
  ASSERT_EQ(r->responses.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<PutResult>(r->responses[0]));
  EXPECT_EQ(std::get<DeleteResult>(r->responses[1]).deleted, 1);
  EXPECT_EQ(std::get<RangeResult>(r->responses[2]).kvs.at(0).value, "baz");
  // A failed compare leaves "succeeded" out.
  auto failed = decode_txn(R"({"header":{"revision":"3"},"responses":[]})");
  ASSERT_TRUE(failed.ok());
  EXPECT_FALSE(failed->succeeded);
}

TEST(EtcdJson, ATxnRequestUsesRpcProtoNamesAndStringInt64s) {
  TxnRequest t;
  t.compare = {Compare::mod_revision("k", Compare::Op::kEqual, 5), Compare::absent("n"),
               Compare::value_is("v", Compare::Op::kNotEqual, "x")};
  t.success = {PutRequest{"k", "v", 9, true}};
  t.failure = {RangeRequest{"k"}, DeleteRequest{"a", "b", true}};
  auto j = parse_json(encode_txn(t));
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["compare"][0].dump(), R"({"result":"EQUAL","key":"aw==","target":"MOD","mod_revision":"5"})");
  EXPECT_EQ((*j)["compare"][1].dump(),
            R"({"result":"EQUAL","key":"bg==","target":"CREATE","create_revision":"0"})");
  EXPECT_EQ((*j)["compare"][2].dump(), R"({"result":"NOT_EQUAL","key":"dg==","target":"VALUE","value":"eA=="})");
  EXPECT_EQ((*j)["success"][0].dump(),
            R"({"request_put":{"key":"aw==","value":"dg==","lease":"9","prev_kv":true}})");
  EXPECT_EQ((*j)["failure"][0].dump(), R"({"request_range":{"key":"aw=="}})");
  EXPECT_EQ((*j)["failure"][1].dump(), R"({"request_delete_range":{"key":"YQ==","range_end":"Yg==","prev_kv":true}})");
}

TEST(EtcdJson, GatewayErrorBodiesBecomeErrorsWithEtcdsMessage) {
  // Bodies as etcd 3.4.23 answered them (HTTP status, gRPC code).
  Error compacted = decode_error(400, R"({"error":"etcdserver: mvcc: required revision has been compacted",)"
                                      R"("message":"etcdserver: mvcc: required revision has been compacted","code":11})");
  EXPECT_EQ(compacted.code, ErrorCode::kGone);
  EXPECT_EQ(compacted.message, "etcdserver: mvcc: required revision has been compacted");
  Error future = decode_error(400, R"({"error":"x","message":"etcdserver: mvcc: required revision is a future revision","code":11})");
  EXPECT_EQ(future.code, ErrorCode::kBadRequest);
  Error lease = decode_error(404, R"({"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5})");
  EXPECT_EQ(lease.code, ErrorCode::kNotFound);
  Error big = decode_error(429, R"j({"message":"grpc: received message larger than max (2097160 vs. 2097152)","code":8})j");
  EXPECT_EQ(big.code, ErrorCode::kTooLarge);
  Error no_leader = decode_error(503, R"({"message":"etcdserver: no leader","code":14})");
  EXPECT_EQ(no_leader.code, ErrorCode::kUnavailable);
  Error no_key = decode_error(400, R"({"message":"etcdserver: key is not provided","code":3})");
  EXPECT_EQ(no_key.code, ErrorCode::kBadRequest);
  // Not the gateway's shape (GET on a POST-only path): the status and the text.
  Error plain = decode_error(405, "Method Not Allowed\n");
  EXPECT_EQ(plain.code, ErrorCode::kBadRequest);
  EXPECT_EQ(plain.message, "HTTP 405: Method Not Allowed");
}

TEST(EtcdJson, WatchLinesAreCreatedEventsProgressOrCanceled) {
  auto created = decode_watch_line(R"({"result":{"header":{"revision":"5"},"created":true}})");
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_TRUE(created->created);
  EXPECT_EQ(created->revision, 5);

  // A PUT event leaves "type" out (it is 0); a DELETE's kv has no value or version.
  auto events = decode_watch_line(
      R"({"result":{"header":{"revision":"7"},"events":[{"kv":{"key":"Zm9v","create_revision":"2",)"
      R"("mod_revision":"6","version":"3","value":"dzE="},"prev_kv":{"key":"Zm9v","value":"YmF6"}},)"
      R"({"type":"DELETE","kv":{"key":"Zm9v","mod_revision":"7"}}]}})");
  ASSERT_TRUE(events.ok()) << events.error().message;
  ASSERT_EQ(events->events.size(), 2u);
  EXPECT_EQ(events->events[0].type, WatchEvent::Type::kPut);
  EXPECT_EQ(events->events[0].kv.value, "w1");
  ASSERT_TRUE(events->events[0].prev_kv.has_value());
  EXPECT_EQ(events->events[0].prev_kv->value, "baz");
  EXPECT_EQ(events->events[1].type, WatchEvent::Type::kDelete);
  EXPECT_EQ(events->events[1].kv.mod_revision, 7);
  EXPECT_FALSE(events->events[1].prev_kv.has_value());

  auto progress = decode_watch_line(R"({"result":{"header":{"revision":"7"},"watch_id":"-1"}})");
  ASSERT_TRUE(progress.ok());
  EXPECT_TRUE(progress->events.empty());
  EXPECT_FALSE(progress->created || progress->canceled);

  auto canceled = decode_watch_line(
      R"({"result":{"header":{"raft_term":"2"},"canceled":true,"compact_revision":"4"}})");
  ASSERT_TRUE(canceled.ok());
  EXPECT_TRUE(canceled->canceled);
  EXPECT_EQ(canceled->compact_revision, 4);

  // grpc-gateway's stream error line (not seen from etcd in these tests).
  auto error = decode_watch_line(R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader"}})");
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(error.error().message, "etcdserver: no leader");
}

TEST(EtcdJson, KeepaliveAndStatusAnswers) {
  auto alive = decode_lease_keepalive(R"({"result":{"header":{"revision":"2"},"ID":"41","TTL":"30"}})");
  ASSERT_TRUE(alive.ok());
  EXPECT_EQ(*alive, 30);
  auto gone = decode_lease_keepalive(R"({"result":{"header":{"revision":"2"},"ID":"41"}})");
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(*gone, 0);

  // StatusResponse's fields are camelCase in rpc.proto, and so on the wire.
  auto s = decode_status(
      R"({"header":{"member_id":"13668033151171901709","revision":"2","raft_term":"2"},"version":"3.4.23",)"
      R"("dbSize":"20480","leader":"13668033151171901709","raftIndex":"5","raftTerm":"2"})");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->version, "3.4.23");
  EXPECT_EQ(s->db_size, 20480);
  EXPECT_EQ(s->leader, 13668033151171901709u);
  EXPECT_EQ(s->member_id, s->leader);
  EXPECT_EQ(s->raft_term, 2u);
  EXPECT_EQ(s->revision, 2);
}

}  // namespace etcd_json_test
}  // namespace corral::etcd
