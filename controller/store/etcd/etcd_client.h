// EtcdClient: etcd's v3 KV, lease and maintenance API over gRPC (one
// channel per member, HTTP/2: every thread's calls share its connection), for
// the etcd Store backend and leader election. See README.md in this folder.
//
// Errors name the endpoint and the operation: "etcd http://127.0.0.1:2379:
// txn: <what>", with etcd's own message: "required revision has been
// compacted" is kGone, "requested lease not found" kNotFound, "no leader"
// kUnavailable; no connection kUnavailable; a deadline passed kTimeout.
//
// Failover: endpoints are tried in order from the last one that answered. A
// member whose channel does not connect within connect_timeout is skipped by
// every call (nothing was sent). Past that, a read (range, range-only txn,
// status, lease keepalive) moves to the next endpoint on a transport failure
// or an "unavailable" answer, each tried once. A write that was sent is never
// sent again: its failure goes back to the caller, who re-reads — and the
// next call starts at the next endpoint (a member that took the request and
// never answered, frozen or cut off, is not every later write's first try).
//
// Thread-safe: any number of threads may call one EtcdClient at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "controller/store/etcd/etcd_types.h"

namespace corral::etcd {

struct EtcdOptions {
  // "http://host:port" of each member; at least one. Tried in this order first.
  std::vector<std::string> endpoints;
  // Connecting to one endpoint (TCP and HTTP/2's settings); past it the next
  // is tried, whatever the request.
  std::chrono::milliseconds connect_timeout{1'000};
  // One request to one connected endpoint.
  std::chrono::milliseconds request_timeout{5'000};
  // The longest answer taken (a range over many keys); past it kTooLarge.
  size_t max_response_bytes = 64u << 20;
  // Told of every call once it ended (failover included): the operation
  // ("range", "txn", ... — a fixed set), how long it took, and its error
  // (null when it succeeded). For metrics; called on the caller's thread.
  std::function<void(const char* operation, std::chrono::nanoseconds took, const Error* error)>
      observer;
};

class EtcdClient {
 public:
  explicit EtcdClient(EtcdOptions options);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  const EtcdOptions& options() const { return options_; }

  Result<RangeResult> range(const RangeRequest& request);
  Result<PutResult> put(const PutRequest& request);
  Result<DeleteResult> delete_range(const DeleteRequest& request);
  Result<TxnResult> txn(const TxnRequest& request);
  // Drops the history before `revision`; physical: wait until it is gone from
  // the backend. The header revision of the answer.
  Result<int64_t> compact(int64_t revision, bool physical = false);

  Result<LeaseGrant> lease_grant(int64_t ttl_seconds);
  // One keepalive: one request and its answer on etcd's LeaseKeepAlive
  // stream, which is then closed. The TTL left in seconds; 0: the lease has
  // expired or was revoked (etcd answers with TTL 0, not an error).
  Result<int64_t> lease_keepalive(int64_t id);
  // kNotFound when the lease does not exist (any more).
  Result<void> lease_revoke(int64_t id);

  Result<Status> status();

  // The endpoint the next call tries first (the last one that answered).
  std::string current_endpoint() const;

 private:
  class Members;  // the channels and stubs (etcd_client.cpp: gRPC stays out of this header)

  const EtcdOptions options_;
  std::unique_ptr<Members> members_;
};

// "etcd <endpoint>: <operation>: <message>", the prefix of every error here.
Error etcd_error(const std::string& endpoint, const std::string& operation, Error error);

}  // namespace corral::etcd
