// Sorting only as far as a search gets: a scheduler walks thousands of workers in order of when
// they are ready, but usually stops after the first few dozen.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace fastgpu::support {

/// Sorts the next chunk of `values` after the first `sorted` (which are sorted and no greater than
/// the rest): the smallest of the rest, in order, twice as many as are sorted (at least 64).
/// Returns how many are sorted now. O(rest + chunk log chunk): a selection, then a sort of the chunk.
template <class T>
std::size_t sort_next_chunk(std::vector<T>& values, std::size_t sorted) {
  const std::size_t next = std::min(values.size(), std::max<std::size_t>(2 * sorted, 64));
  const auto first = values.begin() + static_cast<std::ptrdiff_t>(sorted);
  const auto last = values.begin() + static_cast<std::ptrdiff_t>(next);
  if (last != values.end()) std::nth_element(first, last, values.end());
  std::sort(first, last);
  return next;
}

}  // namespace fastgpu::support
