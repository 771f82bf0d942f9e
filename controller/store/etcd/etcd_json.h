// The gRPC-gateway's JSON for the typed requests and answers of etcd_types.h.
// Keys and values are base64 on the wire; int64 fields are written as JSON
// strings and read from strings or numbers; a field left out is zero.
// Decoders return kInternal "malformed answer: ..." for JSON they cannot read.
// Pure functions: no I/O, thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "base/error.h"
#include "controller/store/etcd/etcd_types.h"

namespace corral::etcd {

std::string encode_range(const RangeRequest& r);
std::string encode_put(const PutRequest& r);
std::string encode_delete(const DeleteRequest& r);
std::string encode_txn(const TxnRequest& r);
std::string encode_compact(int64_t revision, bool physical);
std::string encode_lease_grant(int64_t ttl_seconds);
std::string encode_lease_id(int64_t id);  // keepalive and revoke: {"ID":"..."}
// {"create_request":{...}}: one line of the watch stream's request body.
std::string encode_watch_create(const std::string& key, const std::string& range_end,
                                int64_t start_revision, bool prev_kv, bool progress_notify);

Result<RangeResult> decode_range(const std::string& body);
Result<PutResult> decode_put(const std::string& body);
Result<DeleteResult> decode_delete(const std::string& body);
Result<TxnResult> decode_txn(const std::string& body);
Result<LeaseGrant> decode_lease_grant(const std::string& body);
// The keepalive stream's one answer ({"result":{"ID":..,"TTL":..}}): the TTL
// left; 0 when the lease is gone (etcd then leaves TTL out).
Result<int64_t> decode_lease_keepalive(const std::string& body);
Result<Status> decode_status(const std::string& body);
// The header's revision of any answer (compaction, lease revoke).
Result<int64_t> decode_header_revision(const std::string& body);
// One line of a watch stream: {"result":{WatchResponse}} or {"error":{...}}.
// A stream-level error line becomes the Error it names.
Result<WatchResponse> decode_watch_line(const std::string& line);

// A non-2xx answer's body, {"error":"...","code":N,"message":"..."} with N a
// gRPC code, as an Error whose message is etcd's. Code 11 (OutOfRange) with
// "compacted" in it is kGone; the other gRPC codes map as written in the .cpp.
Error decode_error(int http_status, const std::string& body);

}  // namespace corral::etcd
