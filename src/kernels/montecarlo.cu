#include <cuda_runtime.h>

#include <vector>

#include "device/cuda_check.hpp"
#include "kernels/montecarlo_cuda.hpp"

namespace fastgpu::kernels {
namespace {

constexpr int kThreads = 256;
constexpr std::uint64_t kMaxBlocks = 1024;

/// Grid-stride over the samples; each block writes its sums to slot blockIdx.x.
__global__ void sample_kernel(MonteCarloProblem problem, unsigned long long* hits, double* sums, double* squares) {
  __shared__ unsigned long long block_hits[kThreads];
  __shared__ double block_sum[kThreads];
  __shared__ double block_squares[kThreads];
  unsigned long long my_hits = 0;
  double my_sum = 0, my_squares = 0;
  const std::uint64_t stride = static_cast<std::uint64_t>(gridDim.x) * blockDim.x;
  for (std::uint64_t i = static_cast<std::uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < problem.count;
       i += stride) {
    const std::uint64_t sample = problem.first + i;
    if (problem.option) {
      const double payoff = option_payoff(problem.model, problem.seed, problem.stream, sample);
      my_sum += payoff;
      my_squares += payoff * payoff;
    } else {
      my_hits += pi_hit(problem.seed, problem.stream, sample) ? 1 : 0;
    }
  }
  block_hits[threadIdx.x] = my_hits;
  block_sum[threadIdx.x] = my_sum;
  block_squares[threadIdx.x] = my_squares;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half) {
      block_hits[threadIdx.x] += block_hits[threadIdx.x + half];
      block_sum[threadIdx.x] += block_sum[threadIdx.x + half];
      block_squares[threadIdx.x] += block_squares[threadIdx.x + half];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    hits[blockIdx.x] = block_hits[0];
    sums[blockIdx.x] = block_sum[0];
    squares[blockIdx.x] = block_squares[0];
  }
}

}  // namespace

MonteCarloSums montecarlo_on_cuda(fastgpu::Device& device, const MonteCarloProblem& problem) {
  MonteCarloSums total;
  if (problem.count == 0) return total;
  const std::uint64_t wanted = (problem.count + kThreads - 1) / kThreads;
  const auto blocks = static_cast<unsigned>(wanted < kMaxBlocks ? wanted : kMaxBlocks);
  DeviceBuffer<unsigned long long> hits(device, blocks);
  DeviceBuffer<double> sums(device, blocks), squares(device, blocks);
  sample_kernel<<<blocks, kThreads, 0, static_cast<cudaStream_t>(device.stream())>>>(problem, hits.data(), sums.data(),
                                                                                     squares.data());
  FASTGPU_CHECK_CUDA(cudaGetLastError());
  std::vector<unsigned long long> host_hits(blocks);
  std::vector<double> host_sums(blocks), host_squares(blocks);
  device.copy_to_host(host_hits.data(), hits.data(), hits.bytes());
  device.copy_to_host(host_sums.data(), sums.data(), sums.bytes());
  device.copy_to_host(host_squares.data(), squares.data(), squares.bytes());
  for (unsigned b = 0; b < blocks; ++b) {
    total.hits += host_hits[b];
    total.sum += host_sums[b];
    total.sum_squares += host_squares[b];
  }
  return total;
}

}  // namespace fastgpu::kernels
