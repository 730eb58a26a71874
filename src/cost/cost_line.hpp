// The per-class line t = a + b * cost, fitted robustly to a window of (cost, seconds) samples.
#pragma once

#include <limits>
#include <span>
#include <vector>

namespace fastgpu::cost {

/**
 * @brief t = intercept + slope * cost up to `reach`, the largest cost the line was fitted to; beyond
 * it, in proportion to cost from the line's value there. A line fitted to short subtasks only is a
 * wild guess far beyond them: when thousands of workers start at once, the first results are the
 * subtasks that happen to be short, so the first lines are nearly flat (slope ~ 0, intercept ~ the
 * time elapsed) and would predict that every long subtask is short. Without an intercept the two
 * rules agree.
 */
struct CostLine {
  double intercept = 0;
  double slope = 1;
  double reach = std::numeric_limits<double>::infinity();
  double at(double cost) const {
    if (cost > reach && intercept > 0 && reach > 0) return (intercept + slope * reach) * (cost / reach);
    return intercept + slope * cost;
  }
};

/**
 * @brief Costs (>= 0) summed apart on either side of a reach: the sum of CostLine::at over them
 * follows for any intercept and slope of a line with that reach (sum_at), so a sum of predictions
 * need not be walked again when the line is refitted, only when its reach moves.
 */
struct CostSums {
  double count = 0, count_within = 0;  ///< costs added; of them, <= reach
  double cost = 0, cost_beyond = 0;    ///< their sum; of it, the costs > reach
  void add(double value, double reach) {
    count += 1;
    cost += value;
    if (value > reach) {
      cost_beyond += value;
    } else {
      count_within += 1;
    }
  }
};

/** @brief The sum of line.at(cost) over the costs in @p sums, which were added at line.reach. */
double sum_at(const CostLine& line, const CostSums& sums);

struct CostSample {
  double cost = 0;
  double seconds = 0;
};

/** @brief Reusable storage for fit_cost_line(). */
struct CostLineScratch {
  std::vector<double> costs;
  std::vector<double> seconds;
  std::vector<double> values;
  std::vector<double> pairs;
};

/**
 * @brief A robust fit of seconds = a + b * cost (a, b >= 0) to @p samples (cost >= 0):
 * b is the Theil–Sen slope, a the median residual. Where that leaves a < 0, or the costs are
 * too close together for a slope (the upper octile below twice the lower, all equal included),
 * the line goes through the origin with b = median(seconds / cost). Where every cost is 0,
 * a = median(seconds) and b = @p fallback_slope. No samples: a = 0, b = @p fallback_slope.
 * A single outlier among n samples moves the result by about one rank of the data; fewer than
 * about 29% outliers cannot carry it away. Its reach is the largest cost among the samples.
 */
CostLine fit_cost_line(std::span<const CostSample> samples, double fallback_slope, CostLineScratch& scratch);

}  // namespace fastgpu::cost
