// A user kernel for FastGPU: saxpy, y = a * x + y, on the worker's device.
//
// x[i] = i and y[i] = 1 for i = 0 .. n-1, so the results are easy to check:
//   sum  = sum of y after the update = a * n * (n - 1) / 2 + n
//   last = y[n - 1]                  = a * (n - 1) + 1
// Both are recorded as metrics (/outputs/metrics in the results file) and y itself as an array
// output (/outputs/arrays/TASK/y) when n is small.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include <fastgpu/kernel.hpp>

namespace {

class Saxpy final : public fastgpu::Kernel {
 public:
  void run(fastgpu::Context& context) override {
    // The job file's args were checked against the spec below before the run started; read them
    // with their types here (a wrong value would throw fastgpu::KernelError and fail the attempt).
    const fastgpu::KernelArgs& args = context.args();
    const double a = args.number("a");
    const std::int64_t n = args.integer("n");
    if (n < 1) throw fastgpu::KernelError("arg 'n' must be at least 1, not " + std::to_string(n));
    const auto count = static_cast<std::size_t>(n);

    std::vector<double> x(count);
    std::vector<double> y(count, 1.0);
    std::iota(x.begin(), x.end(), 0.0);

    // Device memory of this worker: host memory on the CPU device, GPU memory on a CUDA device.
    fastgpu::Device& device = context.device();
    fastgpu::DeviceBuffer<double> x_device(device, count);
    fastgpu::DeviceBuffer<double> y_device(device, count);
    device.copy_to_device(x_device.data(), x.data(), x_device.bytes());
    device.copy_to_device(y_device.data(), y.data(), y_device.bytes());

    if (device.kind() == fastgpu::DeviceKind::cpu) {
      // On the CPU device, device memory is host memory: compute in place.
      double* xd = x_device.data();
      double* yd = y_device.data();
      for (std::size_t i = 0; i < count; ++i) yd[i] = a * xd[i] + yd[i];
    } else {
      // A real GPU kernel would be launched on context.stream() here (a .cu file, or cuBLAS's
      // daxpy). This example stays plain C++: it computes on the host and copies the result back.
      device.copy_to_host(y.data(), y_device.data(), y_device.bytes());
      for (std::size_t i = 0; i < count; ++i) y[i] = a * x[i] + y[i];
      device.copy_to_device(y_device.data(), y.data(), y_device.bytes());
    }
    device.synchronize();
    device.copy_to_host(y.data(), y_device.data(), y_device.bytes());

    context.metric("sum", std::accumulate(y.begin(), y.end(), 0.0));
    context.metric("last", y.back());
    if (count <= 1024) context.output("y", y);
  }
};

fastgpu::KernelArgSpec arg(std::string name, fastgpu::KernelArgType type, double minimum, std::string help,
                           std::string example) {
  fastgpu::KernelArgSpec spec;
  spec.name = std::move(name);
  spec.type = type;
  spec.required = true;
  spec.minimum = minimum;
  spec.help = std::move(help);
  spec.example = std::move(example);
  return spec;
}

}  // namespace

// Called once when a job file names this library (`[job] plugin = "build/libmy_kernels.so"`).
FASTGPU_PLUGIN(registry) {
  constexpr double no_minimum = -std::numeric_limits<double>::infinity();
  fastgpu::add_kernel<Saxpy>(
      registry, "saxpy", "y = a * x + y for x = 0 .. n-1, y = 1: records the sum and last value of y",
      {arg("a", fastgpu::KernelArgType::number, no_minimum, "the factor of x", "2"),
       arg("n", fastgpu::KernelArgType::integer, 1, "the length of x and y", "1000")});
}
