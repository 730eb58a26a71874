#include "kernels/dp_train_steps.hpp"

#include "fastgpu/config.hpp"

#if FASTGPU_HAVE_CUDA
#include "kernels/dp_train_cuda.hpp"
#endif

namespace fastgpu::kernels {

void dp_generate_shard(fastgpu::Device& device, const DpTrainProblem& problem, double* x, double* y) {
#if FASTGPU_HAVE_CUDA
  if (device.kind() == DeviceKind::cuda) return dp_generate_shard_on_cuda(device, problem, x, y);
#endif
  (void)device;
  const int d = problem.features;
  for (std::int64_t i = 0; i < problem.samples; ++i) {
    const auto g = static_cast<std::uint64_t>(problem.rank * problem.samples + i);
    double* row = x + i * d;
    for (int j = 0; j < d; ++j) row[j] = dp_feature(problem, g, j);
    y[i] = dp_label(problem, g, row);
  }
}

void dp_local_gradient(fastgpu::Device& device, const DpTrainProblem& problem, std::int64_t step, const double* x,
                       const double* y, const double* w, double* buffer, double* scratch) {
#if FASTGPU_HAVE_CUDA
  if (device.kind() == DeviceKind::cuda) {
    return dp_local_gradient_on_cuda(device, problem, step, x, y, w, buffer, scratch);
  }
#endif
  (void)device;
  // Two passes, as on the GPU: residuals and losses per batch row, then the column sums.
  const int d = problem.features;
  const std::int64_t rows = problem.rows_per_step();
  double* residuals = scratch;
  double* losses = scratch + rows;
  for (std::int64_t b = 0; b < rows; ++b) {
    const std::int64_t i = dp_batch_row(problem, step, b);
    dp_row(problem, x + i * d, y[i], w, residuals[b], losses[b]);
  }
  for (int j = 0; j <= d + 1; ++j) buffer[j] = 0;
  for (std::int64_t b = 0; b < rows; ++b) {
    const double* row = x + dp_batch_row(problem, step, b) * d;
    for (int j = 0; j < d; ++j) buffer[j] += residuals[b] * row[j];
    buffer[d] += residuals[b];
    buffer[d + 1] += losses[b];
  }
  for (int j = 0; j <= d + 1; ++j) buffer[j] /= static_cast<double>(rows);
}

void dp_apply_update(fastgpu::Device& device, const DpTrainProblem& problem, double* w, const double* buffer,
                     double scale) {
#if FASTGPU_HAVE_CUDA
  if (device.kind() == DeviceKind::cuda) return dp_apply_update_on_cuda(device, problem, w, buffer, scale);
#endif
  (void)device;
  for (int j = 0; j <= problem.features; ++j) w[j] -= scale * buffer[j];
}

}  // namespace fastgpu::kernels
