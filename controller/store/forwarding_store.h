// A Store that forwards every call to another. Wrappers that change one or
// two operations (metrics, injected faults in tests) derive from it and
// override only those.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/json.h"
#include "controller/store/batch_write.h"
#include "controller/store/store.h"

namespace corral::store {

class ForwardingStore : public Store {
 public:
  explicit ForwardingStore(Store& inner) : inner_(inner) {}

  Result<RecordPtr> get(const std::string& kind, const std::string& name) override {
    return inner_.get(kind, name);
  }
  Result<ListResult> list(const std::string& kind, const ListOptions& options) override {
    return inner_.list(kind, options);
  }
  Result<RecordPtr> create(const std::string& kind, Json object) override {
    return inner_.create(kind, std::move(object));
  }
  Result<RecordPtr> update(const std::string& kind, Json object) override {
    return inner_.update(kind, std::move(object));
  }
  Result<RecordPtr> update_status(const std::string& kind, Json object) override {
    return inner_.update_status(kind, std::move(object));
  }
  std::vector<Result<RecordPtr>> write_batch(std::vector<BatchWrite> writes) override {
    return inner_.write_batch(std::move(writes));
  }
  Result<RecordPtr> remove(const std::string& kind, const std::string& name,
                           const Preconditions& preconditions) override {
    return inner_.remove(kind, name, preconditions);
  }
  Result<std::unique_ptr<Watch>> watch(const std::string& kind, int64_t from_revision,
                                       const ListOptions& filter) override {
    return inner_.watch(kind, from_revision, filter);
  }
  int64_t revision() const override { return inner_.revision(); }
  Result<void> healthy() const override { return inner_.healthy(); }
  size_t open_watches() const override { return inner_.open_watches(); }

 protected:
  Store& inner() const { return inner_; }

 private:
  Store& inner_;
};

}  // namespace corral::store
