#include "cli/options.h"

#include "base/private_file.h"

namespace corral::cli {

Result<ClientConfig> resolve_client_config(const GlobalOptions& options) {
  auto cfg = load_client_config(options.config);
  if (!cfg) return cfg;
  if (!options.server.empty()) cfg->server = options.server;
  if (!options.token.empty() || !options.token_file.empty()) {
    auto token = client_token(options.token_file, options.token);
    if (!token) return token.take_error();
    cfg->token = *token;
  }
  if (!options.ca.empty()) cfg->ca_file = options.ca;
  if (options.insecure) cfg->insecure_skip_verify = true;
  if (auto joined = join_servers(cfg->server); !joined.empty()) cfg->server = joined;
  return cfg;
}

}  // namespace corral::cli
