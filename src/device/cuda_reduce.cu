// Device halves of fill_identity and combine_into: elementwise, on the device's stream.
#include <cuda_runtime.h>

#include "device/cuda_check.hpp"
#include "device/cuda_device.hpp"

namespace fastgpu::device {
namespace {

constexpr int kThreads = 256;

unsigned blocks_for(std::size_t count) {
  const std::size_t blocks = (count + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 65535 ? blocks : 65535);  // the loops below are grid-stride
}

__global__ void fill_kernel(double* data, std::size_t count, double value) {
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < count; i += gridDim.x * blockDim.x) {
    data[i] = value;
  }
}

__global__ void combine_kernel(double* dst, const double* src, std::size_t count, CombineOp op) {
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < count; i += gridDim.x * blockDim.x) {
    switch (op) {
      case CombineOp::sum: dst[i] += src[i]; break;
      case CombineOp::min: dst[i] = fmin(dst[i], src[i]); break;
      case CombineOp::max: dst[i] = fmax(dst[i], src[i]); break;
    }
  }
}

}  // namespace

void cuda_fill(double* data, std::size_t count, double value, void* stream) {
  if (count == 0) return;
  fill_kernel<<<blocks_for(count), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(data, count, value);
  FASTGPU_CHECK_CUDA(cudaGetLastError());
}

void cuda_combine(double* dst, const double* src, std::size_t count, CombineOp op, void* stream) {
  if (count == 0) return;
  combine_kernel<<<blocks_for(count), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(dst, src, count, op);
  FASTGPU_CHECK_CUDA(cudaGetLastError());
}

}  // namespace fastgpu::device
