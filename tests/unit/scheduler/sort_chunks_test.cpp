// support::sort_next_chunk: chunk after chunk, the prefix it has sorted is what a full sort gives,
// whatever the input (ties and an odd length included).
#include "support/sort_chunks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <utility>
#include <vector>

namespace fastgpu::support {
namespace {

TEST(SortNextChunk, EachPrefixIsThatOfAFullSort) {
  std::mt19937 rng(7);
  for (const std::size_t n : {0u, 1u, 63u, 64u, 65u, 1000u, 4097u}) {
    std::vector<std::pair<double, int>> values;
    for (std::size_t i = 0; i < n; ++i) values.emplace_back(static_cast<double>(rng() % 50), static_cast<int>(i));
    std::vector<std::pair<double, int>> expected = values;
    std::sort(expected.begin(), expected.end());
    std::size_t sorted = 0, chunks = 0;
    while (sorted < n) {
      const std::size_t before = sorted;
      sorted = sort_next_chunk(values, sorted);
      ++chunks;
      EXPECT_EQ(sorted, std::min(n, std::max<std::size_t>(2 * before, 64))) << "n " << n;
      ASSERT_TRUE(std::equal(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(sorted), expected.begin()))
          << "n " << n << ", after " << chunks << " chunks";
    }
    std::sort(values.begin(), values.end());
    EXPECT_EQ(values, expected) << "nothing lost or duplicated";
  }
}

}  // namespace
}  // namespace fastgpu::support
