// Makes the Device a worker's kernels run on, from its binding, and the device-side helpers the
// worker needs around kernels (identity fill and combine of reduction buffers).
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "device/device_binding.hpp"
#include "fastgpu/device.hpp"
#include "fastgpu/results.hpp"

namespace fastgpu::device {

/// The CPU device, or the CUDA device the binding names ("cuda:<id>": that ordinal of the GPUs
/// this process sees), with its own stream. Throws DeviceError when CUDA cannot be used.
std::unique_ptr<fastgpu::Device> make_device(const DeviceBinding& binding);

/// The CPU device (every build has it).
std::unique_ptr<fastgpu::Device> make_cpu_device();

/// The identity of reduction `op`: 0 for "sum" and "mean", +inf for "min", -inf for "max".
/// Throws DeviceError for another op.
double reduction_identity(std::string_view op);

/// total = total op part, on the host: values elementwise ("mean" keeps weighted sums, so they
/// add, like "sum"), weights and contribution counts added. Both hold the same reduction.
void add_reduction(ReductionValue& total, const ReductionValue& part);

/// Fills `count` doubles of device memory with the identity of `op` ("sum" and "mean": 0, "min":
/// +inf, "max": -inf).
void fill_identity(fastgpu::Device& device, double* data, std::size_t count, std::string_view op);

/// dst[i] = dst[i] op src[i] for `count` doubles of device memory ("mean" adds, like "sum").
void combine_into(fastgpu::Device& device, double* dst, const double* src, std::size_t count, std::string_view op);

}  // namespace fastgpu::device
