// support::RankSet against std::set<int>: the same members, in the same (ascending) order, through
// any sequence of inserts and erases, across word boundaries; its walks of the members in or out of
// another set against std::set_intersection and std::set_difference.
#include "support/rank_set.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
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

TEST(RankSet, WalksTheMembersInOrOutOfAnotherSet) {
  // Against std::set_intersection / std::set_difference, from every starting point, with the other
  // set shorter and longer than this one (its missing words count as empty).
  std::mt19937 rng(5);
  for (const int other_span : {70, 400}) {
    RankSet set, other;
    std::set<int> mine, theirs;
    for (int i = 0; i < 150; ++i) {
      const int a = static_cast<int>(rng() % 300), b = static_cast<int>(rng() % other_span);
      set.insert(a);
      mine.insert(a);
      other.insert(b);
      theirs.insert(b);
    }
    for (const bool in_other : {true, false}) {
      std::vector<int> expected;
      if (in_other) {
        std::set_intersection(mine.begin(), mine.end(), theirs.begin(), theirs.end(), std::back_inserter(expected));
      } else {
        std::set_difference(mine.begin(), mine.end(), theirs.begin(), theirs.end(), std::back_inserter(expected));
      }
      for (int from = -1; from <= 320; ++from) {
        const auto first = std::lower_bound(expected.begin(), expected.end(), from);
        EXPECT_EQ(set.first_from(from, other, in_other), first == expected.end() ? -1 : *first)
            << "from " << from << (in_other ? " in" : " not in") << " the other set";
      }
    }
  }
  EXPECT_EQ(RankSet{}.first_from(0, RankSet{}, false), -1);
}

}  // namespace
}  // namespace fastgpu::support
