// Synthetic workloads for the cost model tests: known lines, worker speeds and log-normal noise.
#pragma once

#include <cmath>
#include <random>

#include "cost/cost_model.hpp"

namespace fastgpu::cost::test {

/** @brief Deterministic noise and costs. */
class Synthetic {
 public:
  explicit Synthetic(unsigned seed = 12345) : rng_(seed) {}
  /** @brief @p seconds times a log-normal factor of spread @p sigma (median 1). */
  double noisy(double seconds, double sigma) { return seconds * std::exp(sigma * normal_(rng_)); }
  /** @brief A cost uniform in [lo, hi]. */
  double cost(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng_); }

 private:
  std::mt19937 rng_;
  std::normal_distribution<double> normal_{0.0, 1.0};
};

/** @brief |a / b - 1|. */
inline double rel_diff(double a, double b) { return std::abs(a / b - 1); }

}  // namespace fastgpu::cost::test
