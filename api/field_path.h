// Field paths in error causes, as Kubernetes writes them:
// "spec.template.resources.memory", "spec.rules[2].path".
#pragma once

#include <cstddef>
#include <string>

namespace corral {

std::string join_path(const std::string& path, const std::string& key);
std::string index_path(const std::string& path, size_t index);

}  // namespace corral
