// CostSums / sum_at: the sum of CostLine::at over many costs, from four numbers per class, equals
// adding at() one by one, for any intercept and slope, on both sides of the reach.
#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <vector>

#include "cost/cost_line.hpp"

namespace fastgpu::cost {
namespace {

double summed_one_by_one(const CostLine& line, const std::vector<double>& costs) {
  double sum = 0;
  for (double c : costs) sum += line.at(c);
  return sum;
}

TEST(CostSums, SumAtEqualsTheSumOfAtForAnyLineWithTheReachTheyWereSplitAt) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> cost(0.0, 2.0);
  std::uniform_real_distribution<double> coefficient(0.0, 5.0);
  for (int trial = 0; trial < 200; ++trial) {
    const double reach = trial % 4 == 0 ? std::numeric_limits<double>::infinity() : cost(rng);
    std::vector<double> costs;
    CostSums sums;
    for (int i = 0; i < 1 + trial % 50; ++i) {
      costs.push_back(trial % 7 == 0 ? 0.0 : cost(rng));
      sums.add(costs.back(), reach);
    }
    // Lines refitted after the sums were made: only the reach is shared.
    for (const CostLine line : {CostLine{coefficient(rng), coefficient(rng), reach}, CostLine{0.0, coefficient(rng), reach},
                                CostLine{coefficient(rng), 0.0, reach}}) {
      const double expected = summed_one_by_one(line, costs);
      EXPECT_NEAR(sum_at(line, sums), expected, 1e-9 * (1 + expected)) << "trial " << trial;
    }
  }
}

TEST(CostSums, BeyondTheReachAnAttemptCountsInProportionToItsCost) {
  CostSums sums;
  sums.add(1, 10);   // within: 2 + 3 * 1 = 5
  sums.add(20, 10);  // beyond: (2 + 3 * 10) * 20 / 10 = 64
  EXPECT_EQ(sums.count, 2);
  EXPECT_EQ(sums.count_within, 1);
  EXPECT_EQ(sums.cost_beyond, 20);
  EXPECT_DOUBLE_EQ(sum_at(CostLine{2, 3, 10}, sums), 69);
  EXPECT_DOUBLE_EQ(sum_at(CostLine{0, 3, 10}, sums), 63) << "without an intercept the line is one rule";
}

}  // namespace
}  // namespace fastgpu::cost
