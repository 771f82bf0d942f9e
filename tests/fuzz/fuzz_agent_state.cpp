// The agent's state file, read back at start after a crash (it may be
// truncated or damaged): parse_state must refuse, never crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/state_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)corral::agent::parse_state(std::string(reinterpret_cast<const char*>(data), size),
                                   "state.json");
  return 0;
}
