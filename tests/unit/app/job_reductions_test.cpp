#include "app/job_reductions.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace fastgpu::app {
namespace {

const std::vector<ReductionSpec> kSpecs = {{"total", "sum", 2}, {"low", "min", 1}, {"pi", "mean", 1}};

TEST(MergeReductions, AddsThisRunToTheEarlierRunsInTheJobFilesOrder) {
  const std::vector<ReductionValue> earlier = {{"pi", "mean", {12}, 4, 2}, {"total", "sum", {1, 2}, 0, 3}};
  const std::vector<ReductionValue> now = {{"total", "sum", {10, 20}, 0, 5}, {"low", "min", {-1}, 0, 5},
                                           {"pi", "mean", {4}, 2, 1}};
  const auto merged = merge_reductions(kSpecs, earlier, now);
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(merged[0].name, "total");
  EXPECT_EQ(merged[0].values, (std::vector<double>{11, 22}));
  EXPECT_EQ(merged[0].contributions, 8);
  EXPECT_EQ(merged[1].values, (std::vector<double>{-1}));
  EXPECT_EQ(merged[2].values, (std::vector<double>{16}));
  EXPECT_EQ(merged[2].weight, 6);
  EXPECT_EQ(merged[2].result(), (std::vector<double>{16.0 / 6}));
}

TEST(MergeReductions, NothingAddedLeavesTheIdentity) {
  const auto merged = merge_reductions(kSpecs, {}, {});
  EXPECT_EQ(merged[0].values, (std::vector<double>{0, 0}));
  EXPECT_EQ(merged[1].values[0], std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(merged[2].result()[0]));  // a mean of nothing
  EXPECT_EQ(merged[0].contributions, 0);
}

TEST(MergeReductions, AnEarlierValueOfAnotherShapeIsIgnored) {
  // The job file changed the reduction (op or size) between runs: the old value cannot be added.
  const std::vector<ReductionValue> earlier = {{"total", "sum", {1, 2, 3}, 0, 3}, {"low", "max", {5}, 0, 1}};
  const auto merged = merge_reductions(kSpecs, earlier, {{"low", "min", {7}, 0, 1}});
  EXPECT_EQ(merged[0].values, (std::vector<double>{0, 0}));
  EXPECT_EQ(merged[1].values, (std::vector<double>{7}));
  EXPECT_EQ(merged[1].contributions, 1);
}

}  // namespace
}  // namespace fastgpu::app
