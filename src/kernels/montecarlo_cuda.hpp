// The CUDA half of the montecarlo kernel (montecarlo.cu), in a CUDA build only.
#pragma once

#include "fastgpu/device.hpp"
#include "kernels/montecarlo_samples.hpp"

namespace fastgpu::kernels {

/// The problem's sums on `device`'s stream: per-block partial sums on the GPU, added on the host
/// in block order (so the result does not depend on scheduling inside the GPU).
MonteCarloSums montecarlo_on_cuda(fastgpu::Device& device, const MonteCarloProblem& problem);

}  // namespace fastgpu::kernels
