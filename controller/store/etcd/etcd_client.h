// EtcdClient: etcd's v3 KV, lease and maintenance API through its JSON
// gRPC-gateway (POST http://host:port/v3/...), for the etcd Store backend.
// See README.md in this folder for what was verified about the gateway.
//
// Errors name the endpoint and the operation: "etcd http://127.0.0.1:2379:
// txn: <what>". An answer with a gRPC error becomes an Error with etcd's
// message: "required revision has been compacted" is kGone, "requested lease
// not found" kNotFound, "no leader" kUnavailable; no connection kUnavailable;
// a deadline passed kTimeout.
//
// Failover: endpoints are tried in order from the last one that answered. On
// a transport failure a read (range, range-only txn, status, lease keepalive)
// moves to the next endpoint, each tried once. A write moves on only when the
// request provably did not reach etcd (the connection was refused or never
// made, or not one byte was sent): a write that may have been applied is
// never sent twice, its failure goes back to the caller, who re-reads — and
// the next call starts at the next endpoint (a member that took the request
// and never answered, frozen or cut off, is not every later write's first try).
//
// Thread-safe: any number of threads may call one EtcdClient at once (each
// call takes its own curl handle from a pool).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "controller/store/etcd/etcd_types.h"

namespace corral::etcd {

class HttpPool;

struct EtcdOptions {
  // "http://host:port" of each member; at least one. Tried in this order first.
  std::vector<std::string> endpoints;
  // Making a TCP connection to one endpoint; past it the next is tried.
  std::chrono::milliseconds connect_timeout{1'000};
  // One request to one endpoint, connection included.
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
  // One keepalive: the gateway's /v3/lease/keepalive is a stream, and one POST
  // carrying one request gets one answer line, then the gateway ends the
  // stream (verified on 3.4.23). The TTL left in seconds; 0: the lease has
  // expired or was revoked (etcd answers 200 with no TTL, not an error).
  Result<int64_t> lease_keepalive(int64_t id);
  // kNotFound when the lease does not exist (any more).
  Result<void> lease_revoke(int64_t id);

  Result<Status> status();

  // The endpoint the next call tries first (the last one that answered).
  std::string current_endpoint() const;

 private:
  struct Answer {
    std::string endpoint;
    std::string body;
  };
  // POSTs `body` to `path` with failover (see the header comment); a non-2xx
  // answer is decoded into the Error it carries. `retry_sent`: the request is
  // a read, safe to send again to another endpoint whatever happened.
  Result<Answer> call(const char* operation, const std::string& path, const std::string& body,
                      bool retry_sent);
  Result<Answer> call_endpoints(const char* operation, const std::string& path,
                                const std::string& body, bool retry_sent);
  // Decodes a 2xx answer; a malformed one names the endpoint and operation.
  template <class T>
  Result<T> decoded(const char* operation, Result<Answer> answer,
                    Result<T> (*decode)(const std::string&));

  const EtcdOptions options_;
  std::unique_ptr<HttpPool> http_;
  std::atomic<size_t> preferred_{0};  // index into options_.endpoints
};

// "etcd <endpoint>: <operation>: <message>", the prefix of every error here.
Error etcd_error(const std::string& endpoint, const std::string& operation, Error error);

}  // namespace corral::etcd
