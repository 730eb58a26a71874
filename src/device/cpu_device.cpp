// The CPU backend: "device memory" is host memory and every call has finished when it returns.
#include <cstring>
#include <new>

#include "device/device_factory.hpp"

namespace fastgpu::device {
namespace {

// Cache-line aligned, like cudaMalloc's (stronger) alignment, so kernels may use vector loads.
constexpr std::align_val_t kAlignment{64};

class CpuDevice final : public fastgpu::Device {
 public:
  DeviceKind kind() const override { return DeviceKind::cpu; }
  std::string name() const override { return "cpu"; }
  int ordinal() const override { return -1; }
  void* stream() const override { return nullptr; }
  void* allocate(std::size_t bytes) override { return ::operator new(bytes, kAlignment); }
  void deallocate(void* pointer) noexcept override { ::operator delete(pointer, kAlignment); }
  void copy_to_device(void* device_dst, const void* host_src, std::size_t bytes) override {
    if (bytes != 0) std::memcpy(device_dst, host_src, bytes);
  }
  void copy_to_host(void* host_dst, const void* device_src, std::size_t bytes) override {
    if (bytes != 0) std::memcpy(host_dst, device_src, bytes);
  }
  void fill_zero(void* device_dst, std::size_t bytes) override {
    if (bytes != 0) std::memset(device_dst, 0, bytes);
  }
  void synchronize() override {}
};

}  // namespace

std::unique_ptr<fastgpu::Device> make_cpu_device() { return std::make_unique<CpuDevice>(); }

}  // namespace fastgpu::device
