#include "cost/cost_line.hpp"

#include <algorithm>

#include "cost/robust_stats.hpp"

namespace fastgpu::cost {

namespace {

/**
 * @brief Costs whose middle three quarters span less than this factor are too close together for
 * a slope: over a narrow range the Theil–Sen slope is mostly the noise of the times (and the
 * intercept with it), and extrapolating it to costs far away is wild. E.g. after a few short subtasks of
 * similar cost (the first results of a job) a flat line at their mean would predict that every
 * subtask, however long, takes as long as they did.
 */
constexpr double kMinCostSpread = 2.0;

/** @brief Whether the costs' upper octile (87.5 %) is at least kMinCostSpread times the lower (12.5 %). */
bool costs_spread(std::span<const CostSample> samples, std::vector<double>& scratch) {
  scratch.clear();
  for (const CostSample& s : samples) scratch.push_back(s.cost);
  const std::size_t n = scratch.size();
  const auto lower = scratch.begin() + static_cast<std::ptrdiff_t>(n / 8);
  const auto upper = scratch.begin() + static_cast<std::ptrdiff_t>((7 * n) / 8);
  std::nth_element(scratch.begin(), upper, scratch.end());
  const double high = *upper;
  std::nth_element(scratch.begin(), lower, upper);
  const double low = *lower;
  return high >= kMinCostSpread * low && high > 0;
}

/** @brief The line through the origin: b = median(seconds / cost) over samples with cost > 0. */
CostLine proportional(std::span<const CostSample> samples, double fallback_slope, CostLineScratch& scratch) {
  scratch.values.clear();
  for (const CostSample& s : samples) {
    if (s.cost > 0) scratch.values.push_back(s.seconds / s.cost);
  }
  if (scratch.values.empty()) {  // every cost is 0: the time is all intercept
    scratch.values.clear();
    for (const CostSample& s : samples) scratch.values.push_back(s.seconds);
    return CostLine{std::max(median(scratch.values), 0.0), fallback_slope};
  }
  return CostLine{0, std::max(median(scratch.values), 0.0)};
}

CostLine fit_within_range(std::span<const CostSample> samples, double fallback_slope, CostLineScratch& scratch) {
  if (samples.empty()) return CostLine{0, fallback_slope};
  scratch.costs.clear();
  scratch.seconds.clear();
  for (const CostSample& s : samples) {
    scratch.costs.push_back(s.cost);
    scratch.seconds.push_back(s.seconds);
  }
  double slope = 0;
  if (!costs_spread(samples, scratch.values) ||
      !theil_sen_slope(scratch.costs, scratch.seconds, scratch.pairs, slope)) {
    return proportional(samples, fallback_slope, scratch);
  }
  slope = std::max(slope, 0.0);  // more work never takes less time; a flat line is the floor
  scratch.values.clear();
  for (const CostSample& s : samples) scratch.values.push_back(s.seconds - slope * s.cost);
  const double intercept = median(scratch.values);
  if (intercept < 0) return proportional(samples, fallback_slope, scratch);
  return CostLine{intercept, slope};
}

}  // namespace

CostLine fit_cost_line(std::span<const CostSample> samples, double fallback_slope, CostLineScratch& scratch) {
  CostLine line = fit_within_range(samples, fallback_slope, scratch);
  double largest = 0;
  for (const CostSample& s : samples) largest = std::max(largest, s.cost);
  if (largest > 0) line.reach = largest;
  return line;
}

double sum_at(const CostLine& line, const CostSums& sums) {
  // at() beyond the reach is (a + b * reach) * cost / reach = a * cost / reach + b * cost.
  if (line.intercept > 0 && line.reach > 0 && sums.cost_beyond > 0) {
    return line.intercept * (sums.count_within + sums.cost_beyond / line.reach) + line.slope * sums.cost;
  }
  return line.intercept * sums.count + line.slope * sums.cost;
}

}  // namespace fastgpu::cost
