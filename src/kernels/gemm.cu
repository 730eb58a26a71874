// gemm on the GPU: inputs generated in place, cuBLAS on the device's stream, timed with events,
// and the checksum added on the GPU (gemm_checksum.hpp), so only 8 bytes come back. Nothing here
// waits for the GPU until the result is needed, and the cuBLAS handle is kept from one subtask to
// the next: cublasCreate takes milliseconds and cublasDestroy waits for the whole device, both
// GPU idle time between consecutive subtasks.
#include <cuda_runtime.h>

#include <string>
#include <unordered_map>

#include "device/cuda_check.hpp"
#include "kernels/cublas_api.hpp"
#include "kernels/gemm_checksum.hpp"
#include "kernels/gemm_cuda.hpp"

#define FASTGPU_CHECK_CUBLAS(call)                                                                          \
  do {                                                                                                      \
    const cublasStatus_t fastgpu_cublas_status_ = (call);                                                   \
    if (fastgpu_cublas_status_ != CUBLAS_STATUS_SUCCESS) {                                                  \
      throw ::fastgpu::DeviceError(std::string(#call) + " failed at " + __FILE__ + ":" +                    \
                                   std::to_string(__LINE__) + ": " + cublas().status_string(fastgpu_cublas_status_)); \
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

/// This thread's cuBLAS handle for the device's GPU, set to the device's stream. A handle is made
/// once per thread and GPU and kept for the thread's life (worker threads run one subtask after
/// another); handles are not shared between threads, which cuBLAS does not allow. The stream is
/// set again at every use (cheap), so a handle outlives the devices and streams it served.
class CublasHandle {
 public:
  explicit CublasHandle(fastgpu::Device& device) {
    FASTGPU_CHECK_CUDA(cudaSetDevice(device.ordinal()));
    thread_local Cache cache;
    cublasHandle_t& handle = cache.handles[device.ordinal()];
    if (handle == nullptr) FASTGPU_CHECK_CUBLAS(cublas().create(&handle));
    FASTGPU_CHECK_CUBLAS(cublas().set_stream(handle, static_cast<cudaStream_t>(device.stream())));
    handle_ = handle;
  }
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  cublasHandle_t get() const { return handle_; }

 private:
  struct Cache {
    Cache() = default;
    Cache(const Cache&) = delete;
    Cache& operator=(const Cache&) = delete;
    ~Cache() {
      for (auto& entry : handles) {
        if (entry.second != nullptr && cudaSetDevice(entry.first) == cudaSuccess) cublas().destroy(entry.second);
      }
    }
    std::unordered_map<int, cublasHandle_t> handles;
  };
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
  return cublas().dgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, s.m, s.n, s.k, &one, a, s.m, b, s.k, &zero, c, s.m);
}
cublasStatus_t gemm(cublasHandle_t handle, GemmShape s, const float* a, const float* b, float* c) {
  const float one = 1.0f, zero = 0.0f;
  return cublas().sgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, s.m, s.n, s.k, &one, a, s.m, b, s.k, &zero, c, s.m);
}

/// One pass of the checksum: block b adds chunk b of `values` (kSumChunk of them) into sums[b],
/// lane t = thread t, in the order gemm_checksum.hpp gives (and gemm_multiply.cpp follows).
template <class T>
__global__ void sum_chunks_kernel(const T* values, std::uint64_t count, double* sums) {
  __shared__ double lane[kSumLanes];
  const std::uint64_t first = static_cast<std::uint64_t>(blockIdx.x) * kSumChunk;
  double sum = 0.0;
  for (unsigned j = 0; j < kSumPerLane; ++j) {
    const std::uint64_t i = first + std::uint64_t{j} * kSumLanes + threadIdx.x;
    if (i < count) sum += static_cast<double>(values[i]);
  }
  lane[threadIdx.x] = sum;
  __syncthreads();
  for (unsigned s = kSumLanes / 2; s > 0; s /= 2) {
    if (threadIdx.x < s) lane[threadIdx.x] += lane[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) sums[blockIdx.x] = lane[0];
}

template <class T>
void sum_chunks(cudaStream_t stream, const T* values, std::uint64_t count, double* sums) {
  const std::uint64_t blocks = checksum_pass_size(count);
  if (blocks > 0x7fffffffu) throw ::fastgpu::DeviceError("gemm checksum: too many values for one grid");
  sum_chunks_kernel<<<static_cast<unsigned>(blocks), kSumLanes, 0, stream>>>(values, count, sums);
  FASTGPU_CHECK_CUDA(cudaGetLastError());
}

/// Queues the passes of the checksum over `count` (> 0) values on the device's stream, in
/// `scratch` (checksum_scratch_size(count) values); returns where the sum will be.
template <class T>
const double* queue_checksum(fastgpu::Device& device, const T* values, std::uint64_t count, double* scratch) {
  const auto stream = static_cast<cudaStream_t>(device.stream());
  sum_chunks(stream, values, count, scratch);
  std::uint64_t left = checksum_pass_size(count);
  double* in = scratch;
  while (left > 1) {
    double* out = in + left;
    sum_chunks(stream, static_cast<const double*>(in), left, out);
    left = checksum_pass_size(left);
    in = out;
  }
  return in;
}

template <class T>
double checksum(fastgpu::Device& device, const T* values, std::uint64_t count) {
  if (count == 0) return 0.0;
  fastgpu::DeviceBuffer<double> scratch(device, checksum_scratch_size(count));
  const double* sum = queue_checksum(device, values, count, scratch.data());
  double result = 0;
  device.copy_to_host(&result, sum, sizeof result);  // waits for the passes
  return result;
}

/// Queues `repeat` multiplies between two events (not waited for).
template <class T>
void queue_multiply(fastgpu::Device& device, GemmShape shape, const T* a, const T* b, T* c, int repeat,
                    const CudaEvent& start, const CudaEvent& stop) {
  const auto stream = static_cast<cudaStream_t>(device.stream());
  const CublasHandle handle(device);
  FASTGPU_CHECK_CUDA(cudaEventRecord(start.get(), stream));
  for (int r = 0; r < repeat; ++r) FASTGPU_CHECK_CUBLAS(gemm(handle.get(), shape, a, b, c));
  FASTGPU_CHECK_CUDA(cudaEventRecord(stop.get(), stream));
}

double elapsed_seconds(const CudaEvent& start, const CudaEvent& stop) {
  float milliseconds = 0;
  FASTGPU_CHECK_CUDA(cudaEventElapsedTime(&milliseconds, start.get(), stop.get()));
  return milliseconds / 1000.0;
}

template <class T>
double multiply(fastgpu::Device& device, GemmShape shape, const T* a, const T* b, T* c, int repeat) {
  CudaEvent start, stop;
  queue_multiply(device, shape, a, b, c, repeat, start, stop);
  FASTGPU_CHECK_CUDA(cudaEventSynchronize(stop.get()));
  return elapsed_seconds(start, stop);
}

template <class T>
GemmRun multiply_and_checksum(fastgpu::Device& device, GemmShape shape, const T* a, const T* b, T* c, int repeat) {
  const std::uint64_t count = static_cast<std::uint64_t>(shape.m) * static_cast<std::uint64_t>(shape.n);
  fastgpu::DeviceBuffer<double> scratch(device, checksum_scratch_size(count));
  CudaEvent start, stop;
  queue_multiply(device, shape, a, b, c, repeat, start, stop);
  const double* sum = queue_checksum(device, static_cast<const T*>(c), count, scratch.data());
  GemmRun run;
  device.copy_to_host(&run.checksum, sum, sizeof run.checksum);  // the one wait: multiplies and checksum
  run.seconds = elapsed_seconds(start, stop);
  return run;
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
double checksum_on_cuda(fastgpu::Device& device, const double* values, std::uint64_t count) {
  return checksum(device, values, count);
}
double checksum_on_cuda(fastgpu::Device& device, const float* values, std::uint64_t count) {
  return checksum(device, values, count);
}
GemmRun multiply_and_checksum_on_cuda(fastgpu::Device& device, GemmShape shape, const double* a, const double* b,
                                      double* c, int repeat) {
  return multiply_and_checksum(device, shape, a, b, c, repeat);
}
GemmRun multiply_and_checksum_on_cuda(fastgpu::Device& device, GemmShape shape, const float* a, const float* b,
                                      float* c, int repeat) {
  return multiply_and_checksum(device, shape, a, b, c, repeat);
}

}  // namespace fastgpu::kernels
