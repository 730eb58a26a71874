#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "device/device_factory.hpp"
#include "fastgpu/config.hpp"
#include "fastgpu/error.hpp"

#if FASTGPU_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace fastgpu::device {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(CpuDevice, Describes) {
  auto device = make_device(DeviceBinding{});
  EXPECT_EQ(device->kind(), DeviceKind::cpu);
  EXPECT_EQ(device->name(), "cpu");
  EXPECT_EQ(device->ordinal(), -1);
  EXPECT_EQ(device->stream(), nullptr);
}

TEST(CpuDevice, AllocatesAndCopies) {
  auto device = make_cpu_device();
  const std::vector<double> host{1.5, -2, 3.25, 4};
  DeviceBuffer<double> buffer(*device, host.size());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(buffer.data()) % 64, 0u);
  device->copy_to_device(buffer.data(), host.data(), buffer.bytes());
  std::vector<double> back(host.size());
  device->copy_to_host(back.data(), buffer.data(), buffer.bytes());
  EXPECT_EQ(back, host);
  device->fill_zero(buffer.data(), buffer.bytes());
  device->synchronize();
  device->copy_to_host(back.data(), buffer.data(), buffer.bytes());
  EXPECT_EQ(back, std::vector<double>(4, 0.0));
  DeviceBuffer<double> empty(*device, 0);  // zero bytes is a valid request
  device->copy_to_device(empty.data(), host.data(), 0);
}

/// fill_identity then combine_into with `values`, read back.
std::vector<double> combine(Device& device, const std::string& op, const std::vector<std::vector<double>>& values) {
  const std::size_t n = values.front().size();
  DeviceBuffer<double> total(device, n), incoming(device, n);
  fill_identity(device, total.data(), n, op);
  for (const std::vector<double>& v : values) {
    device.copy_to_device(incoming.data(), v.data(), incoming.bytes());
    combine_into(device, total.data(), incoming.data(), n, op);
  }
  device.synchronize();
  std::vector<double> out(n);
  device.copy_to_host(out.data(), total.data(), total.bytes());
  return out;
}

void expect_reductions(Device& device) {
  std::vector<double> identity(3);
  DeviceBuffer<double> buffer(device, 3);
  for (const auto& [op, expected] : {std::pair{"sum", 0.0}, {"mean", 0.0}, {"min", kInf}, {"max", -kInf}}) {
    fill_identity(device, buffer.data(), 3, op);
    device.synchronize();
    device.copy_to_host(identity.data(), buffer.data(), buffer.bytes());
    EXPECT_EQ(identity, std::vector<double>(3, expected)) << op;
  }
  const std::vector<std::vector<double>> values{{1, -5, 2.5}, {4, 7, -0.5}, {-2, 1, 0}};
  EXPECT_EQ(combine(device, "sum", values), (std::vector<double>{3, 3, 2}));
  EXPECT_EQ(combine(device, "mean", values), (std::vector<double>{3, 3, 2}));  // weighted sums add
  EXPECT_EQ(combine(device, "min", values), (std::vector<double>{-2, -5, -0.5}));
  EXPECT_EQ(combine(device, "max", values), (std::vector<double>{4, 7, 2.5}));
  EXPECT_THROW(fill_identity(device, buffer.data(), 3, "product"), DeviceError);
  EXPECT_THROW(combine_into(device, buffer.data(), buffer.data(), 3, "avg"), DeviceError);
}

TEST(CpuDevice, ReductionHelpers) {
  auto device = make_cpu_device();
  expect_reductions(*device);
}

TEST(DeviceFactory, RejectsUnknownDevices) {
  EXPECT_THROW(make_device(DeviceBinding{"tpu:0"}), DeviceError);
#if !FASTGPU_HAVE_CUDA
  EXPECT_THROW(make_device(DeviceBinding{"cuda:0"}), DeviceError);
#endif
}

#if FASTGPU_HAVE_CUDA
bool have_gpu() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

TEST(GpuDevice, AllocatesCopiesAndReduces) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA GPU";
  auto device = make_device(DeviceBinding{"cuda:0"});
  EXPECT_EQ(device->kind(), DeviceKind::cuda);
  EXPECT_EQ(device->ordinal(), 0);
  EXPECT_NE(device->stream(), nullptr);
  EXPECT_FALSE(device->name().empty());
  const std::vector<double> host{1.5, -2, 3.25};
  DeviceBuffer<double> buffer(*device, host.size());
  device->copy_to_device(buffer.data(), host.data(), buffer.bytes());
  std::vector<double> back(host.size());
  device->copy_to_host(back.data(), buffer.data(), buffer.bytes());
  EXPECT_EQ(back, host);
  expect_reductions(*device);
}

TEST(GpuDevice, NoGpuMeansADeviceError) {
  if (have_gpu()) GTEST_SKIP() << "a GPU is present";
  EXPECT_THROW(make_device(DeviceBinding{"cuda:0"}), DeviceError);
}
#endif

}  // namespace
}  // namespace fastgpu::device
