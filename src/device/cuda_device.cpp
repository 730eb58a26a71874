// The CUDA backend: one GPU and one stream of its own. Memory comes from the stream-ordered
// allocator where the GPU has memory pools (cheap reuse between attempts), else cudaMalloc. Copies
// return when they are complete, so the host side may be reused at once; kernels queued on
// stream() run asynchronously until synchronize().
#include "fastgpu/config.hpp"

#if FASTGPU_HAVE_CUDA

#include <cuda_runtime_api.h>

#include "device/cuda_check.hpp"
#include "device/cuda_device.hpp"

#include <cstdint>

namespace fastgpu::device {
namespace {

/// The stream, move-only, destroyed with its owner.
class CudaStream {
 public:
  CudaStream() { FASTGPU_CHECK_CUDA(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;
  CudaStream(CudaStream&& other) noexcept : stream_(other.stream_) { other.stream_ = nullptr; }
  CudaStream& operator=(CudaStream&& other) noexcept {
    std::swap(stream_, other.stream_);
    return *this;
  }
  ~CudaStream() {
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
  }
  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

/// Makes `ordinal` current for this thread first: worker threads of one process share the runtime.
int select(int ordinal) {
  FASTGPU_CHECK_CUDA(cudaSetDevice(ordinal));
  return ordinal;
}

class CudaDevice final : public fastgpu::Device {
 public:
  explicit CudaDevice(int ordinal) : ordinal_(select(ordinal)) {
    cudaDeviceProp props{};
    FASTGPU_CHECK_CUDA(cudaGetDeviceProperties(&props, ordinal_));
    name_ = props.name;
    int pools = 0;
    FASTGPU_CHECK_CUDA(cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, ordinal_));
    pools_ = pools != 0;
    if (pools_) {
      // Keep freed memory in the pool: by default it goes back to the driver at every
      // synchronize, and the next attempt's buffers (1.5 GB for an n = 8192 gemm) would be mapped
      // again each time: a gap between subtasks the GPU sits idle in.
      cudaMemPool_t pool = nullptr;
      FASTGPU_CHECK_CUDA(cudaDeviceGetDefaultMemPool(&pool, ordinal_));
      std::uint64_t keep = UINT64_MAX;
      FASTGPU_CHECK_CUDA(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep));
    }
  }
  ~CudaDevice() override {
    // Frees queued with cudaFreeAsync must finish before the stream goes.
    if (cudaSetDevice(ordinal_) == cudaSuccess) cudaStreamSynchronize(stream_.get());
  }

  DeviceKind kind() const override { return DeviceKind::cuda; }
  std::string name() const override { return name_; }
  int ordinal() const override { return ordinal_; }
  void* stream() const override { return stream_.get(); }

  void* allocate(std::size_t bytes) override {
    select(ordinal_);
    void* pointer = nullptr;
    if (pools_) {
      FASTGPU_CHECK_CUDA(cudaMallocAsync(&pointer, bytes, stream_.get()));
    } else {
      FASTGPU_CHECK_CUDA(cudaMalloc(&pointer, bytes));
    }
    return pointer;
  }
  void deallocate(void* pointer) noexcept override {
    // noexcept: a failure here (a context already broken) was or will be reported elsewhere.
    if (cudaSetDevice(ordinal_) != cudaSuccess) return;
    if (pools_) {
      cudaFreeAsync(pointer, stream_.get());
    } else {
      cudaFree(pointer);
    }
  }
  void copy_to_device(void* device_dst, const void* host_src, std::size_t bytes) override {
    copy(device_dst, host_src, bytes, cudaMemcpyHostToDevice);
  }
  void copy_to_host(void* host_dst, const void* device_src, std::size_t bytes) override {
    copy(host_dst, device_src, bytes, cudaMemcpyDeviceToHost);
  }
  void fill_zero(void* device_dst, std::size_t bytes) override {
    select(ordinal_);
    FASTGPU_CHECK_CUDA(cudaMemsetAsync(device_dst, 0, bytes, stream_.get()));
  }
  void synchronize() override {
    select(ordinal_);
    FASTGPU_CHECK_CUDA(cudaStreamSynchronize(stream_.get()));
  }

 private:
  void copy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind direction) {
    if (bytes == 0) return;
    select(ordinal_);
    FASTGPU_CHECK_CUDA(cudaMemcpyAsync(dst, src, bytes, direction, stream_.get()));
    FASTGPU_CHECK_CUDA(cudaStreamSynchronize(stream_.get()));
  }

  int ordinal_;
  std::string name_;
  bool pools_ = false;
  CudaStream stream_;  // created after select(): on this GPU
};

}  // namespace

std::unique_ptr<fastgpu::Device> make_cuda_device(int ordinal) { return std::make_unique<CudaDevice>(ordinal); }

}  // namespace fastgpu::device

#endif  // FASTGPU_HAVE_CUDA
