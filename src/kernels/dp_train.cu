// dp_train on the GPU: one thread per row for the residuals, one block per gradient entry for the
// sums (a fixed-shape tree, so the same inputs give the same bits every run).
#include <cuda_runtime.h>

#include "device/cuda_check.hpp"
#include "kernels/dp_train_cuda.hpp"

namespace fastgpu::kernels {
namespace {

constexpr int kThreads = 256;

unsigned blocks_for(std::int64_t count) { return static_cast<unsigned>((count + kThreads - 1) / kThreads); }

cudaStream_t stream_of(fastgpu::Device& device) { return static_cast<cudaStream_t>(device.stream()); }

__global__ void generate_kernel(DpTrainProblem problem, double* x, double* y) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= problem.samples) return;
  const auto g = static_cast<std::uint64_t>(problem.rank * problem.samples + i);
  double* row = x + i * problem.features;
  for (int j = 0; j < problem.features; ++j) row[j] = dp_feature(problem, g, j);
  y[i] = dp_label(problem, g, row);
}

__global__ void residual_kernel(DpTrainProblem problem, std::int64_t step, const double* x, const double* y,
                                const double* w, double* residuals, double* losses) {
  const std::int64_t b = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (b >= problem.rows_per_step()) return;
  const std::int64_t i = dp_batch_row(problem, step, b);
  dp_row(problem, x + i * problem.features, y[i], w, residuals[b], losses[b]);
}

/// Block j < d: mean of residual * x_j; block d: mean residual (bias); block d + 1: mean loss.
__global__ void column_kernel(DpTrainProblem problem, std::int64_t step, const double* x, const double* residuals,
                              const double* losses, double* buffer) {
  __shared__ double partial[kThreads];
  const int j = static_cast<int>(blockIdx.x);
  const std::int64_t rows = problem.rows_per_step();
  double sum = 0;
  for (std::int64_t b = threadIdx.x; b < rows; b += blockDim.x) {
    if (j < problem.features) {
      sum += residuals[b] * x[dp_batch_row(problem, step, b) * problem.features + j];
    } else {
      sum += j == problem.features ? residuals[b] : losses[b];
    }
  }
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) buffer[j] = partial[0] / static_cast<double>(rows);
}

__global__ void update_kernel(int count, double* w, const double* buffer, double scale) {
  const int j = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (j < count) w[j] -= scale * buffer[j];
}

}  // namespace

void dp_generate_shard_on_cuda(fastgpu::Device& device, const DpTrainProblem& problem, double* x, double* y) {
  generate_kernel<<<blocks_for(problem.samples), kThreads, 0, stream_of(device)>>>(problem, x, y);
  FASTGPU_CHECK_CUDA(cudaGetLastError());
}

void dp_local_gradient_on_cuda(fastgpu::Device& device, const DpTrainProblem& problem, std::int64_t step,
                               const double* x, const double* y, const double* w, double* buffer, double* scratch) {
  const std::int64_t rows = problem.rows_per_step();
  double* residuals = scratch;
  double* losses = scratch + rows;
  residual_kernel<<<blocks_for(rows), kThreads, 0, stream_of(device)>>>(problem, step, x, y, w, residuals, losses);
  FASTGPU_CHECK_CUDA(cudaGetLastError());
  column_kernel<<<problem.features + 2, kThreads, 0, stream_of(device)>>>(problem, step, x, residuals, losses, buffer);
  FASTGPU_CHECK_CUDA(cudaGetLastError());
}

void dp_apply_update_on_cuda(fastgpu::Device& device, const DpTrainProblem& problem, double* w, const double* buffer,
                             double scale) {
  update_kernel<<<blocks_for(problem.features + 1), kThreads, 0, stream_of(device)>>>(problem.features + 1, w, buffer,
                                                                                      scale);
  FASTGPU_CHECK_CUDA(cudaGetLastError());
}

}  // namespace fastgpu::kernels
