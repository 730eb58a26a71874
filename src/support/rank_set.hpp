// A set of worker ranks (small non-negative ints) as a bitmap: insert, erase and lookup in O(1),
// iteration in ascending order as std::set<int> gives it, at a few instructions per 64 ranks.
// The scheduler walks its hungry workers on every decision; at 4,096 workers a red-black tree's
// walk (a pointer chase per rank) was the largest single cost of a simulation.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <vector>

namespace fastgpu::support {

class RankSet {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = int;
    using difference_type = std::ptrdiff_t;
    using pointer = const int*;
    using reference = int;

    iterator() = default;
    int operator*() const { return static_cast<int>(at_); }
    iterator& operator++() {
      at_ = set_->next_from(at_ + 1);
      return *this;
    }
    iterator operator++(int) {
      iterator before = *this;
      ++*this;
      return before;
    }
    bool operator==(const iterator& other) const { return at_ == other.at_; }

   private:
    friend class RankSet;
    iterator(const RankSet* set, std::size_t at) : set_(set), at_(at) {}
    const RankSet* set_ = nullptr;
    std::size_t at_ = 0;  // a member, or end_position()
  };

  /// Adds `rank` (>= 0); false if it was there.
  bool insert(int rank) {
    const auto r = static_cast<std::size_t>(rank);
    if (r / 64 >= words_.size()) words_.resize(r / 64 + 1, 0);
    std::uint64_t& word = words_[r / 64];
    const std::uint64_t bit = std::uint64_t{1} << (r % 64);
    if (word & bit) return false;
    word |= bit;
    ++size_;
    return true;
  }
  /// Removes `rank`; false if it was not there.
  bool erase(int rank) {
    if (!contains(rank)) return false;
    const auto r = static_cast<std::size_t>(rank);
    words_[r / 64] &= ~(std::uint64_t{1} << (r % 64));
    --size_;
    return true;
  }
  bool contains(int rank) const {
    const auto r = static_cast<std::size_t>(rank);
    return rank >= 0 && r / 64 < words_.size() && ((words_[r / 64] >> (r % 64)) & 1) != 0;
  }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  iterator begin() const { return iterator(this, next_from(0)); }
  iterator end() const { return iterator(this, end_position()); }

  /// The first member >= `from` that is also a member of `other` (`in_other`) or is not (else);
  /// -1 when there is none. Walks both a word at a time.
  int first_from(int from, const RankSet& other, bool in_other) const {
    const std::size_t at = next_set(static_cast<std::size_t>(std::max(from, 0)), [&](std::size_t i) {
      const std::uint64_t theirs = i < other.words_.size() ? other.words_[i] : 0;
      return words_[i] & (in_other ? theirs : ~theirs);
    });
    return at == end_position() ? -1 : static_cast<int>(at);
  }

 private:
  std::size_t end_position() const { return words_.size() * 64; }
  /// The first member >= `from`, or end_position().
  std::size_t next_from(std::size_t from) const {
    return next_set(from, [&](std::size_t i) { return words_[i]; });
  }
  /// The first position >= `from` whose bit is set in word_at(word index), or end_position().
  template <class WordAt>
  std::size_t next_set(std::size_t from, WordAt word_at) const {
    std::size_t w = from / 64;
    if (w >= words_.size()) return end_position();
    std::uint64_t bits = word_at(w) & (~std::uint64_t{0} << (from % 64));
    while (bits == 0) {
      if (++w == words_.size()) return end_position();
      bits = word_at(w);
    }
    return w * 64 + static_cast<std::size_t>(std::countr_zero(bits));
  }

  std::vector<std::uint64_t> words_;
  std::size_t size_ = 0;
};

}  // namespace fastgpu::support
