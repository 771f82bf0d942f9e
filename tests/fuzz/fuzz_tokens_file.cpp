// The controller's tokens file (`token,user,role` lines), loaded at start
// and at every SIGHUP.
#include <cstddef>
#include <cstdint>
#include <string>

#include "controller/server/auth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto auth = corral::server::Authenticator::from_text(
      std::string(reinterpret_cast<const char*>(data), size), "tokens.csv");
  if (auth) (void)auth->authenticate("Bearer x");
  return 0;
}
