// Standard base64 (RFC 4648 §4, padded), as Kubernetes writes Secret data.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace corral {

std::string base64_encode(std::string_view bytes);
// nullopt unless `text` is padded standard base64 (no whitespace, no URL alphabet).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace corral
