// The CUDA backend (only in a build with FASTGPU_HAVE_CUDA) and the device-side halves of
// fill_identity / combine_into (cuda_reduce.cu).
#pragma once

#include <cstddef>
#include <memory>

#include "fastgpu/device.hpp"

namespace fastgpu::device {

/// The GPU with runtime ordinal `ordinal`, with its own non-blocking stream.
std::unique_ptr<fastgpu::Device> make_cuda_device(int ordinal);

/// How combine_into combines, as the CUDA kernel takes it.
enum class CombineOp { sum, min, max };

/// data[i] = value for i < count, queued on `stream` (a cudaStream_t).
void cuda_fill(double* data, std::size_t count, double value, void* stream);
/// dst[i] = dst[i] op src[i] for i < count, queued on `stream` (a cudaStream_t).
void cuda_combine(double* dst, const double* src, std::size_t count, CombineOp op, void* stream);

}  // namespace fastgpu::device
