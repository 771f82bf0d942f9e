// The algorithm registry. Adding an algorithm is one new file (which defines
// its picker and its factory, declared in factories.h) plus one line in
// kAlgorithms below.
//
// Why a table and not self-registering static objects (Envoy's REGISTER_FACTORY):
// corral_balancer_core is a static library, and the linker drops an object
// file nothing refers to, together with its registrar, so an algorithm would
// silently vanish from binaries that do not name it. The table refers to
// every factory. (Same reasoning as agent/drivers/registry.cpp.)
#include <utility>

#include "balancer/algorithms/factories.h"
#include "balancer/algorithms/hash.h"
#include "balancer/algorithms/picker.h"

namespace corral::balancer {

namespace {

struct Registration {
  std::string_view name;  // BalancerSpec.algorithm
  PickerFactory factory;
};

constexpr Registration kAlgorithms[] = {
    {"roundRobin", &make_round_robin_picker},
    {"leastConnections", &make_least_connections_picker},
    {"sourceHash", &make_source_hash_picker},
    {"weighted", &make_weighted_picker},
};

// sessionAffinity: sourceIP, and the fallback for a name we do not know.
constexpr PickerFactory kAffinityFactory = &make_source_hash_picker;
constexpr PickerFactory kDefaultFactory = &make_round_robin_picker;

}  // namespace

std::unique_ptr<Picker> make_picker(std::string_view algorithm, bool source_affinity,
                                    std::vector<const Backend*> backends) {
  if (source_affinity) return kAffinityFactory(std::move(backends));
  for (const auto& r : kAlgorithms) {
    if (algorithm == r.name) return r.factory(std::move(backends));
  }
  // Validation refuses unknown names before they get here; an older balancer
  // reading a newer spec should still balance rather than fail.
  return kDefaultFactory(std::move(backends));
}

uint64_t hash_client_address(std::string_view address_bytes) {
  return mix64(fnv1a64(address_bytes));
}

}  // namespace corral::balancer
