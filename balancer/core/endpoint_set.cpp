#include "balancer/core/endpoint_set.h"

#include <charconv>

namespace corral::balancer {

namespace {

Result<std::pair<std::string, uint16_t>> split_host_port(const std::string& text) {
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return make_error(ErrorCode::kInvalid, "expected [ipv6]:port, got \"" + text + "\"");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0)
      return make_error(ErrorCode::kInvalid, "expected address:port, got \"" + text + "\"");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || end != port.data() + port.size() || port.empty() || value > 65535)
    return make_error(ErrorCode::kInvalid, "port \"" + port + "\" is not a number 0..65535");
  return std::pair{host, static_cast<uint16_t>(value)};
}

}  // namespace

Result<ListenAddress> parse_listen(const std::string& text, const std::string& field) {
  auto hp = split_host_port(text);
  if (!hp) return invalid("Balancer", {{field, hp.error().message, ""}});
  return ListenAddress{hp->first, hp->second};
}

const Backend* EndpointSet::find(const std::string& vm, int64_t epoch,
                                 const std::string& address) const {
  for (const Backend* b : backends)
    if (b->endpoint.vm == vm && b->endpoint.epoch == epoch && b->endpoint.address == address)
      return b;
  return nullptr;
}

Result<std::shared_ptr<const EndpointSet>> build_endpoint_set(const Balancer& balancer,
                                                              const EndpointSet* previous,
                                                              uint64_t version) {
  auto set = std::make_shared<EndpointSet>();
  set->name = balancer.metadata.name;
  set->spec = balancer.spec;
  set->version = version;
  auto listen = parse_listen(balancer.spec.listen, "spec.listen");
  if (!listen) return listen.error();
  set->listen = *listen;
  for (const Endpoint& e : balancer.status.endpoints) {
    auto hp = split_host_port(e.address);
    if (!hp || hp->second == 0) continue;
    auto b = std::make_unique<Backend>();
    b->endpoint = e;
    b->host = hp->first;
    b->port = std::to_string(hp->second);
    const Backend* old = previous ? previous->find(e.vm, e.epoch, e.address) : nullptr;
    b->state = old ? old->state : std::make_shared<BackendState>();
    b->index = set->backends.size();
    set->backends.push_back(b.get());
    set->owned.push_back(std::move(b));
  }
  auto routes = RouteTable::build(balancer.spec.rules, set->backends);
  if (!routes) return routes.error();
  set->routes = std::move(*routes);
  return std::shared_ptr<const EndpointSet>(std::move(set));
}

}  // namespace corral::balancer
