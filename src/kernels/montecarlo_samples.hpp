// What one Monte Carlo sample is, shared by the CPU loop and the CUDA kernel (montecarlo.cu).
// Sample i of a subtask is block i of the Philox stream keyed by the seed, with the task id as the
// stream, so a (seed, task) pair gives the same samples on any worker and device.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/philox.hpp"

namespace fastgpu::kernels {

/// A European call under Black–Scholes dynamics, precomputed for the sampling loop.
struct OptionModel {
  double log_drift = 0;  ///< (rate - volatility^2 / 2) * maturity
  double diffusion = 0;  ///< volatility * sqrt(maturity)
  double spot = 0;
  double strike = 0;
  double discount = 1;  ///< exp(-rate * maturity)
};

struct MonteCarloProblem {
  bool option = false;  ///< false: estimate pi; true: price `model`
  std::uint64_t seed = 0;
  std::uint64_t stream = 0;  ///< the task id
  std::uint64_t first = 0;   ///< samples first .. first + count - 1
  std::uint64_t count = 0;
  OptionModel model;
};

/// Hit count (pi) or sum and sum of squares of discounted payoffs (option) over some samples.
struct MonteCarloSums {
  std::uint64_t hits = 0;
  double sum = 0;
  double sum_squares = 0;
};

/// Whether sample i falls in the quarter disc. Integer arithmetic (31-bit coordinates, squares
/// below 2^63), so the CPU and the GPU count exactly the same hits.
FASTGPU_HOST_DEVICE inline bool pi_hit(std::uint64_t seed, std::uint64_t stream, std::uint64_t i) {
  const PhiloxCounter block = philox_block(seed, stream, i);
  const std::uint64_t x = block.v[0] >> 1, y = block.v[1] >> 1;
  return x * x + y * y < (std::uint64_t{1} << 62);
}

/// The discounted call payoff of sample i: one normal by Box–Muller from two words of its block.
FASTGPU_HOST_DEVICE inline double option_payoff(const OptionModel& model, std::uint64_t seed, std::uint64_t stream,
                                                std::uint64_t i) {
  const PhiloxCounter block = philox_block(seed, stream, i);
  const double radius = sqrt(-2.0 * log(unit_open(block.v[0])));
  const double normal = radius * cos(6.283185307179586 * unit_open(block.v[1]));
  const double terminal = model.spot * exp(model.log_drift + model.diffusion * normal);
  const double payoff = terminal > model.strike ? terminal - model.strike : 0.0;
  return model.discount * payoff;
}

}  // namespace fastgpu::kernels
