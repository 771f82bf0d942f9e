// The Store contract (tests/support/store_conformance.h) on the backends a
// unit test may open: memory and a SQLite file.
#include "tests/support/store_conformance.h"

namespace corral::store {
namespace store_conformance_test {

INSTANTIATE_TEST_SUITE_P(
    Backends, StoreConformance,
    ::testing::Values(StoreBackend{"memory",
                                   [](const Clock& clock, StoreOptions options, testing::TempDir&,
                                      int) -> Result<std::unique_ptr<Store>> {
                                     return open_memory_store(clock, options);
                                   }},
                      StoreBackend{"sqlite",
                                   [](const Clock& clock, StoreOptions options,
                                      testing::TempDir& dir, int opened) {
                                     return open_sqlite_store(
                                         dir.file("store-" + std::to_string(opened) + ".db"), clock,
                                         options);
                                   }}),
    backend_name);

}  // namespace store_conformance_test
}  // namespace corral::store
