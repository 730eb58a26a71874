// The device work of one dp_train member, on the CPU or the GPU (dp_train.cu). All pointers are
// device memory of `device`; x is the shard row-major (samples x features), y its labels.
#pragma once

#include "fastgpu/device.hpp"
#include "kernels/dp_train_data.hpp"

namespace fastgpu::kernels {

/// Generates this member's shard.
void dp_generate_shard(fastgpu::Device& device, const DpTrainProblem& problem, double* x, double* y);

/// buffer[0..d] = the mean gradient over step `step`'s batch, buffer[d+1] = its mean loss.
/// `scratch` holds 2 * rows_per_step() doubles.
void dp_local_gradient(fastgpu::Device& device, const DpTrainProblem& problem, std::int64_t step, const double* x,
                       const double* y, const double* w, double* buffer, double* scratch);

/// w[j] -= scale * buffer[j] for the d + 1 weights.
void dp_apply_update(fastgpu::Device& device, const DpTrainProblem& problem, double* w, const double* buffer,
                     double scale);

}  // namespace fastgpu::kernels
