// ObjectTable<T>: the typed objects of one kind, by name, kept in one dense
// vector so that the decision cores (which take `const std::vector<T>&`) read
// the cache in place, without copying 100,000 VMs per pass.
//
// Removal swaps the last element into the hole: O(1), and order is arbitrary
// (every decision core sorts what it outputs). Pointers and references into
// items() are invalidated by any upsert or remove.
//
// Thread safety: none; one owner (the ObjectCache's owner thread).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace corral::loops {

template <class T>
class ObjectTable {
 public:
  const std::vector<T>& items() const { return items_; }
  size_t size() const { return items_.size(); }

  const T* find(std::string_view name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &items_[it->second];
  }
  // The store revision of the version held; 0 when absent.
  int64_t revision(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? 0 : revisions_[it->second];
  }

  // Inserts or replaces; `previous` (optional) receives the replaced version.
  // Returns true when there was one.
  bool upsert(T object, int64_t revision, T* previous = nullptr) {
    const std::string& name = object.metadata.name;
    auto it = index_.find(name);
    if (it != index_.end()) {
      if (previous) *previous = std::move(items_[it->second]);
      items_[it->second] = std::move(object);
      revisions_[it->second] = revision;
      return true;
    }
    index_.emplace(name, items_.size());
    items_.push_back(std::move(object));
    revisions_.push_back(revision);
    return false;
  }

  // Removes `name`; `previous` (optional) receives it. False when absent.
  bool remove(const std::string& name, T* previous = nullptr) {
    auto it = index_.find(name);
    if (it == index_.end()) return false;
    size_t hole = it->second;
    index_.erase(it);
    if (previous) *previous = std::move(items_[hole]);
    size_t last = items_.size() - 1;
    if (hole != last) {
      items_[hole] = std::move(items_[last]);
      revisions_[hole] = revisions_[last];
      index_[items_[hole].metadata.name] = hole;
    }
    items_.pop_back();
    revisions_.pop_back();
    return true;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    out.reserve(items_.size());
    for (const T& t : items_) out.push_back(t.metadata.name);
    return out;
  }

 private:
  std::vector<T> items_;
  std::vector<int64_t> revisions_;                 // parallel to items_
  // Hashes a string_view and a string alike, so find() builds no string.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, size_t, NameHash, std::equal_to<>> index_;  // name → position in items_
};

}  // namespace corral::loops
