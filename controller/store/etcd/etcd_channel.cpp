#include "controller/store/etcd/etcd_channel.h"

#include <absl/synchronization/mutex.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <algorithm>
#include <climits>
#include <mutex>

namespace corral::etcd {

std::string normalized_endpoint(std::string endpoint) {
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  return endpoint;
}

Error not_connected_within(std::chrono::milliseconds timeout) {
  return make_error(ErrorCode::kUnavailable, "cannot connect within " + std::to_string(timeout.count()) + " ms");
}

Result<std::string> grpc_target(const std::string& endpoint) {
  std::string target = normalized_endpoint(endpoint);
  const std::string http = "http://";
  if (target.rfind("https://", 0) == 0)
    return make_error(ErrorCode::kBadRequest,
                      "etcd endpoint " + endpoint + ": https is not supported yet (no client TLS); use http://");
  if (target.rfind(http, 0) == 0) target = target.substr(http.size());
  if (target.empty() || target.find('/') != std::string::npos)
    return make_error(ErrorCode::kBadRequest, "etcd endpoint \"" + endpoint + "\": want http://host:port");
  return target;
}

std::shared_ptr<grpc::Channel> make_channel(const std::string& endpoint, const ChannelOptions& options) {
  // Debian's Abseil is built with assertions, so every absl::Mutex lock in
  // gRPC also maintains a lock-order graph for deadlock detection: ~3% of
  // the etcd store's CPU in a profile of 32 writers, for a check meant for
  // debugging gRPC itself.
  static std::once_flag quiet_mutexes;
  std::call_once(quiet_mutexes, [] { absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore); });
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(std::min<size_t>(options.max_receive_bytes, INT_MAX)));
  const int connect_ms = static_cast<int>(std::max<int64_t>(options.connect_timeout.count(), 100));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::min(connect_ms, 200));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, std::min(connect_ms, 200));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, connect_ms);
  // Channels to one member would otherwise share their connection through
  // gRPC's global subchannel pool; a client's own channel keeps its calls off
  // another client's (the leader elector's 400 ms calls must not queue
  // behind a store's bulk traffic, nor fail with its broken connection).
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto target = grpc_target(endpoint);
  return grpc::CreateCustomChannel(target ? *target : endpoint, grpc::InsecureChannelCredentials(), args);
}

bool connected_within(grpc::Channel& channel, std::chrono::milliseconds timeout) {
  if (channel.GetState(/*try_to_connect=*/true) == GRPC_CHANNEL_READY) return true;
  return channel.WaitForConnected(std::chrono::system_clock::now() + timeout);
}

}  // namespace corral::etcd
