// Medians, weighted medians, MAD, Theil–Sen and the robust cost line.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cost/cost_line.hpp"
#include "cost/robust_stats.hpp"

namespace fastgpu::cost {
namespace {

TEST(Median, OddEvenAndEmpty) {
  std::vector<double> odd{5, 1, 3};
  EXPECT_DOUBLE_EQ(median(odd), 3);
  std::vector<double> even{4, 1, 3, 2};
  EXPECT_DOUBLE_EQ(median(even), 2.5);
  std::vector<double> none;
  EXPECT_TRUE(std::isnan(median(none)));
}

TEST(WeightedMedian, EqualWeightsIsTheMedian) {
  std::vector<WeightedValue> v{{5, 1}, {1, 1}, {3, 1}};
  EXPECT_DOUBLE_EQ(weighted_median(v), 3);
}

TEST(WeightedMedian, AHeavyValueWins) {
  std::vector<WeightedValue> v{{1, 1}, {2, 1}, {10, 3}};
  EXPECT_DOUBLE_EQ(weighted_median(v), 10);
}

TEST(WeightedMedian, AValueBelowHalfTheWeightMovesItAtMostOneRank) {
  // Decayed weights 1, .75, .5625, ... as the cost model uses them; the newest is a spike.
  std::vector<WeightedValue> v;
  double w = 1;
  v.push_back({1000, w});
  for (int i = 0; i < 31; ++i) {
    w *= 0.75;
    v.push_back({1.0 + 0.01 * i, w});
  }
  const double m = weighted_median(v);
  EXPECT_LT(m, 1.05);
}

TEST(WeightedMedian, ExactHalfAveragesTheTwoMiddleValues) {
  std::vector<WeightedValue> v{{1, 1}, {3, 1}};
  EXPECT_DOUBLE_EQ(weighted_median(v), 2);
  std::vector<WeightedValue> none;
  EXPECT_TRUE(std::isnan(weighted_median(none)));
}

TEST(Mad, DeviationFromCenter) {
  std::vector<double> v{1, 2, 3, 4, 100};
  EXPECT_DOUBLE_EQ(mad(v, 3), 1);
  std::vector<double> even{1, 2, 4, 100};
  EXPECT_DOUBLE_EQ(mad(even, 3), 1.5);  // deviations 2, 1, 1, 97
}

TEST(WeightedMedian, SortedOnceServesTwoWeightings) {
  std::vector<WeightedValue> v{{5, 1}, {1, 1}, {3, 8}, {2, 1}};
  sort_by_value(v);
  EXPECT_DOUBLE_EQ(weighted_median_sorted(v), 3);
  for (auto& x : v) x.weight = x.value == 5 ? 3 : 1;  // 1, 2, 3 weigh 1 each, 5 weighs 3
  EXPECT_DOUBLE_EQ(weighted_median_sorted(v), 4);  // cumulative 3 lands exactly on half: mean of 3 and 5
}

TEST(TheilSen, ExactLineAndOutliers) {
  std::vector<double> x, y;
  std::vector<double> scratch;
  for (int i = 0; i < 30; ++i) {
    x.push_back(i);
    y.push_back(2 + 0.5 * i);
  }
  double slope = 0;
  ASSERT_TRUE(theil_sen_slope(x, y, scratch, slope));
  EXPECT_NEAR(slope, 0.5, 1e-12);
  for (int i = 0; i < 30; i += 5) y[static_cast<std::size_t>(i)] *= 40;  // 20% wild outliers
  ASSERT_TRUE(theil_sen_slope(x, y, scratch, slope));
  EXPECT_NEAR(slope, 0.5, 0.1);
}

TEST(TheilSen, NoDistinctXHasNoSlope) {
  std::vector<double> x{2, 2, 2}, y{1, 2, 3};
  std::vector<double> scratch;
  double slope = 7;
  EXPECT_FALSE(theil_sen_slope(x, y, scratch, slope));
  EXPECT_EQ(slope, 7);
}

TEST(TheilSen, LargeInputsUseABoundedNumberOfPairs) {
  std::vector<double> x, y;
  std::vector<double> scratch;
  for (int i = 0; i < 2000; ++i) {
    x.push_back((i * 7919) % 2000);
    y.push_back(1 + 3.0 * x.back());
  }
  double slope = 0;
  ASSERT_TRUE(theil_sen_slope(x, y, scratch, slope));
  EXPECT_NEAR(slope, 3, 1e-9);
  EXPECT_LE(scratch.size(), 2000u);  // each point with its next neighbour: n pairs
}

TEST(CostLineFit, NoSamplesIsTheFallback) {
  CostLineScratch scratch;
  const CostLine line = fit_cost_line({}, 0.25, scratch);
  EXPECT_EQ(line.intercept, 0);
  EXPECT_EQ(line.slope, 0.25);
}

TEST(CostLineFit, RecoversInterceptAndSlope) {
  CostLineScratch scratch;
  std::vector<CostSample> samples;
  for (int i = 1; i <= 20; ++i) samples.push_back({double(i), 2 + 0.5 * i});
  const CostLine line = fit_cost_line(samples, 1, scratch);
  EXPECT_NEAR(line.intercept, 2, 1e-9);
  EXPECT_NEAR(line.slope, 0.5, 1e-9);
}

TEST(CostLineFit, EqualCostsGoThroughTheOrigin) {
  CostLineScratch scratch;
  std::vector<CostSample> samples{{4, 8}, {4, 9}, {4, 100}, {4, 7}};
  const CostLine line = fit_cost_line(samples, 1, scratch);
  EXPECT_EQ(line.intercept, 0);
  EXPECT_NEAR(line.at(4), 8.5, 1e-9);  // the median, the 100 s spike ignored
}

TEST(CostLineFit, CostsTooCloseTogetherGoThroughTheOrigin) {
  // Costs within 20% of each other and times off by +-30%: the pairwise slopes are noise (here
  // they would make the line fall), so no slope is fitted and long subtasks are extrapolated
  // proportionally instead of being predicted as long as these short ones.
  CostLineScratch scratch;
  std::vector<CostSample> samples{{0.10, 0.13}, {0.11, 0.08}, {0.12, 0.10},
                                  {0.10, 0.07}, {0.12, 0.09}, {0.11, 0.12}};
  const CostLine line = fit_cost_line(samples, 1, scratch);
  EXPECT_EQ(line.intercept, 0);
  EXPECT_NEAR(line.slope, 0.7917, 1e-3);  // median of seconds / cost
  EXPECT_NEAR(line.at(10), 7.917, 1e-2);
}

TEST(CostLineFit, BeyondItsSamplesALineGrowsInProportionToCost) {
  // The first results when thousands of workers start together: the subtasks that happened to be
  // short, all about 0.2 s whatever their cost. The fit is nearly flat; a subtask 100 times the
  // largest cost seen is predicted 100 times as long as that one, not 0.2 s.
  CostLineScratch scratch;
  std::vector<CostSample> samples;
  for (int i = 1; i <= 20; ++i) samples.push_back({0.015 * i, 0.2 + 0.001 * (i % 3)});
  const CostLine line = fit_cost_line(samples, 1, scratch);
  EXPECT_GT(line.intercept, 0.15);
  EXPECT_LT(line.slope, 0.1);
  EXPECT_DOUBLE_EQ(line.reach, 0.3);
  EXPECT_DOUBLE_EQ(line.at(0.15), line.intercept + line.slope * 0.15);  // within its samples: the line
  EXPECT_NEAR(line.at(30), 100 * line.at(0.3), 1e-9);
  EXPECT_GT(line.at(30), 19.0);
}

TEST(CostLineFit, OneOutlyingCostDoesNotMakeARange) {
  // Seven costs close together and one far away: the one is not enough to fit a slope through.
  CostLineScratch scratch;
  std::vector<CostSample> samples{{1.0, 1.1}, {1.1, 0.9}, {1.2, 1.3}, {1.0, 0.8},
                                  {1.1, 1.2}, {1.2, 1.0}, {1.0, 1.0}, {10, 30}};
  EXPECT_EQ(fit_cost_line(samples, 1, scratch).intercept, 0);
}

TEST(CostLineFit, ZeroCostsAreAllIntercept) {
  CostLineScratch scratch;
  std::vector<CostSample> samples{{0, 3}, {0, 5}, {0, 4}};
  const CostLine line = fit_cost_line(samples, 0.5, scratch);
  EXPECT_NEAR(line.intercept, 4, 1e-12);
  EXPECT_EQ(line.slope, 0.5);
}

TEST(CostLineFit, ANegativeInterceptFallsBackToProportional) {
  CostLineScratch scratch;
  std::vector<CostSample> samples;
  for (int i = 1; i <= 10; ++i) samples.push_back({double(i), -1 + 1.0 * i});
  const CostLine line = fit_cost_line(samples, 1, scratch);
  EXPECT_EQ(line.intercept, 0);
  EXPECT_GT(line.slope, 0);
}

TEST(CostLineFit, TimeThatFallsWithCostIsFlat) {
  CostLineScratch scratch;
  std::vector<CostSample> samples;
  for (int i = 1; i <= 10; ++i) samples.push_back({double(i), 20.0 - i});
  const CostLine line = fit_cost_line(samples, 1, scratch);
  EXPECT_EQ(line.slope, 0);
  EXPECT_NEAR(line.intercept, 14.5, 1e-9);
}

}  // namespace
}  // namespace fastgpu::cost
