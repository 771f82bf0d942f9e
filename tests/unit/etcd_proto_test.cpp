// The etcd client's translation between etcd_types.h and etcd's protobuf
// messages, gRPC statuses as Errors, and endpoint URLs as gRPC targets. The
// wire itself is exercised against a real etcd in tests/integration/etcd_client_test.cpp.
#include "controller/store/etcd/etcd_proto.h"

#include <gtest/gtest.h>

#include "controller/store/etcd/etcd_channel.h"

namespace corral::etcd {
namespace etcd_proto_test {

TEST(EtcdProto, PrefixEndIncrementsTheLastByteBelow0xff) {
  EXPECT_EQ(prefix_end("/corral/"), "/corral0");
  EXPECT_EQ(prefix_end("a\xff"), "b");
  EXPECT_EQ(prefix_end("\xff\xff"), std::string(1, '\0'));
  EXPECT_EQ(prefix_end(""), std::string(1, '\0'));
}

TEST(EtcdProto, ACreateIfAbsentCompareSaysItsTargetEvenAtZero) {
  TxnRequest txn;
  txn.compare.push_back(Compare::absent("/k"));
  txn.compare.push_back(Compare::mod_revision("/m", Compare::Op::kNotEqual, 7));
  txn.success.push_back(PutRequest{"/k", std::string("v\0w", 3), 5, true});
  txn.failure.push_back(RangeRequest{"/k", "", 1, 0, false, false});
  txn.failure.push_back(DeleteRequest{"a", "b", true});
  pb::TxnRequest out;
  to_proto(txn, &out);
  ASSERT_EQ(out.compare_size(), 2);
  EXPECT_EQ(out.compare(0).target(), pb::Compare::CREATE);
  EXPECT_EQ(out.compare(0).result(), pb::Compare::EQUAL);
  // proto3 would leave a plain 0 out; in the oneof it is sent, naming CREATE.
  EXPECT_EQ(out.compare(0).target_union_case(), pb::Compare::kCreateRevision);
  EXPECT_EQ(out.compare(1).target(), pb::Compare::MOD);
  EXPECT_EQ(out.compare(1).result(), pb::Compare::NOT_EQUAL);
  EXPECT_EQ(out.compare(1).mod_revision(), 7);
  ASSERT_EQ(out.success_size(), 1);
  EXPECT_EQ(out.success(0).request_put().value(), std::string("v\0w", 3));  // bytes, not text
  EXPECT_EQ(out.success(0).request_put().lease(), 5);
  EXPECT_TRUE(out.success(0).request_put().prev_kv());
  ASSERT_EQ(out.failure_size(), 2);
  EXPECT_EQ(out.failure(0).request_range().limit(), 1);
  EXPECT_EQ(out.failure(1).request_delete_range().range_end(), "b");
}

TEST(EtcdProto, ATxnAnswerHoldsEachBranchOpsAnswerInOrder) {
  pb::TxnResponse in;
  in.mutable_header()->set_revision(42);
  in.set_succeeded(false);
  auto* range = in.add_responses()->mutable_response_range();
  auto* kv = range->add_kvs();
  kv->set_key("/k");
  kv->set_value("v");
  kv->set_create_revision(3);
  kv->set_mod_revision(9);
  kv->set_version(4);
  range->set_count(1);
  in.add_responses()->mutable_response_put()->mutable_header()->set_revision(42);
  TxnResult out = from_proto(in);
  EXPECT_FALSE(out.succeeded);
  EXPECT_EQ(out.revision, 42);
  ASSERT_EQ(out.responses.size(), 2u);
  const auto& r = std::get<RangeResult>(out.responses[0]);
  ASSERT_EQ(r.kvs.size(), 1u);
  EXPECT_EQ(r.kvs[0], (KeyValue{"/k", "v", 3, 9, 4, 0}));
  EXPECT_FALSE(std::get<PutResult>(out.responses[1]).prev_kv.has_value());
}

TEST(EtcdProto, WatchAnswersCarryDeletesAndPreviousPairs) {
  pb::WatchResponse in;
  in.mutable_header()->set_revision(12);
  in.set_watch_id(0);
  auto* put = in.add_events();
  put->mutable_kv()->set_key("/a");
  put->mutable_kv()->set_mod_revision(11);
  auto* del = in.add_events();
  del->set_type(::mvccpb::Event::DELETE);
  del->mutable_kv()->set_key("/b");
  del->mutable_kv()->set_mod_revision(12);
  del->mutable_prev_kv()->set_value("old");
  WatchResponse out = from_proto(in);
  EXPECT_EQ(out.revision, 12);
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(out.events[0].type, WatchEvent::Type::kPut);
  EXPECT_FALSE(out.events[0].prev_kv.has_value());
  EXPECT_EQ(out.events[1].type, WatchEvent::Type::kDelete);
  EXPECT_EQ(out.events[1].kv.mod_revision, 12);
  ASSERT_TRUE(out.events[1].prev_kv.has_value());
  EXPECT_EQ(out.events[1].prev_kv->value, "old");

  pb::WatchResponse canceled;
  canceled.set_canceled(true);
  canceled.set_compact_revision(4);
  WatchResponse c = from_proto(canceled);
  EXPECT_TRUE(c.canceled);
  EXPECT_EQ(c.compact_revision, 4);
}

TEST(EtcdProto, StatusesBecomeErrorsWithEtcdsMessage) {
  // Messages as etcd 3.4 sends them (rpctypes), with their gRPC codes.
  Error compacted = status_error({grpc::StatusCode::OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted"});
  EXPECT_EQ(compacted.code, ErrorCode::kGone);
  EXPECT_EQ(compacted.message, "etcdserver: mvcc: required revision has been compacted");
  EXPECT_EQ(status_error({grpc::StatusCode::OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision"}).code,
            ErrorCode::kBadRequest);
  EXPECT_EQ(status_error({grpc::StatusCode::NOT_FOUND, "etcdserver: requested lease not found"}).code,
            ErrorCode::kNotFound);
  EXPECT_EQ(status_error({grpc::StatusCode::RESOURCE_EXHAUSTED,
                          "grpc: received message larger than max (2097160 vs. 2097152)"}).code,
            ErrorCode::kTooLarge);
  EXPECT_EQ(status_error({grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: request is too large"}).code,
            ErrorCode::kTooLarge);
  EXPECT_EQ(status_error({grpc::StatusCode::UNAVAILABLE, "etcdserver: no leader"}).code, ErrorCode::kUnavailable);
  EXPECT_EQ(status_error({grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded"}).code, ErrorCode::kTimeout);
  EXPECT_EQ(status_error({grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: key is not provided"}).code,
            ErrorCode::kBadRequest);
  Error bare = status_error({grpc::StatusCode::INTERNAL, ""});
  EXPECT_EQ(bare.code, ErrorCode::kInternal);
  EXPECT_EQ(bare.message, "gRPC code 13");
}

TEST(EtcdProto, EndpointsAreHttpUrlsAndBecomeHostPortTargets) {
  EXPECT_EQ(*grpc_target("http://127.0.0.1:2379"), "127.0.0.1:2379");
  EXPECT_EQ(*grpc_target("http://localhost:2379/"), "localhost:2379");
  EXPECT_EQ(*grpc_target("127.0.0.1:2379"), "127.0.0.1:2379");
  auto tls = grpc_target("https://etcd:2379");
  ASSERT_FALSE(tls);
  EXPECT_EQ(tls.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(tls.error().message.find("https is not supported"), std::string::npos);
  EXPECT_FALSE(grpc_target("http://etcd:2379/v3/kv"));
  EXPECT_FALSE(grpc_target(""));
}

}  // namespace etcd_proto_test
}  // namespace corral::etcd
