// corralctl's global flags and where the client settings come from:
// ~/.corral/config (or --config), then CORRAL_SERVER / CORRAL_TOKEN /
// CORRAL_CA, then these flags. Flags win over env over file.
#pragma once

#include <string>

#include "client/client.h"

namespace corral::cli {

struct GlobalOptions {
  std::string server;     // --server; empty: not given
  std::string token;      // --token: refused (argv is readable by every user)
  std::string token_file; // --token-file
  std::string ca;         // --ca
  std::string config;     // --config; empty: ~/.corral/config when it exists
  bool insecure = false;  // --insecure-skip-tls-verify
};

Result<ClientConfig> resolve_client_config(const GlobalOptions& options);

}  // namespace corral::cli
