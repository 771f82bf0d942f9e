#include "controller/store/etcd/etcd_client.h"

#include <utility>

#include "controller/store/etcd/etcd_http.h"
#include "controller/store/etcd/etcd_json.h"

namespace corral::etcd {

namespace {

std::string etcd_strip_slashes(std::string endpoint) {
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  return endpoint;
}

EtcdOptions etcd_normalized(EtcdOptions options) {
  for (std::string& e : options.endpoints) e = etcd_strip_slashes(std::move(e));
  return options;
}

bool etcd_only_reads(const std::vector<TxnOp>& ops) {
  for (const TxnOp& op : ops)
    if (!std::holds_alternative<RangeRequest>(op)) return false;
  return true;
}

}  // namespace

Error etcd_error(const std::string& endpoint, const std::string& operation, Error error) {
  error.message = "etcd " + endpoint + ": " + operation + ": " + error.message;
  return error;
}

EtcdClient::EtcdClient(EtcdOptions options)
    : options_(etcd_normalized(std::move(options))),
      http_(std::make_unique<HttpPool>(options_.connect_timeout, options_.max_response_bytes)) {}

EtcdClient::~EtcdClient() = default;

std::string EtcdClient::current_endpoint() const {
  if (options_.endpoints.empty()) return "";
  return options_.endpoints[preferred_.load() % options_.endpoints.size()];
}

Result<EtcdClient::Answer> EtcdClient::call(const char* operation, const std::string& path,
                                            const std::string& body, bool retry_sent) {
  if (!options_.observer) return call_endpoints(operation, path, body, retry_sent);
  const auto started = std::chrono::steady_clock::now();
  Result<Answer> answer = call_endpoints(operation, path, body, retry_sent);
  options_.observer(operation, std::chrono::steady_clock::now() - started,
                    answer ? nullptr : &answer.error());
  return answer;
}

Result<EtcdClient::Answer> EtcdClient::call_endpoints(const char* operation,
                                                      const std::string& path,
                                                      const std::string& body, bool retry_sent) {
  const std::vector<std::string>& endpoints = options_.endpoints;
  if (endpoints.empty())
    return make_error(ErrorCode::kUnavailable, std::string("etcd: ") + operation + ": no endpoints");
  size_t first = preferred_.load() % endpoints.size();
  std::string failures;  // every endpoint's failure, for the error when all fail
  ErrorCode last_code = ErrorCode::kUnavailable;
  for (size_t i = 0; i < endpoints.size(); ++i) {
    size_t index = (first + i) % endpoints.size();
    const std::string& endpoint = endpoints[index];
    PostOutcome out = http_->post(endpoint + path, body, options_.request_timeout);
    Error error;
    if (out.answered) {
      preferred_.store(index);
      if (out.status >= 200 && out.status < 300) return Answer{endpoint, std::move(out.body)};
      error = etcd_error(endpoint, operation, decode_error(out.status, out.body));
      // A member that cannot serve ("no leader", "stopped"): a read may ask
      // another. A write may not: "request timed out" is Unavailable too, and
      // that write may yet be applied.
      if (!(retry_sent && error.code == ErrorCode::kUnavailable)) return error;
    } else {
      error = etcd_error(endpoint, operation, std::move(out.error));
      if (error.code == ErrorCode::kTooLarge) return error;  // another member answers the same
      // A write that may have reached etcd is never sent twice: the caller
      // re-reads. But the next call starts at the next member: one that
      // took the request and never answered (frozen, partitioned) must not
      // be every later write's first try.
      if (!retry_sent && !out.not_sent) {
        preferred_.store((index + 1) % endpoints.size());
        return error;
      }
    }
    last_code = error.code;
    if (!failures.empty()) failures += "; then ";
    failures += error.message;
  }
  return make_error(last_code, failures);
}

template <class T>
Result<T> EtcdClient::decoded(const char* operation, Result<Answer> answer,
                              Result<T> (*decode)(const std::string&)) {
  if (!answer) return answer.take_error();
  Result<T> out = decode(answer->body);
  if (!out) return etcd_error(answer->endpoint, operation, out.take_error());
  return out;
}

Result<RangeResult> EtcdClient::range(const RangeRequest& request) {
  return decoded("range", call("range", "/v3/kv/range", encode_range(request), true), decode_range);
}

Result<PutResult> EtcdClient::put(const PutRequest& request) {
  return decoded("put", call("put", "/v3/kv/put", encode_put(request), false), decode_put);
}

Result<DeleteResult> EtcdClient::delete_range(const DeleteRequest& request) {
  return decoded("delete_range", call("delete_range", "/v3/kv/deleterange", encode_delete(request), false),
                 decode_delete);
}

Result<TxnResult> EtcdClient::txn(const TxnRequest& request) {
  bool read_only = etcd_only_reads(request.success) && etcd_only_reads(request.failure);
  return decoded("txn", call("txn", "/v3/kv/txn", encode_txn(request), read_only), decode_txn);
}

Result<int64_t> EtcdClient::compact(int64_t revision, bool physical) {
  return decoded("compact", call("compact", "/v3/kv/compaction", encode_compact(revision, physical), false),
                 decode_header_revision);
}

Result<LeaseGrant> EtcdClient::lease_grant(int64_t ttl_seconds) {
  return decoded("lease_grant", call("lease_grant", "/v3/lease/grant", encode_lease_grant(ttl_seconds), false),
                 decode_lease_grant);
}

Result<int64_t> EtcdClient::lease_keepalive(int64_t id) {
  // Sending a keepalive twice only refreshes the lease twice: safe to retry.
  return decoded("lease_keepalive", call("lease_keepalive", "/v3/lease/keepalive", encode_lease_id(id), true),
                 decode_lease_keepalive);
}

Result<void> EtcdClient::lease_revoke(int64_t id) {
  auto answer = decoded("lease_revoke", call("lease_revoke", "/v3/lease/revoke", encode_lease_id(id), false),
                        decode_header_revision);
  if (!answer) return answer.take_error();
  return Ok{};
}

Result<Status> EtcdClient::status() {
  return decoded("status", call("status", "/v3/maintenance/status", "{}", true), decode_status);
}

}  // namespace corral::etcd
