// EtcdMaintenance: what the leader does for the etcd store besides the
// loops, on a thread of its own, only while `leading()` says so.
//
//  - compaction: discards etcd's history behind the cluster, as
//    kube-apiserver does (--etcd-compaction-interval, 5 min): every
//    `compaction_interval` it compacts to the revision it saw one interval
//    earlier, so a watch (or a controller's feed) less than one interval
//    behind can still resume, and etcd's database does not grow with every
//    write ever made. One that etcd already did (an earlier leader's) is fine.
//  - orphan sweep: every `orphan_interval`, deletes what a cascading delete
//    cut short left behind (EtcdStore::remove_orphans), through the fence.
//
// Failures are logged and retried at the next tick.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "controller/store/etcd_store.h"

namespace corral::store {

struct EtcdMaintenanceOptions {
  std::chrono::milliseconds compaction_interval{std::chrono::minutes(5)};
  std::chrono::milliseconds orphan_interval{std::chrono::seconds(30)};
};

class EtcdMaintenance {
 public:
  // `store` must outlive it. `fence` fences the orphan sweep's deletes.
  EtcdMaintenance(EtcdStore& store, EtcdMaintenanceOptions options, std::function<bool()> leading,
                  FenceSource fence);
  ~EtcdMaintenance();
  EtcdMaintenance(const EtcdMaintenance&) = delete;
  EtcdMaintenance& operator=(const EtcdMaintenance&) = delete;

  // The revision compacted to last (0: none yet), and the orphans deleted so
  // far. For tests and logs.
  int64_t compacted() const;
  size_t orphans_removed() const;

 private:
  void run();
  void compact(int64_t target);  // REQUIRES: mu_ not held
  void sweep();                  // REQUIRES: mu_ not held

  EtcdStore& store_;
  const EtcdMaintenanceOptions options_;
  const std::function<bool()> leading_;
  const FenceSource fence_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;       // guarded by mu_
  int64_t compacted_ = 0;       // guarded by mu_
  size_t orphans_removed_ = 0;  // guarded by mu_
  std::thread thread_;
};

}  // namespace corral::store
