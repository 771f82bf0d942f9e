#include "controller/store/etcd/etcd_proto.h"

#include <utility>

namespace corral::etcd {

namespace {

pb::Compare::CompareResult proto_compare_op(Compare::Op op) {
  switch (op) {
    case Compare::Op::kEqual: return pb::Compare::EQUAL;
    case Compare::Op::kGreater: return pb::Compare::GREATER;
    case Compare::Op::kLess: return pb::Compare::LESS;
    case Compare::Op::kNotEqual: return pb::Compare::NOT_EQUAL;
  }
  return pb::Compare::EQUAL;
}

void proto_compare(const Compare& in, pb::Compare* out) {
  out->set_result(proto_compare_op(in.op));
  out->set_key(in.key);
  if (!in.range_end.empty()) out->set_range_end(in.range_end);
  // The target's field is a oneof: set even at 0, so the compare says which.
  switch (in.target) {
    case Compare::Target::kVersion:
      out->set_target(pb::Compare::VERSION);
      out->set_version(in.number);
      break;
    case Compare::Target::kCreate:
      out->set_target(pb::Compare::CREATE);
      out->set_create_revision(in.number);
      break;
    case Compare::Target::kMod:
      out->set_target(pb::Compare::MOD);
      out->set_mod_revision(in.number);
      break;
    case Compare::Target::kValue:
      out->set_target(pb::Compare::VALUE);
      out->set_value(in.value);
      break;
    case Compare::Target::kLease:
      out->set_target(pb::Compare::LEASE);
      out->set_lease(in.number);
      break;
  }
}

void proto_op(const TxnOp& in, pb::RequestOp* out) {
  if (const auto* r = std::get_if<RangeRequest>(&in)) {
    to_proto(*r, out->mutable_request_range());
  } else if (const auto* p = std::get_if<PutRequest>(&in)) {
    to_proto(*p, out->mutable_request_put());
  } else {
    to_proto(std::get<DeleteRequest>(in), out->mutable_request_delete_range());
  }
}

TxnOpResult op_result(const pb::ResponseOp& in) {
  switch (in.response_case()) {
    case pb::ResponseOp::kResponsePut: return from_proto(in.response_put());
    case pb::ResponseOp::kResponseDeleteRange: return from_proto(in.response_delete_range());
    case pb::ResponseOp::kResponseRange:
    default:  // a nested txn (never sent) or an empty op: an empty range
      return from_proto(in.response_range());
  }
}

}  // namespace

void to_proto(const RangeRequest& in, pb::RangeRequest* out) {
  out->set_key(in.key);
  if (!in.range_end.empty()) out->set_range_end(in.range_end);
  out->set_limit(in.limit);
  out->set_revision(in.revision);
  out->set_keys_only(in.keys_only);
  out->set_count_only(in.count_only);
}

void to_proto(const PutRequest& in, pb::PutRequest* out) {
  out->set_key(in.key);
  out->set_value(in.value);
  out->set_lease(in.lease);
  out->set_prev_kv(in.prev_kv);
}

void to_proto(const DeleteRequest& in, pb::DeleteRangeRequest* out) {
  out->set_key(in.key);
  if (!in.range_end.empty()) out->set_range_end(in.range_end);
  out->set_prev_kv(in.prev_kv);
}

void to_proto(const TxnRequest& in, pb::TxnRequest* out) {
  for (const Compare& c : in.compare) proto_compare(c, out->add_compare());
  for (const TxnOp& op : in.success) proto_op(op, out->add_success());
  for (const TxnOp& op : in.failure) proto_op(op, out->add_failure());
}

KeyValue from_proto(const ::mvccpb::KeyValue& in) {
  return KeyValue{in.key(), in.value(), in.create_revision(), in.mod_revision(), in.version(), in.lease()};
}

RangeResult from_proto(const pb::RangeResponse& in) {
  RangeResult out;
  out.revision = in.header().revision();
  out.kvs.reserve(static_cast<size_t>(in.kvs_size()));
  for (const auto& kv : in.kvs()) out.kvs.push_back(from_proto(kv));
  out.more = in.more();
  out.count = in.count();
  return out;
}

PutResult from_proto(const pb::PutResponse& in) {
  PutResult out;
  out.revision = in.header().revision();
  if (in.has_prev_kv()) out.prev_kv = from_proto(in.prev_kv());
  return out;
}

DeleteResult from_proto(const pb::DeleteRangeResponse& in) {
  DeleteResult out;
  out.revision = in.header().revision();
  out.deleted = in.deleted();
  for (const auto& kv : in.prev_kvs()) out.prev_kvs.push_back(from_proto(kv));
  return out;
}

TxnResult from_proto(const pb::TxnResponse& in) {
  TxnResult out;
  out.succeeded = in.succeeded();
  out.revision = in.header().revision();
  out.responses.reserve(static_cast<size_t>(in.responses_size()));
  for (const auto& r : in.responses()) out.responses.push_back(op_result(r));
  return out;
}

Status from_proto(const pb::StatusResponse& in) {
  Status out;
  out.version = in.version();
  out.db_size = in.dbsize();
  out.member_id = in.header().member_id();
  out.leader = in.leader();
  out.raft_term = in.raftterm();
  out.revision = in.header().revision();
  return out;
}

WatchResponse from_proto(const pb::WatchResponse& in) {
  WatchResponse out;
  out.revision = in.header().revision();
  out.watch_id = in.watch_id();
  out.created = in.created();
  out.canceled = in.canceled();
  out.compact_revision = in.compact_revision();
  out.cancel_reason = in.cancel_reason();
  out.events.reserve(static_cast<size_t>(in.events_size()));
  for (const auto& e : in.events()) {
    WatchEvent event;
    event.type = e.type() == ::mvccpb::Event::DELETE ? WatchEvent::Type::kDelete : WatchEvent::Type::kPut;
    event.kv = from_proto(e.kv());
    if (e.has_prev_kv()) event.prev_kv = from_proto(e.prev_kv());
    out.events.push_back(std::move(event));
  }
  return out;
}

ErrorCode grpc_error_code(int code, const std::string& message) {
  // "etcdserver: request is too large" (InvalidArgument): a request over
  // etcd's --max-request-bytes (1.5 MiB by default); "received message
  // larger than max" (ResourceExhausted): over a gRPC message cap, either side.
  if ((code == grpc::StatusCode::INVALID_ARGUMENT || code == grpc::StatusCode::RESOURCE_EXHAUSTED) &&
      (message.find("too large") != std::string::npos || message.find("larger than max") != std::string::npos))
    return ErrorCode::kTooLarge;
  switch (code) {
    case grpc::StatusCode::CANCELLED: return ErrorCode::kUnavailable;
    case grpc::StatusCode::INVALID_ARGUMENT: return ErrorCode::kBadRequest;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return ErrorCode::kTimeout;
    case grpc::StatusCode::NOT_FOUND: return ErrorCode::kNotFound;  // "requested lease not found"
    case grpc::StatusCode::ALREADY_EXISTS: return ErrorCode::kAlreadyExists;
    case grpc::StatusCode::PERMISSION_DENIED: return ErrorCode::kForbidden;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return ErrorCode::kTooManyRequests;
    case grpc::StatusCode::FAILED_PRECONDITION: return ErrorCode::kConflict;
    case grpc::StatusCode::ABORTED: return ErrorCode::kConflict;
    case grpc::StatusCode::OUT_OF_RANGE:  // compacted, or a future revision
      return message.find("compacted") != std::string::npos ? ErrorCode::kGone : ErrorCode::kBadRequest;
    case grpc::StatusCode::UNIMPLEMENTED: return ErrorCode::kBadRequest;
    case grpc::StatusCode::UNAVAILABLE: return ErrorCode::kUnavailable;  // "no leader", "stopped", transport
    case grpc::StatusCode::UNAUTHENTICATED: return ErrorCode::kUnauthorized;
    default: return ErrorCode::kInternal;  // Unknown, Internal, DataLoss
  }
}

Error status_error(const grpc::Status& status) {
  std::string message = status.error_message();
  if (message.empty()) message = "gRPC code " + std::to_string(static_cast<int>(status.error_code()));
  const ErrorCode code = grpc_error_code(status.error_code(), message);  // before the message moves
  return make_error(code, std::move(message));
}

}  // namespace corral::etcd
