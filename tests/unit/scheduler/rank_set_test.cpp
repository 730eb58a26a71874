// support::RankSet against std::set<int>: the same members, in the same (ascending) order, through
// any sequence of inserts and erases, across word boundaries.
#include "support/rank_set.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

namespace fastgpu::support {
namespace {

TEST(RankSet, BehavesAsASetOfIntsInAscendingOrder) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> rank(0, 300);
  RankSet set;
  std::set<int> reference;
  for (int step = 0; step < 5000; ++step) {
    const int r = rank(rng);
    if (rng() % 3 == 0) {
      EXPECT_EQ(set.erase(r), reference.erase(r) == 1);
    } else {
      EXPECT_EQ(set.insert(r), reference.insert(r).second);
    }
    ASSERT_EQ(set.size(), reference.size());
    ASSERT_EQ(set.empty(), reference.empty());
    EXPECT_EQ(set.contains(r), reference.count(r) == 1);
    if (step % 97 == 0) {
      EXPECT_EQ(std::vector<int>(set.begin(), set.end()), std::vector<int>(reference.begin(), reference.end()));
    }
  }
}

TEST(RankSet, FindsMembersAtTheEdgesOfItsWords) {
  RankSet set;
  EXPECT_EQ(set.begin(), set.end());
  for (int r : {0, 63, 64, 127, 128, 1000}) set.insert(r);
  EXPECT_EQ(std::vector<int>(set.begin(), set.end()), (std::vector<int>{0, 63, 64, 127, 128, 1000}));
  set.erase(0);
  set.erase(1000);
  EXPECT_EQ(*set.begin(), 63);
  EXPECT_EQ(std::vector<int>(set.begin(), set.end()), (std::vector<int>{63, 64, 127, 128}));
  EXPECT_FALSE(set.contains(-1));
  EXPECT_FALSE(set.contains(5000));
  EXPECT_FALSE(set.erase(5000));
}

}  // namespace
}  // namespace fastgpu::support
