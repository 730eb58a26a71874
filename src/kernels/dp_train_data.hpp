// dp_train's synthetic data set and model, shared by the CPU loops and the CUDA kernels. Every
// value is a pure function of the seed and an index (Philox), so member r of a k-member run
// holds global rows r*samples .. (r+1)*samples-1 of the same data set a 1-member run with
// k*samples rows holds, and the rows of a step's batch depend on the step number, not history.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/philox.hpp"

namespace fastgpu::kernels {

struct DpTrainProblem {
  std::uint64_t seed = 0;
  int features = 16;      ///< d; the model has d + 1 weights (the last is the bias)
  std::int64_t samples = 4096;  ///< rows of this member's shard
  std::int64_t batch = 0;       ///< rows per step, drawn from the shard; 0: the whole shard
  int rank = 0;                 ///< this member, 0 .. size-1
  int size = 1;

  FASTGPU_HOST_DEVICE std::int64_t rows_per_step() const { return batch > 0 ? batch : samples; }
  /// The gradient buffer: d + 1 gradients, the loss, and the stop flag members agree on.
  std::size_t buffer_size() const { return static_cast<std::size_t>(features) + 3; }
};

// Philox streams of the data set's parts.
constexpr std::uint64_t kFeatureStream = 0x100, kTruthStream = 0x101, kNoiseStream = 0x102, kBatchStream = 0x103;

/// A value in (-1, 1) of `stream` at `index`.
FASTGPU_HOST_DEVICE inline double symmetric_unit(std::uint64_t seed, std::uint64_t stream, std::uint64_t index) {
  return 2.0 * unit_open(philox_block(seed, stream, index).v[0]) - 1.0;
}

/// Feature j of global row g.
FASTGPU_HOST_DEVICE inline double dp_feature(const DpTrainProblem& p, std::uint64_t g, int j) {
  return symmetric_unit(p.seed, kFeatureStream, g * static_cast<std::uint64_t>(p.features) + j);
}

/// The label of global row g (whose features are x): the sign of a hidden linear model plus noise,
/// so the loss falls but not to zero.
FASTGPU_HOST_DEVICE inline double dp_label(const DpTrainProblem& p, std::uint64_t g, const double* x) {
  double logit = 0;
  for (int j = 0; j < p.features; ++j) logit += symmetric_unit(p.seed, kTruthStream, j) * x[j];
  return logit + 0.5 * symmetric_unit(p.seed, kNoiseStream, g) > 0 ? 1.0 : 0.0;
}

/// The shard row used as row b of step `step`'s batch (with replacement; full batch: row b).
FASTGPU_HOST_DEVICE inline std::int64_t dp_batch_row(const DpTrainProblem& p, std::int64_t step, std::int64_t b) {
  if (p.batch == 0) return b;
  const std::uint64_t draw = (static_cast<std::uint64_t>(step) * p.size + p.rank) * p.batch + b;
  const std::uint32_t word = philox_block(p.seed, kBatchStream, draw).v[0];
  return static_cast<std::int64_t>(word % static_cast<std::uint64_t>(p.samples));
}

/// The logistic loss of logit z for label y, without overflow: max(z,0) - z*y + log(1 + e^-|z|).
FASTGPU_HOST_DEVICE inline double dp_loss(double z, double y) {
  return (z > 0 ? z : 0.0) - z * y + log1p(exp(-fabs(z)));
}

FASTGPU_HOST_DEVICE inline double dp_sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

/// Row i's residual p - y and loss under weights w (x: the row's d features, then the bias).
FASTGPU_HOST_DEVICE inline void dp_row(const DpTrainProblem& p, const double* x, double y, const double* w,
                                       double& residual, double& loss) {
  double z = w[p.features];
  for (int j = 0; j < p.features; ++j) z += w[j] * x[j];
  residual = dp_sigmoid(z) - y;
  loss = dp_loss(z, y);
}

}  // namespace fastgpu::kernels
