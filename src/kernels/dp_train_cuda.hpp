// The CUDA half of dp_train_steps.hpp (dp_train.cu), in a CUDA build only.
#pragma once

#include "fastgpu/device.hpp"
#include "kernels/dp_train_data.hpp"

namespace fastgpu::kernels {

void dp_generate_shard_on_cuda(fastgpu::Device& device, const DpTrainProblem& problem, double* x, double* y);
void dp_local_gradient_on_cuda(fastgpu::Device& device, const DpTrainProblem& problem, std::int64_t step,
                               const double* x, const double* y, const double* w, double* buffer, double* scratch);
void dp_apply_update_on_cuda(fastgpu::Device& device, const DpTrainProblem& problem, double* w, const double* buffer,
                             double scale);

}  // namespace fastgpu::kernels
