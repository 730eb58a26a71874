// A fixed-capacity window of the most recent samples: pushing into a full window drops the oldest.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace fastgpu::cost {

template <class T>
class RingBuffer {
 public:
  explicit RingBuffer(std::size_t capacity = 1) : data_(std::max<std::size_t>(capacity, 1)) {}

  void push(const T& value) {
    data_[head_] = value;
    head_ = (head_ + 1) % data_.size();
    if (size_ < data_.size()) ++size_;
  }
  /** @brief The sample @p age pushes ago: 0 is the newest, size() - 1 the oldest. */
  const T& newest(std::size_t age) const { return data_[(head_ + data_.size() - 1 - age) % data_.size()]; }
  T& newest(std::size_t age) { return data_[(head_ + data_.size() - 1 - age) % data_.size()]; }

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return data_.size(); }
  bool empty() const { return size_ == 0; }
  /** @brief Forgets all but the @p count newest samples. */
  void keep_newest(std::size_t count) { size_ = std::min(size_, count); }
  void clear() {
    head_ = 0;
    size_ = 0;
  }

 private:
  std::vector<T> data_;
  std::size_t head_ = 0;  // where the next sample goes
  std::size_t size_ = 0;
};

}  // namespace fastgpu::cost
