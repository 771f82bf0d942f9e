// The constructor of every picker, one line each, referenced by registry.cpp.
// Internal to balancer/algorithms/: callers use make_picker().
#pragma once

#include <memory>
#include <vector>

#include "balancer/algorithms/picker.h"

namespace corral::balancer {

using PickerFactory = std::unique_ptr<Picker> (*)(std::vector<const Backend*> backends);

std::unique_ptr<Picker> make_round_robin_picker(std::vector<const Backend*> backends);
std::unique_ptr<Picker> make_least_connections_picker(std::vector<const Backend*> backends);
std::unique_ptr<Picker> make_source_hash_picker(std::vector<const Backend*> backends);
std::unique_ptr<Picker> make_weighted_picker(std::vector<const Backend*> backends);

}  // namespace corral::balancer
