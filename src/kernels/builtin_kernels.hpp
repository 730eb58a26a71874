// The built-in compute kernels (gemm, montecarlo, dp_train), each with a CPU and a CUDA
// implementation chosen by the Context's device. Their names and args are listed in
// job/kernel_catalog.cpp; this makes one for an attempt.
//
// How closely the CPU and CUDA implementations agree (tests/unit/kernels/gpu_kernels_test.cpp):
// - montecarlo pi: the same hit count, bit for bit (integer geometry on Philox words).
// - montecarlo option: price within 1e-9 relative (libm vs CUDA math ulps, summation order).
// - gemm checksum: within 1e-10 relative in double, 1e-4 relative in float (BLAS vs cuBLAS
//   summation order; inputs are positive, so the sum of C does not cancel).
// - dp_train: final weights and losses within 1e-9 absolute (exp/log1p ulps, reduction order).
// On one device, a kernel gives the same bits for the same args, seed and task id every run.
#pragma once

#include <memory>
#include <string_view>

#include "fastgpu/kernel.hpp"

namespace fastgpu::kernels {

/// A new kernel object for `name`, or nullptr when `name` is not a built-in compute kernel.
std::unique_ptr<fastgpu::Kernel> make_builtin_kernel(std::string_view name);

}  // namespace fastgpu::kernels
