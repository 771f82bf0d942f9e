// etcd_types.h's typed requests and answers to and from etcd's protobuf
// messages (proto/rpc.proto), and gRPC statuses to Corral's Error.
// Internal to controller/store/etcd: only the client and the watch include
// it, so the generated headers stay out of everything else's compile.
// Pure functions: no I/O, thread-safe.
#pragma once

#include <grpcpp/support/status.h>

#include <string>

#include "base/error.h"
#include "controller/store/etcd/etcd_types.h"
#include "controller/store/etcd/proto/rpc.pb.h"

namespace corral::etcd {

namespace pb = ::etcdserverpb;

void to_proto(const RangeRequest& in, pb::RangeRequest* out);
void to_proto(const PutRequest& in, pb::PutRequest* out);
void to_proto(const DeleteRequest& in, pb::DeleteRangeRequest* out);
void to_proto(const TxnRequest& in, pb::TxnRequest* out);

KeyValue from_proto(const ::mvccpb::KeyValue& in);
RangeResult from_proto(const pb::RangeResponse& in);
PutResult from_proto(const pb::PutResponse& in);
DeleteResult from_proto(const pb::DeleteRangeResponse& in);
TxnResult from_proto(const pb::TxnResponse& in);
Status from_proto(const pb::StatusResponse& in);
WatchResponse from_proto(const pb::WatchResponse& in);

// A failed call's status as an Error with etcd's message ("etcdserver:
// mvcc: required revision has been compacted"). Mapping: OutOfRange with
// "compacted" -> kGone (a future revision -> kBadRequest); NotFound ("requested
// lease not found") -> kNotFound; Unavailable ("no leader", "stopped", or the
// connection) -> kUnavailable; DeadlineExceeded -> kTimeout; InvalidArgument
// -> kBadRequest, except "request is too large" and ResourceExhausted
// "received message larger than max" -> kTooLarge; the rest in the .cpp.
Error status_error(const grpc::Status& status);
ErrorCode grpc_error_code(int code, const std::string& message);

}  // namespace corral::etcd
