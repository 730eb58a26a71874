/** @file The device a worker is bound to, as kernel tasks see it: a CPU or one CUDA GPU. */
#pragma once

#include <cstddef>
#include <string>
#include <utility>

namespace fastgpu {

/** @brief What a Device is. */
enum class DeviceKind { cpu, cuda };

/**
 * @brief One worker's device. On the CPU backend "device memory" is host memory and every call
 * completes before it returns; on CUDA the copies and kernels are ordered on stream() and
 * synchronize() waits for them. Errors throw fastgpu::DeviceError (include/fastgpu/error.hpp).
 */
class Device {
 public:
  virtual ~Device() = default;
  virtual DeviceKind kind() const = 0;
  /** @brief "cpu", or the GPU's name ("NVIDIA H100 80GB HBM3"). */
  virtual std::string name() const = 0;
  /** @brief The CUDA device ordinal; -1 on the CPU. */
  virtual int ordinal() const = 0;
  /** @brief The cudaStream_t kernels run on (as void*); nullptr on the CPU. */
  virtual void* stream() const = 0;
  /** @brief Device memory of `bytes` bytes (uninitialised). */
  virtual void* allocate(std::size_t bytes) = 0;
  virtual void deallocate(void* pointer) noexcept = 0;
  virtual void copy_to_device(void* device_dst, const void* host_src, std::size_t bytes) = 0;
  virtual void copy_to_host(void* host_dst, const void* device_src, std::size_t bytes) = 0;
  virtual void fill_zero(void* device_dst, std::size_t bytes) = 0;
  /** @brief Waits until everything queued on stream() is done. */
  virtual void synchronize() = 0;
};

/** @brief Device memory for `count` values of T, freed with its owner (move-only). */
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(Device& device, std::size_t count)
      : device_(&device), data_(static_cast<T*>(device.allocate(count * sizeof(T)))), count_(count) {}
  DeviceBuffer(DeviceBuffer&& other) noexcept { swap(other); }
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    DeviceBuffer(std::move(other)).swap(*this);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (data_ != nullptr) device_->deallocate(data_);
  }
  T* data() const { return data_; }
  std::size_t size() const { return count_; }
  std::size_t bytes() const { return count_ * sizeof(T); }

 private:
  void swap(DeviceBuffer& other) noexcept {
    std::swap(device_, other.device_);
    std::swap(data_, other.data_);
    std::swap(count_, other.count_);
  }
  Device* device_ = nullptr;
  T* data_ = nullptr;
  std::size_t count_ = 0;
};

}  // namespace fastgpu
