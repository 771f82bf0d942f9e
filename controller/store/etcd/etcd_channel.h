// One gRPC channel to one etcd member: the endpoint's URL as a gRPC target,
// the channel's limits and reconnect pace, and a bounded wait for its
// connection. Internal to controller/store/etcd (the client and the watch).
#pragma once

#include <grpcpp/channel.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "base/error.h"

namespace corral::etcd {

struct ChannelOptions {
  std::chrono::milliseconds connect_timeout{1'000};
  size_t max_receive_bytes = 64u << 20;  // a longer answer fails kTooLarge
};

// `endpoint` without trailing slashes: the one spelling the client and the
// watch name a member by (in errors, and to compare members).
std::string normalized_endpoint(std::string endpoint);

// Why a call was not sent to a member: its channel did not connect in time.
Error not_connected_within(std::chrono::milliseconds timeout);

// "http://host:port" (a trailing slash allowed) -> "host:port". https://
// is refused (kBadRequest): client TLS to etcd is not built yet.
Result<std::string> grpc_target(const std::string& endpoint);

// An insecure channel to `endpoint` (already checked by grpc_target). Its
// reconnect backoff is capped at connect_timeout, not gRPC's two minutes: a
// member that comes back is used again within a second.
std::shared_ptr<grpc::Channel> make_channel(const std::string& endpoint, const ChannelOptions& options);

// True when `channel` is connected or becomes so within `timeout`. False is
// the proof a call would need that nothing was sent: gRPC sends nothing on
// a channel that is not READY (the calls here never wait for ready).
bool connected_within(grpc::Channel& channel, std::chrono::milliseconds timeout);

}  // namespace corral::etcd
