// A request target as a client sends it ("/apis/corral.dev/v1/vms?watch=1&
// resourceVersion=7&timeoutSeconds=30&labelSelector=app%3Dweb"): the path
// and query decoding every request goes through (set_target), then the list
// and watch readers the resource routes call. Checks beyond crashes: an
// accepted resourceVersion is digits only and not negative, and an accepted
// timeout lies within (0, max].
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "api/kinds.h"
#include "controller/server/http_message.h"
#include "controller/server/request.h"

namespace {

using corral::server::HttpRequest;

const corral::KindInfo& kind_for(const HttpRequest& req, uint8_t pick) {
  const size_t slash = req.path.rfind('/');
  const std::string last = slash == std::string::npos ? req.path : req.path.substr(slash + 1);
  if (const auto* kind = corral::find_kind_by_plural(last)) return *kind;
  const auto& kinds = corral::all_kinds();
  return kinds[pick % kinds.size()];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  HttpRequest req;
  corral::server::set_target(req, std::string(reinterpret_cast<const char*>(data), size));
  (void)corral::server::wants_watch(req);
  (void)corral::server::read_list_options(req, kind_for(req, data[0]));

  if (auto rv = corral::server::read_resource_version(req)) {
    if (*rv < 0) __builtin_trap();
    for (char c : req.get_param_value("resourceVersion"))
      if (c < '0' || c > '9') __builtin_trap();
  }
  const auto fallback = std::chrono::seconds(300);
  const auto max = std::chrono::seconds(1800);
  if (auto timeout = corral::server::read_timeout_seconds(req, fallback, max)) {
    if (timeout->count() <= 0 || *timeout > max) __builtin_trap();
  }
  return 0;
}
