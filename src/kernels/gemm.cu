// gemm on the GPU: inputs generated in place, cuBLAS on the device's stream, timed with events.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "device/cuda_check.hpp"
#include "kernels/gemm_cuda.hpp"

#define FASTGPU_CHECK_CUBLAS(call)                                                                          \
  do {                                                                                                      \
    const cublasStatus_t fastgpu_cublas_status_ = (call);                                                   \
    if (fastgpu_cublas_status_ != CUBLAS_STATUS_SUCCESS) {                                                  \
      throw ::fastgpu::DeviceError(std::string(#call) + " failed at " + __FILE__ + ":" +                    \
                                   std::to_string(__LINE__) + ": " + cublasGetStatusString(fastgpu_cublas_status_)); \
    }                                                                                                       \
  } while (false)

namespace fastgpu::kernels {
namespace {

constexpr int kThreads = 256;

template <class T>
__global__ void fill_kernel(T* data, std::uint64_t count, std::uint64_t seed, GemmMatrix matrix) {
  const std::uint64_t stride = static_cast<std::uint64_t>(gridDim.x) * blockDim.x;
  for (std::uint64_t i = static_cast<std::uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) {
    data[i] = static_cast<T>(gemm_input(seed, matrix, i));
  }
}

template <class T>
void fill(fastgpu::Device& device, T* data, std::uint64_t count, std::uint64_t seed, GemmMatrix matrix) {
  if (count == 0) return;
  const std::uint64_t wanted = (count + kThreads - 1) / kThreads;
  const auto blocks = static_cast<unsigned>(wanted < 65535 ? wanted : 65535);
  fill_kernel<<<blocks, kThreads, 0, static_cast<cudaStream_t>(device.stream())>>>(data, count, seed, matrix);
  FASTGPU_CHECK_CUDA(cudaGetLastError());
}

/// A cuBLAS handle bound to a stream, destroyed with its owner.
class CublasHandle {
 public:
  explicit CublasHandle(cudaStream_t stream) {
    FASTGPU_CHECK_CUBLAS(cublasCreate(&handle_));
    const cublasStatus_t status = cublasSetStream(handle_, stream);
    if (status != CUBLAS_STATUS_SUCCESS) {
      cublasDestroy(handle_);
      FASTGPU_CHECK_CUBLAS(status);
    }
  }
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  ~CublasHandle() { cublasDestroy(handle_); }
  cublasHandle_t get() const { return handle_; }

 private:
  cublasHandle_t handle_ = nullptr;
};

/// A CUDA event, destroyed with its owner.
class CudaEvent {
 public:
  CudaEvent() { FASTGPU_CHECK_CUDA(cudaEventCreate(&event_)); }
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;
  ~CudaEvent() { cudaEventDestroy(event_); }
  cudaEvent_t get() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};

cublasStatus_t gemm(cublasHandle_t handle, GemmShape s, const double* a, const double* b, double* c) {
  const double one = 1.0, zero = 0.0;
  return cublasDgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, s.m, s.n, s.k, &one, a, s.m, b, s.k, &zero, c, s.m);
}
cublasStatus_t gemm(cublasHandle_t handle, GemmShape s, const float* a, const float* b, float* c) {
  const float one = 1.0f, zero = 0.0f;
  return cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, s.m, s.n, s.k, &one, a, s.m, b, s.k, &zero, c, s.m);
}

template <class T>
double multiply(fastgpu::Device& device, GemmShape shape, const T* a, const T* b, T* c, int repeat) {
  const auto stream = static_cast<cudaStream_t>(device.stream());
  CublasHandle handle(stream);  // created outside the timed loop
  CudaEvent start, stop;
  FASTGPU_CHECK_CUDA(cudaEventRecord(start.get(), stream));
  for (int r = 0; r < repeat; ++r) FASTGPU_CHECK_CUBLAS(gemm(handle.get(), shape, a, b, c));
  FASTGPU_CHECK_CUDA(cudaEventRecord(stop.get(), stream));
  FASTGPU_CHECK_CUDA(cudaEventSynchronize(stop.get()));
  float milliseconds = 0;
  FASTGPU_CHECK_CUDA(cudaEventElapsedTime(&milliseconds, start.get(), stop.get()));
  return milliseconds / 1000.0;
}

}  // namespace

void fill_gemm_input_on_cuda(fastgpu::Device& device, double* data, std::uint64_t count, std::uint64_t seed,
                             GemmMatrix matrix) {
  fill(device, data, count, seed, matrix);
}
void fill_gemm_input_on_cuda(fastgpu::Device& device, float* data, std::uint64_t count, std::uint64_t seed,
                             GemmMatrix matrix) {
  fill(device, data, count, seed, matrix);
}
double multiply_on_cuda(fastgpu::Device& device, GemmShape shape, const double* a, const double* b, double* c,
                        int repeat) {
  return multiply(device, shape, a, b, c, repeat);
}
double multiply_on_cuda(fastgpu::Device& device, GemmShape shape, const float* a, const float* b, float* c,
                        int repeat) {
  return multiply(device, shape, a, b, c, repeat);
}

}  // namespace fastgpu::kernels
