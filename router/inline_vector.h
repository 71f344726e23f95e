#pragma once

// A vector that keeps its first N elements inline and only allocates beyond them. Classification
// runs for every query; the lists it returns (SET targets, temporary tables) are almost always
// short or empty, and must not cost an allocation on the hot path.

#include <array>
#include <cstddef>
#include <vector>

namespace replproxy::router {

template <class T, size_t N>
class InlineVector {
 public:
  class const_iterator {
   public:
    const_iterator(const InlineVector* owner, size_t index) : owner_(owner), index_(index) {}
    const T& operator*() const { return (*owner_)[index_]; }
    const T* operator->() const { return &(*owner_)[index_]; }
    const_iterator& operator++() {
      ++index_;
      return *this;
    }
    bool operator==(const const_iterator& other) const { return index_ == other.index_; }

   private:
    const InlineVector* owner_;
    size_t index_;
  };

  void push_back(const T& value) {
    if (size_ < N) {
      inline_[size_] = value;
    } else {
      overflow_.push_back(value);
    }
    ++size_;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T& operator[](size_t index) const {
    return index < N ? inline_[index] : overflow_[index - N];
  }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size_}; }

 private:
  std::array<T, N> inline_{};
  std::vector<T> overflow_;
  size_t size_ = 0;
};

}  // namespace replproxy::router
