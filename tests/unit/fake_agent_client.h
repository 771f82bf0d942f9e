// An AgentClient that answers from a table and records every request
// ("127.0.0.1:9001 /v1/logs/web-1?tailLines=5"), for unit tests of `logs`.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cli/agent_client.h"

namespace corral::testing {

class FakeAgentClient final : public cli::AgentClient {
 public:
  std::vector<std::string> calls;                 // "address path", in order
  std::map<std::string, HttpResponse> responses;  // address → answer (200 "" when absent)
  std::map<std::string, Error> unreachable;       // address → transport error

  Result<HttpResponse> get(const std::string& address, const std::string& path) override {
    calls.push_back(address + " " + path);
    if (auto it = unreachable.find(address); it != unreachable.end()) return it->second;
    if (auto it = responses.find(address); it != responses.end()) return it->second;
    return HttpResponse{200, "", "text/plain"};
  }
};

}  // namespace corral::testing
