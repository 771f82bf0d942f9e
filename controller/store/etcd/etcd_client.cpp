#include "controller/store/etcd/etcd_client.h"

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <atomic>
#include <utility>

#include "controller/store/etcd/etcd_channel.h"
#include "controller/store/etcd/etcd_proto.h"
#include "controller/store/etcd/proto/rpc.grpc.pb.h"

namespace corral::etcd {

namespace {

EtcdOptions etcd_normalized(EtcdOptions options) {
  for (std::string& e : options.endpoints) e = normalized_endpoint(std::move(e));
  return options;
}

bool etcd_only_reads(const std::vector<TxnOp>& ops) {
  for (const TxnOp& op : ops)
    if (!std::holds_alternative<RangeRequest>(op)) return false;
  return true;
}

// Whether a failed call's status came from etcd itself, as opposed to the
// transport: etcd's own errors say "etcdserver: ..." (rpctypes); any other
// code than these three is an answer too.
bool answered_by_etcd(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
      return status.error_message().rfind("etcdserver:", 0) == 0;
    default:
      return true;
  }
}

}  // namespace

Error etcd_error(const std::string& endpoint, const std::string& operation, Error error) {
  error.message = "etcd " + endpoint + ": " + operation + ": " + error.message;
  return error;
}

struct EtcdMember {
  std::string endpoint;
  std::optional<Error> invalid;  // the endpoint is not one we can call
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::KV::Stub> kv;
  std::unique_ptr<pb::Lease::Stub> lease;
  std::unique_ptr<pb::Maintenance::Stub> maintenance;
};

class EtcdClient::Members {
 public:
  explicit Members(const EtcdOptions& options) : options_(options) {
    for (const std::string& endpoint : options.endpoints) {
      EtcdMember m;
      m.endpoint = endpoint;
      if (auto target = grpc_target(endpoint); !target) {
        m.invalid = target.take_error();
      } else {
        m.channel = make_channel(endpoint, {options.connect_timeout, options.max_response_bytes});
        m.kv = pb::KV::NewStub(m.channel);
        m.lease = pb::Lease::NewStub(m.channel);
        m.maintenance = pb::Maintenance::NewStub(m.channel);
      }
      all_.push_back(std::move(m));
    }
  }

  std::string current_endpoint() const {
    return all_.empty() ? "" : all_[preferred_.load() % all_.size()].endpoint;
  }

  // One call with failover (see the header comment). `invoke(member,
  // context, response)` makes the RPC; `retry_sent`: the request is a read,
  // safe to send again to another member whatever happened to it.
  template <class Response, class Invoke>
  Result<Response> call(const char* operation, bool retry_sent, const Invoke& invoke) {
    if (!options_.observer) return call_members<Response>(operation, retry_sent, invoke);
    const auto started = std::chrono::steady_clock::now();
    Result<Response> answer = call_members<Response>(operation, retry_sent, invoke);
    options_.observer(operation, std::chrono::steady_clock::now() - started,
                      answer ? nullptr : &answer.error());
    return answer;
  }

  // One unary RPC with failover: `method` of the member's `stub` (KV, Lease
  // or Maintenance).
  template <class Stub, class Request, class Response>
  Result<Response> unary(const char* operation, bool retry_sent, std::unique_ptr<Stub> EtcdMember::*stub,
                         grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                         const Request& request) {
    return call<Response>(operation, retry_sent, [&](EtcdMember& m, grpc::ClientContext* c, Response* out) {
      return ((*(m.*stub)).*method)(c, request, out);
    });
  }

 private:
  template <class Response, class Invoke>
  Result<Response> call_members(const char* operation, bool retry_sent, const Invoke& invoke) {
    if (all_.empty())
      return make_error(ErrorCode::kUnavailable, std::string("etcd: ") + operation + ": no endpoints");
    const size_t first = preferred_.load() % all_.size();
    std::string failures;  // every member's failure, for the error when all fail
    ErrorCode last_code = ErrorCode::kUnavailable;
    for (size_t i = 0; i < all_.size(); ++i) {
      const size_t index = (first + i) % all_.size();
      EtcdMember& m = all_[index];
      Error error;
      if (m.invalid) {
        error = *m.invalid;
      } else if (!connected_within(*m.channel, options_.connect_timeout)) {
        // Not connected: nothing was sent, any request may go elsewhere.
        error = etcd_error(m.endpoint, operation, not_connected_within(options_.connect_timeout));
      } else {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + options_.request_timeout);
        Response response;
        const grpc::Status status = invoke(m, &context, &response);
        if (status.ok()) {
          preferred_.store(index);
          return response;
        }
        error = etcd_error(m.endpoint, operation,
                           status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED
                               ? make_error(ErrorCode::kTimeout,
                                            "timed out: no answer within " +
                                                std::to_string(options_.request_timeout.count()) + " ms")
                               : status_error(status));
        if (error.code == ErrorCode::kTooLarge) return error;  // another member answers the same
        if (answered_by_etcd(status)) {
          preferred_.store(index);
          // A member that cannot serve ("no leader", "stopped"): a read may
          // ask another. A write may not: "request timed out" is Unavailable
          // too, and that write may yet be applied.
          if (!(retry_sent && error.code == ErrorCode::kUnavailable)) return error;
        } else if (!retry_sent) {
          // A write that may have reached etcd is never sent twice: the
          // caller re-reads. But the next call starts at the next member:
          // one that took the request and never answered (frozen,
          // partitioned) must not be every later write's first try.
          preferred_.store((index + 1) % all_.size());
          return error;
        }
      }
      last_code = error.code;
      if (!failures.empty()) failures += "; then ";
      failures += error.message;
    }
    return make_error(last_code, failures);
  }

  const EtcdOptions& options_;
  std::vector<EtcdMember> all_;
  std::atomic<size_t> preferred_{0};  // index into all_
};

EtcdClient::EtcdClient(EtcdOptions options)
    : options_(etcd_normalized(std::move(options))), members_(std::make_unique<Members>(options_)) {}

EtcdClient::~EtcdClient() = default;

std::string EtcdClient::current_endpoint() const { return members_->current_endpoint(); }

namespace {

template <class Out, class Answer>
Result<Out> converted(Result<Answer> answer) {
  if (!answer) return answer.take_error();
  return from_proto(*answer);
}

}  // namespace

Result<RangeResult> EtcdClient::range(const RangeRequest& request) {
  pb::RangeRequest message;
  to_proto(request, &message);
  return converted<RangeResult>(members_->unary("range", true, &EtcdMember::kv, &pb::KV::Stub::Range, message));
}

Result<PutResult> EtcdClient::put(const PutRequest& request) {
  pb::PutRequest message;
  to_proto(request, &message);
  return converted<PutResult>(members_->unary("put", false, &EtcdMember::kv, &pb::KV::Stub::Put, message));
}

Result<DeleteResult> EtcdClient::delete_range(const DeleteRequest& request) {
  pb::DeleteRangeRequest message;
  to_proto(request, &message);
  return converted<DeleteResult>(
      members_->unary("delete_range", false, &EtcdMember::kv, &pb::KV::Stub::DeleteRange, message));
}

Result<TxnResult> EtcdClient::txn(const TxnRequest& request) {
  const bool read_only = etcd_only_reads(request.success) && etcd_only_reads(request.failure);
  pb::TxnRequest message;
  to_proto(request, &message);
  return converted<TxnResult>(members_->unary("txn", read_only, &EtcdMember::kv, &pb::KV::Stub::Txn, message));
}

Result<int64_t> EtcdClient::compact(int64_t revision, bool physical) {
  pb::CompactionRequest message;
  message.set_revision(revision);
  message.set_physical(physical);
  auto answer = members_->unary("compact", false, &EtcdMember::kv, &pb::KV::Stub::Compact, message);
  if (!answer) return answer.take_error();
  return answer->header().revision();
}

Result<LeaseGrant> EtcdClient::lease_grant(int64_t ttl_seconds) {
  pb::LeaseGrantRequest message;
  message.set_ttl(ttl_seconds);
  auto answer = members_->unary("lease_grant", false, &EtcdMember::lease, &pb::Lease::Stub::LeaseGrant, message);
  if (!answer) return answer.take_error();
  if (!answer->error().empty())  // etcd's LeaseGrantResponse carries its own error field
    return make_error(ErrorCode::kInternal, "etcd: lease_grant: " + answer->error());
  return LeaseGrant{answer->id(), answer->ttl()};
}

Result<int64_t> EtcdClient::lease_keepalive(int64_t id) {
  pb::LeaseKeepAliveRequest message;
  message.set_id(id);
  // Sending a keepalive twice only refreshes the lease twice: safe to retry.
  auto answer = members_->call<pb::LeaseKeepAliveResponse>(
      "lease_keepalive", true,
      [&](EtcdMember& m, grpc::ClientContext* c, pb::LeaseKeepAliveResponse* out) -> grpc::Status {
        auto stream = m.lease->LeaseKeepAlive(c);
        bool answered = stream->Write(message) && stream->Read(out);
        stream->WritesDone();  // etcd then ends the stream: Finish does not wait
        grpc::Status status = stream->Finish();
        if (answered) return grpc::Status::OK;
        if (!status.ok()) return status;
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the keepalive stream ended without an answer");
      });
  if (!answer) return answer.take_error();
  return answer->ttl();
}

Result<void> EtcdClient::lease_revoke(int64_t id) {
  pb::LeaseRevokeRequest message;
  message.set_id(id);
  auto answer = members_->unary("lease_revoke", false, &EtcdMember::lease, &pb::Lease::Stub::LeaseRevoke, message);
  if (!answer) return answer.take_error();
  return Ok{};
}

Result<Status> EtcdClient::status() {
  return converted<Status>(members_->unary("status", true, &EtcdMember::maintenance,
                                 &pb::Maintenance::Stub::Status, pb::StatusRequest()));
}

}  // namespace corral::etcd
