// The seam between corralctl's commands and HTTP: every command talks to a
// ResourceClient, so command logic is unit-testable against a fake that
// records calls (client-go's fake clientset habit). HttpResourceClient is the
// real one, over client/client.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "client/client.h"
#include "base/error.h"
#include "api/json_fwd.h"
#include "api/kinds.h"
#include "api/patch.h"

namespace corral::cli {

struct ListOptions {
  std::string label_selector;  // empty: every object
  std::string field_selector;  // empty: every object
};

// One event of a watch: cli/watch_event.h.
struct WatchEvent;

class ResourceClient {
 public:
  virtual ~ResourceClient() = default;

  virtual Result<Json> get(const KindInfo& kind, const std::string& name) = 0;
  // A <Kind>List object: {"kind", "metadata": {"resourceVersion"}, "items"}.
  virtual Result<Json> list(const KindInfo& kind, const ListOptions& options) = 0;
  virtual Result<Json> create(const KindInfo& kind, const Json& object) = 0;
  // PUT; object.metadata.resourceVersion must be the live one (409 otherwise).
  virtual Result<Json> replace(const KindInfo& kind, const Json& object) = 0;
  virtual Result<Json> replace_status(const KindInfo& kind, const Json& object) = 0;
  // PATCH <plural>/<name>[/<subresource>] with a patch of `type` (api/patch.h);
  // returns what the server stored (for "scale": the autoscaling/v1 Scale).
  virtual Result<Json> patch(const KindInfo& kind, const std::string& name, PatchType type,
                             const Json& patch, const std::string& subresource = "") = 0;
  // DELETE; returns the deleted object.
  virtual Result<Json> remove(const KindInfo& kind, const std::string& name) = 0;
  // Streams events after `resource_version` until on_event returns false or
  // `timeout` passes (both end it without error).
  virtual Result<void> watch(const KindInfo& kind, const ListOptions& options,
                             const std::string& resource_version, std::chrono::milliseconds timeout,
                             const std::function<bool(const WatchEvent&)>& on_event) = 0;
  // The APIResourceList at /apis/corral/v1.
  virtual Result<Json> discovery() = 0;
  // GET /version: {"gitVersion": ...}.
  virtual Result<Json> server_version() = 0;
  // GET vms/<name>/log[?tailLines=N]: the VM's log as text, which the
  // controller reads from the agent of the VM's node (kubectl logs' pods/log);
  // `tail_lines` < 0: all of it. Errors are the server's, as it worded them
  // (they name the node and why: not bound, no agent address, the agent's
  // reason, cannot reach it).
  virtual Result<std::string> vm_log(const std::string& name, int64_t tail_lines) = 0;
  // GET vms/<name>/log?follow=true[&tailLines=N]: calls on_line with each
  // line of the log (without its newline) as the controller streams it, until
  // on_line returns false or the server ends the stream (both without error;
  // its last line says why the server ended it). Errors: as vm_log's, before
  // the first line (429 past the server's caps on follows).
  virtual Result<void> follow_vm_log(const std::string& name, int64_t tail_lines,
                                     const std::function<bool(const std::string&)>& on_line) = 0;
};

class HttpResourceClient final : public ResourceClient {
 public:
  explicit HttpResourceClient(ClientConfig config) : api_(std::move(config)) {}

  Result<Json> get(const KindInfo& kind, const std::string& name) override;
  Result<Json> list(const KindInfo& kind, const ListOptions& options) override;
  Result<Json> create(const KindInfo& kind, const Json& object) override;
  Result<Json> replace(const KindInfo& kind, const Json& object) override;
  Result<Json> replace_status(const KindInfo& kind, const Json& object) override;
  Result<Json> patch(const KindInfo& kind, const std::string& name, PatchType type,
                     const Json& patch, const std::string& subresource = "") override;
  Result<Json> remove(const KindInfo& kind, const std::string& name) override;
  Result<void> watch(const KindInfo& kind, const ListOptions& options, const std::string& resource_version,
                     std::chrono::milliseconds timeout,
                     const std::function<bool(const WatchEvent&)>& on_event) override;
  Result<Json> discovery() override;
  Result<Json> server_version() override;
  Result<std::string> vm_log(const std::string& name, int64_t tail_lines) override;
  Result<void> follow_vm_log(const std::string& name, int64_t tail_lines,
                             const std::function<bool(const std::string&)>& on_line) override;

 private:
  ApiClient api_;
};

// The name in metadata.name ("" when absent or not a string).
std::string object_name(const Json& object);

}  // namespace corral::cli
