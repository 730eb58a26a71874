// One maker per built-in compute kernel; make_builtin_kernel (builtin_kernels.cpp) picks by name.
#pragma once

#include <memory>

#include "fastgpu/kernel.hpp"

namespace fastgpu::kernels {

std::unique_ptr<fastgpu::Kernel> make_montecarlo_kernel();
std::unique_ptr<fastgpu::Kernel> make_gemm_kernel();
std::unique_ptr<fastgpu::Kernel> make_dp_train_kernel();

}  // namespace fastgpu::kernels
