// Fixed, process-independent 64-bit hashes for the pickers: the client
// address (hash_client_address in picker.h) and the points of the
// consistent-hash ring. std::hash is neither fixed across standard libraries
// nor across runs, and several balancer copies must agree on where a client
// goes, so these are written out: FNV-1a 64 over the bytes, then splitmix64's
// finaliser, because FNV-1a alone mixes the last bytes poorly (addresses that
// differ only in their last octet would land next to each other on the ring).
#pragma once

#include <cstdint>
#include <string_view>

namespace corral::balancer {

inline constexpr uint64_t kFnv1a64Offset = 14695981039346656037ull;
inline constexpr uint64_t kFnv1a64Prime = 1099511628211ull;

// FNV-1a 64 of `bytes`, continuing from `state` (so that a key can be hashed
// in pieces without building it: fnv1a64("#", fnv1a64(vm))).
constexpr uint64_t fnv1a64(std::string_view bytes, uint64_t state = kFnv1a64Offset) {
  for (unsigned char c : bytes) {
    state ^= c;
    state *= kFnv1a64Prime;
  }
  return state;
}

// splitmix64's finaliser: every input bit affects every output bit.
constexpr uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

}  // namespace corral::balancer
