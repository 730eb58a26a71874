// The baseline of scripts/bench/gemm-efficiency.sh: a standalone loop of C = A * B on one device
// (cuBLAS on the first GPU, else OpenBLAS on the CPU), the same multiply the `gemm` kernel makes,
// with no scheduler, no worker and no results file around it. Prints the device, the seconds
// and the achieved GFLOP/s of COUNT multiplies of n x n matrices (inputs made once).
//
//   fastgpu_bench_gemm_loop N COUNT [double|float]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "device/device_binding.hpp"
#include "device/device_factory.hpp"
#include "kernels/gemm_multiply.hpp"

namespace {

template <class T>
double loop(fastgpu::Device& device, int n, int count) {
  using namespace fastgpu::kernels;
  const auto size = static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(n);
  fastgpu::DeviceBuffer<T> a(device, size), b(device, size), c(device, size);
  fill_gemm_input(device, a.data(), size, 0, GemmMatrix::a);
  fill_gemm_input(device, b.data(), size, 0, GemmMatrix::b);
  device.synchronize();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < count; ++i) multiply(device, GemmShape{n, n, n}, a.data(), b.data(), c.data(), 1);
  device.synchronize();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s N COUNT [double|float]\n", argv[0]);
    return 2;
  }
  const int n = std::atoi(argv[1]);
  const int count = std::atoi(argv[2]);
  const std::string precision = argc > 3 ? argv[3] : "double";
  const auto gpus = fastgpu::device::visible_gpus();
  const auto binding = fastgpu::device::bind_worker(0, gpus, "localhost");
  auto device = fastgpu::device::make_device(binding);
  const double seconds = precision == "float" ? loop<float>(*device, n, count) : loop<double>(*device, n, count);
  const double flops = 2.0 * n * n * static_cast<double>(n) * count;
  std::printf("device=%s seconds=%.6f gflops=%.3f\n", device->name().c_str(), seconds, flops / seconds / 1e9);
  return 0;
}
