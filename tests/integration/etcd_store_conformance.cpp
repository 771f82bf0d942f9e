// The Store contract (tests/support/store_conformance.h) on the etcd
// backend: a real etcd with one member, and a real three-member cluster,
// each started once for the whole run and stopped at exit. Every test opens
// its stores under a prefix of its own, so the tests do not see each other.
//
// Its own executable, registered as one ctest (tests/CMakeLists.txt): run as
// one test per process, the suite would start 60 etcd members.
#include <unistd.h>

#include <atomic>
#include <mutex>

#include "controller/store/etcd_store.h"
#include "tests/support/etcd_process.h"
#include "tests/support/store_conformance.h"

namespace corral::store {
namespace store_conformance_test {

// The endpoints of a running etcd, or an error naming why it did not start.
// `members`: 1 or 3. Started on first use, stopped when the process exits.
Result<std::vector<std::string>> etcd_endpoints(int members) {
  static std::mutex mu;
  static std::unique_ptr<testing::EtcdProcess> single;
  static std::unique_ptr<testing::EtcdCluster> cluster;
  std::lock_guard lock(mu);
  std::string error;
  if (members == 1) {
    if (!single) {
      auto started = std::make_unique<testing::EtcdProcess>();
      if (!started->start(&error)) return make_error(ErrorCode::kUnavailable, error);
      single = std::move(started);
    }
    return std::vector<std::string>{single->endpoint()};
  }
  if (!cluster) {
    auto started = std::make_unique<testing::EtcdCluster>(members);
    if (!started->start(&error)) return make_error(ErrorCode::kUnavailable, error);
    cluster = std::move(started);
  }
  return cluster->endpoints();
}

StoreBackend etcd_backend(const std::string& name, int members) {
  return {name, [members](const Clock& clock, StoreOptions options, testing::TempDir&,
                          int) -> Result<std::unique_ptr<Store>> {
            static std::atomic<int> stores{0};
            auto endpoints = etcd_endpoints(members);
            if (!endpoints) return endpoints.take_error();
            EtcdStoreOptions etcd;
            etcd.endpoints = *endpoints;
            etcd.prefix = "/conformance-" + std::to_string(::getpid()) + "-" +
                          std::to_string(++stores);
            // The suite waits out a watch from a future revision once; the
            // default 3 s would only slow it down.
            options.future_revision_wait = std::chrono::milliseconds(200);
            auto store = open_etcd_store(etcd, clock, options);
            if (!store) return store.take_error();
            return std::unique_ptr<Store>(std::move(*store));
          }};
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance,
                         ::testing::Values(etcd_backend("etcd", 1), etcd_backend("etcd3", 3)),
                         backend_name);

}  // namespace store_conformance_test
}  // namespace corral::store
