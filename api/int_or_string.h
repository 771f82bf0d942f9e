// An integer or a string such as "25%" (disruption budgets), as Kubernetes'
// intstr.IntOrString.
#pragma once

#include <cstdint>
#include <string>

namespace corral {

struct IntOrString {
  bool is_string = false;
  int64_t int_value = 0;
  std::string str_value;
  bool operator==(const IntOrString&) const = default;
  bool empty() const { return is_string && str_value.empty(); }
};

}  // namespace corral
