// What the API says about each VM, for end-to-end tests and benchmarks that
// watch VMs move: its binding (spec) beside what its agent reported (status).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "client/client.h"

namespace corral::testing {

struct VmView {
  std::string node;  // spec.nodeName
  int64_t epoch = 0;
  std::string phase;
  std::string reported_node;  // status.nodeName
  int64_t reported_epoch = 0;
  int restarts = 0;
  std::string last_error;
  std::string resource_version;
  // Running where it is bound now, in its current epoch.
  bool running() const { return phase == "Running" && reported_epoch == epoch && reported_node == node; }
};

// Every VM by name; empty when the API does not answer.
std::map<std::string, VmView> list_vm_views(ApiClient& api);
// Exactly `replicas` VMs, each running, none on `avoid_node`.
bool all_vms_running(const std::map<std::string, VmView>& vms, int replicas,
                     const std::string& avoid_node = "");
// One line per VM, for failure messages.
std::string describe_vm_views(const std::map<std::string, VmView>& vms);

}  // namespace corral::testing
