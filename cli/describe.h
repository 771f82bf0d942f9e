// corralctl describe KIND NAME: kubectl-style sections (Name, Labels,
// Annotations, Created, Spec, Status, Conditions, Events).
#pragma once

#include <string>
#include <vector>

#include "cli/command.h"

namespace corral::cli {

struct DescribeOptions {
  std::vector<std::string> args;  // KIND NAME [NAME...]
};

int run_describe(Context& ctx, const DescribeOptions& options);

// The text for one object and its events (already fetched); pure, for tests.
// For a Node, `vms` are the VMs bound to it (a "VMs" section, as kubectl's
// "Non-terminated Pods").
std::string describe_object(const KindInfo& kind, const Json& object, const std::vector<Json>& events,
                            std::chrono::system_clock::time_point now, const std::vector<Json>& vms);
std::string describe_object(const KindInfo& kind, const Json& object, const std::vector<Json>& events,
                            std::chrono::system_clock::time_point now);

}  // namespace corral::cli
