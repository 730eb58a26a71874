#include "cost/cost_line.hpp"

#include <algorithm>

#include "cost/robust_stats.hpp"

namespace fastgpu::cost {

namespace {

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

}  // namespace

CostLine fit_cost_line(std::span<const CostSample> samples, double fallback_slope, CostLineScratch& scratch) {
  if (samples.empty()) return CostLine{0, fallback_slope};
  scratch.costs.clear();
  scratch.seconds.clear();
  for (const CostSample& s : samples) {
    scratch.costs.push_back(s.cost);
    scratch.seconds.push_back(s.seconds);
  }
  double slope = 0;
  if (!theil_sen_slope(scratch.costs, scratch.seconds, scratch.pairs, slope)) {
    return proportional(samples, fallback_slope, scratch);
  }
  slope = std::max(slope, 0.0);  // more work never takes less time; a flat line is the floor
  scratch.values.clear();
  for (const CostSample& s : samples) scratch.values.push_back(s.seconds - slope * s.cost);
  const double intercept = median(scratch.values);
  if (intercept < 0) return proportional(samples, fallback_slope, scratch);
  return CostLine{intercept, slope};
}

}  // namespace fastgpu::cost
