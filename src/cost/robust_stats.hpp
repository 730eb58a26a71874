// Robust statistics for the cost model: medians, weighted medians, MAD and the Theil–Sen slope.
// Every function works in caller-provided storage, so the model's steady state does not allocate.
#pragma once

#include <span>
#include <vector>

namespace fastgpu::cost {

/** @brief 1.4826 * MAD estimates the standard deviation of normally distributed data. */
inline constexpr double kMadToSigma = 1.4826;

struct WeightedValue {
  double value = 0;
  double weight = 0;
};

/**
 * @brief The median of @p values (reordered in place); the mean of the two middle values for an
 * even count. NaN for none.
 */
double median(std::span<double> values);

/**
 * @brief The weighted median of @p values (sorted in place by value): the smallest value whose
 * cumulative weight reaches half the total; where the cumulative weight lands exactly on half, the
 * mean of that value and the next. A value whose weight is below half the total can move it by at
 * most one position. NaN for none; weights must be > 0.
 */
double weighted_median(std::span<WeightedValue> values);

/** @brief weighted_median() of values already sorted by value. */
double weighted_median_sorted(std::span<const WeightedValue> sorted);

/** @brief Sorts @p values by value, as weighted_median() does (the same order for the same input). */
void sort_by_value(std::span<WeightedValue> values);

/**
 * @brief The median absolute deviation of @p values from @p center (the values are overwritten by
 * their deviations). NaN for none.
 */
double mad(std::span<double> values, double center);

/**
 * @brief Each value replaced by the median of itself and its two neighbours (the ends by the
 * median of the first or last three), into @p out. A lone outlier disappears; a run of two or
 * more values survives. Fewer than three values are copied as they are.
 */
void median_of_three(std::span<const double> values, std::vector<double>& out);

/**
 * @brief The Theil–Sen slope of the points (x[i], y[i]): the median of the slopes of point pairs
 * whose x differ (relatively, by more than 1e-9). All pairs while there are at most 1024, else
 * each point with its next max(1, 1024 / n) neighbours (cyclically): O(n + 1024) pairs. @p scratch
 * holds the slopes. Returns false (and leaves @p slope) when no pair has distinct x.
 */
bool theil_sen_slope(std::span<const double> x, std::span<const double> y, std::vector<double>& scratch,
                     double& slope);

}  // namespace fastgpu::cost
