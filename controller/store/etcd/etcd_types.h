// The typed requests and answers of etcd's v3 KV, lease and maintenance API,
// as the JSON gRPC-gateway carries them (api/etcdserverpb/rpc.proto, v3.4).
// Keys and values are raw bytes here; base64 is the wire's business
// (etcd_json.h). A field etcd leaves out of an answer is zero/false/empty.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace corral::etcd {

// mvccpb.KeyValue.
struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;  // 0: the key does not exist (a compare target)
  int64_t mod_revision = 0;
  int64_t version = 0;          // 1 on create, +1 per put; a DELETE event's kv has 0
  int64_t lease = 0;            // the lease the key is attached to; 0: none
  bool operator==(const KeyValue&) const = default;
};

// RangeRequest. `range_end` empty: the single key; prefix_end(key): every key
// with that prefix; "\0": every key >= key.
struct RangeRequest {
  std::string key;
  std::string range_end;
  int64_t limit = 0;     // 0: no limit
  int64_t revision = 0;  // 0: the newest; older than the compaction: kGone
  bool keys_only = false;
  bool count_only = false;
};

struct RangeResult {
  int64_t revision = 0;  // the header's: the store's revision when it answered
  std::vector<KeyValue> kvs;
  bool more = false;     // limit cut the answer short
  int64_t count = 0;     // keys in the range, whatever the limit
};

struct PutRequest {
  std::string key;
  std::string value;
  int64_t lease = 0;     // attach the key to this lease; 0: none
  bool prev_kv = false;  // answer with the value it replaced
};

struct PutResult {
  int64_t revision = 0;
  std::optional<KeyValue> prev_kv;  // when asked and the key existed
};

struct DeleteRequest {
  std::string key;
  std::string range_end;  // as RangeRequest's
  bool prev_kv = false;   // answer with the deleted pairs
};

struct DeleteResult {
  int64_t revision = 0;
  int64_t deleted = 0;
  std::vector<KeyValue> prev_kvs;  // when asked
};

// One condition of a transaction: `target` of `key` compared with a value.
struct Compare {
  enum class Op { kEqual, kGreater, kLess, kNotEqual };
  enum class Target { kVersion, kCreate, kMod, kValue, kLease };
  Op op = Op::kEqual;
  Target target = Target::kMod;
  std::string key;
  std::string range_end;  // empty: one key; else every key in the range must match
  int64_t number = 0;     // for kVersion, kCreate, kMod, kLease
  std::string value;      // for kValue

  // The common conditions: compare-and-swap and create-if-absent.
  static Compare mod_revision(std::string key, Op op, int64_t revision);
  static Compare create_revision(std::string key, Op op, int64_t revision);
  static Compare version(std::string key, Op op, int64_t version);
  static Compare value_is(std::string key, Op op, std::string value);
  static Compare absent(std::string key) { return create_revision(std::move(key), Op::kEqual, 0); }
};

using TxnOp = std::variant<RangeRequest, PutRequest, DeleteRequest>;
using TxnOpResult = std::variant<RangeResult, PutResult, DeleteResult>;

struct TxnRequest {
  std::vector<Compare> compare;  // all must hold for `success` to run
  std::vector<TxnOp> success;
  std::vector<TxnOp> failure;
};

struct TxnResult {
  bool succeeded = false;
  int64_t revision = 0;
  std::vector<TxnOpResult> responses;  // one per op of the branch that ran, in order
};

struct LeaseGrant {
  int64_t id = 0;
  int64_t ttl = 0;  // seconds, as granted
};

struct Status {
  std::string version;  // "3.4.23"
  int64_t db_size = 0;  // bytes
  uint64_t member_id = 0;
  uint64_t leader = 0;  // member id of the leader; 0: none
  uint64_t raft_term = 0;
  int64_t revision = 0;
};

// One change seen by a watch (mvccpb.Event).
struct WatchEvent {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  KeyValue kv;  // a DELETE's kv holds the key and the deleting revision (mod_revision)
  std::optional<KeyValue> prev_kv;  // when the watch asked for it and the key existed
};

// One answer on a watch stream (WatchResponse).
struct WatchResponse {
  int64_t revision = 0;  // the header's
  int64_t watch_id = 0;
  bool created = false;
  bool canceled = false;
  int64_t compact_revision = 0;  // > 0: the start revision was compacted away
  std::string cancel_reason;
  std::vector<WatchEvent> events;  // empty and not created/canceled: a progress notification
};

// The end of a key range holding every key that starts with `prefix`: its last
// byte below 0xff plus one, the bytes after it dropped. A prefix of only 0xff
// bytes (or empty) has no such end: "\0", which etcd reads as "every key >= key".
std::string prefix_end(const std::string& prefix);

}  // namespace corral::etcd
