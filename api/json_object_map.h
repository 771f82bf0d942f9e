// JsonObjectMap: the object type of corral::Json — nlohmann's ordered_map
// (fields keep the order they were written in), growing without deep copies.
//
// ordered_map is a std::vector<std::pair<const std::string, Json>>. Such a
// pair cannot be moved (its key is const) and its copy may throw, so when the
// vector grows it copies every element — each value with its whole subtree.
// Parsing an object of n fields grows it log n times, and each level of
// nesting copies the levels below again: at 5,000 heartbeats/s those copies
// were 7.7 % of the controller's CPU (perf, heartbeat_bench). Here the room
// is made before an append by building the larger vector by hand: the keys
// are copied (short strings) and the values moved (a pointer each).
#pragma once

#include <nlohmann/ordered_map.hpp>

#include <algorithm>
#include <iterator>
#include <type_traits>
#include <utility>

namespace corral {

template <class Key, class T, class IgnoredLess, class Allocator>
struct JsonObjectMap : nlohmann::ordered_map<Key, T, IgnoredLess, Allocator> {
  using Base = nlohmann::ordered_map<Key, T, IgnoredLess, Allocator>;
  using Container = typename Base::Container;
  using key_type = typename Base::key_type;
  using value_type = typename Base::value_type;
  using iterator = typename Base::iterator;
  using const_iterator = typename Base::const_iterator;
  using size_type = typename Base::size_type;
  using Base::Base;

  std::pair<iterator, bool> emplace(const key_type& key, T&& t) {
    if (auto it = Base::find(key); it != this->end()) return {it, false};
    make_room();
    Container::emplace_back(key, std::forward<T>(t));
    return {std::prev(this->end()), true};
  }
  template <class KeyType,
            std::enable_if_t<nlohmann::detail::is_usable_as_key_type<
                                 typename Base::key_compare, key_type, KeyType>::value,
                             int> = 0>
  std::pair<iterator, bool> emplace(KeyType&& key, T&& t) {
    if (auto it = Base::find(key); it != this->end()) return {it, false};
    make_room();
    Container::emplace_back(std::forward<KeyType>(key), std::forward<T>(t));
    return {std::prev(this->end()), true};
  }

  T& operator[](const key_type& key) { return emplace(key, T{}).first->second; }
  template <class KeyType,
            std::enable_if_t<nlohmann::detail::is_usable_as_key_type<
                                 typename Base::key_compare, key_type, KeyType>::value,
                             int> = 0>
  T& operator[](KeyType&& key) {
    return emplace(std::forward<KeyType>(key), T{}).first->second;
  }
  const T& operator[](const key_type& key) const { return Base::at(key); }
  template <class KeyType,
            std::enable_if_t<nlohmann::detail::is_usable_as_key_type<
                                 typename Base::key_compare, key_type, KeyType>::value,
                             int> = 0>
  const T& operator[](KeyType&& key) const {
    return Base::at(std::forward<KeyType>(key));
  }

  std::pair<iterator, bool> insert(value_type&& value) {
    return emplace(value.first, std::move(value.second));
  }
  std::pair<iterator, bool> insert(const value_type& value) {
    if (auto it = Base::find(value.first); it != this->end()) return {it, false};
    make_room();
    Container::push_back(value);
    return {std::prev(this->end()), true};
  }
  template <typename InputIt,
            typename = std::enable_if_t<std::is_convertible_v<
                typename std::iterator_traits<InputIt>::iterator_category, std::input_iterator_tag>>>
  void insert(InputIt first, InputIt last) {
    for (auto it = first; it != last; ++it) insert(*it);
  }

 private:
  // Before an append: when full, move into a vector twice the size.
  void make_room() {
    if (this->size() < this->capacity()) return;
    Container grown(this->get_allocator());
    grown.reserve(std::max<size_type>(4, 2 * this->capacity()));
    for (auto& field : *this) grown.emplace_back(field.first, std::move(field.second));
    Container::swap(grown);
  }
};

}  // namespace corral
