#include "cost/robust_stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

namespace fastgpu::cost {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t kMaxPairs = 1024;
constexpr double kDistinctX = 1e-9;

}  // namespace

double median(std::span<double> values) {
  const std::size_t n = values.size();
  if (n == 0) return kNaN;
  const auto mid = values.begin() + static_cast<std::ptrdiff_t>(n / 2);
  std::nth_element(values.begin(), mid, values.end());
  if (n % 2 == 1) return *mid;
  // The lower middle value is the largest of the lower half.
  const double lower = *std::max_element(values.begin(), mid);
  return 0.5 * (lower + *mid);
}

void sort_by_value(std::span<WeightedValue> values) {
  std::sort(values.begin(), values.end(),
            [](const WeightedValue& a, const WeightedValue& b) { return a.value < b.value; });
}

double weighted_median_sorted(std::span<const WeightedValue> sorted) {
  const std::size_t n = sorted.size();
  if (n == 0) return kNaN;
  double total = 0;
  for (const WeightedValue& v : sorted) total += v.weight;
  const double half = 0.5 * total;
  const double tolerance = 1e-12 * total;
  double cumulative = 0;
  for (std::size_t i = 0; i < n; ++i) {
    cumulative += sorted[i].weight;
    if (cumulative >= half - tolerance) {
      if (cumulative <= half + tolerance && i + 1 < n) return 0.5 * (sorted[i].value + sorted[i + 1].value);
      return sorted[i].value;
    }
  }
  return sorted[n - 1].value;
}

double weighted_median(std::span<WeightedValue> values) {
  sort_by_value(values);
  return weighted_median_sorted(values);
}

double mad(std::span<double> values, double center) {
  for (double& v : values) v = std::abs(v - center);
  return median(values);
}

void median_of_three(std::span<const double> values, std::vector<double>& out) {
  const std::size_t n = values.size();
  out.assign(values.begin(), values.end());
  if (n < 3) return;
  const auto med3 = [](double a, double b, double c) { return std::max(std::min(a, b), std::min(std::max(a, b), c)); };
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t mid = std::clamp<std::size_t>(i, 1, n - 2);
    out[i] = med3(values[mid - 1], values[mid], values[mid + 1]);
  }
}

bool theil_sen_slope(std::span<const double> x, std::span<const double> y, std::vector<double>& scratch,
                     double& slope) {
  const std::size_t n = std::min(x.size(), y.size());
  scratch.clear();
  const auto add_pair = [&](std::size_t i, std::size_t j) {
    const double dx = x[j] - x[i];
    if (std::abs(dx) > kDistinctX * std::max(std::abs(x[i]), std::abs(x[j]))) {
      scratch.push_back((y[j] - y[i]) / dx);
    }
  };
  if (n < 2) return false;
  if (n * (n - 1) / 2 <= kMaxPairs) {
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = i + 1; j < n; ++j) add_pair(i, j);
    }
  } else {
    // Each point with its next `span` neighbours: every point takes part in 2 * span pairs.
    const std::size_t span = std::max<std::size_t>(1, std::min((n - 1) / 2, kMaxPairs / n));
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t d = 1; d <= span; ++d) add_pair(i, (i + d) % n);
    }
  }
  if (scratch.empty()) return false;
  slope = median(scratch);
  return true;
}

}  // namespace fastgpu::cost
