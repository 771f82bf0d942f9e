#include "controller/store/etcd/etcd_types.h"

#include <utility>

namespace corral::etcd {

std::string prefix_end(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

Compare Compare::mod_revision(std::string key, Op op, int64_t revision) {
  return Compare{op, Target::kMod, std::move(key), "", revision, ""};
}
Compare Compare::create_revision(std::string key, Op op, int64_t revision) {
  return Compare{op, Target::kCreate, std::move(key), "", revision, ""};
}
Compare Compare::version(std::string key, Op op, int64_t version) {
  return Compare{op, Target::kVersion, std::move(key), "", version, ""};
}
Compare Compare::value_is(std::string key, Op op, std::string value) {
  return Compare{op, Target::kValue, std::move(key), "", 0, std::move(value)};
}

}  // namespace corral::etcd
