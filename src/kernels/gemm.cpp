// gemm: C = A * B with deterministic inputs (gemm_inputs.hpp), in double or float, `repeat`
// times; reports the achieved GFLOP/s and a checksum (the sum of C, added on the host in index
// order on every device) that compares a GPU run with a CPU run.
#include <string>
#include <vector>

#include "kernels/gemm_multiply.hpp"
#include "kernels/kernel_factories.hpp"

namespace fastgpu::kernels {
namespace {

int dimension(std::string_view name, std::int64_t value) {
  if (value < 1 || value > 1'000'000) {
    throw KernelError("gemm: " + std::string(name) + " must be between 1 and 1000000, not " + std::to_string(value));
  }
  return static_cast<int>(value);
}

template <class T>
void run_gemm(Context& context, GemmShape shape, int repeat, std::uint64_t seed) {
  Device& device = context.device();
  const auto size_a = static_cast<std::uint64_t>(shape.m) * static_cast<std::uint64_t>(shape.k);
  const auto size_b = static_cast<std::uint64_t>(shape.k) * static_cast<std::uint64_t>(shape.n);
  const auto size_c = static_cast<std::uint64_t>(shape.m) * static_cast<std::uint64_t>(shape.n);
  DeviceBuffer<T> a(device, size_a), b(device, size_b), c(device, size_c);
  fill_gemm_input(device, a.data(), size_a, seed, GemmMatrix::a);
  fill_gemm_input(device, b.data(), size_b, seed, GemmMatrix::b);
  const double seconds = multiply(device, shape, a.data(), b.data(), c.data(), repeat);

  std::vector<T> host(size_c);
  device.copy_to_host(host.data(), c.data(), c.bytes());
  double checksum = 0;
  for (const T value : host) checksum += static_cast<double>(value);

  const double flops = 2.0 * shape.m * shape.n * static_cast<double>(shape.k) * repeat;
  context.metric("checksum", checksum);
  context.metric("seconds", seconds);
  context.metric("gflops", seconds > 0 ? flops / seconds / 1e9 : 0.0);
}

class GemmKernel final : public fastgpu::Kernel {
 public:
  void run(Context& context) override {
    const KernelArgs& args = context.args();
    const int n = dimension("n", args.integer("n"));
    const GemmShape shape{dimension("m", args.integer("m", n)), n, dimension("k", args.integer("k", n))};
    const std::int64_t repeat = args.integer("repeat", 1);
    const std::int64_t seed = args.integer("seed", 0);
    if (repeat < 1 || repeat > 1'000'000) throw KernelError("gemm: repeat must be between 1 and 1000000");
    if (seed < 0) throw KernelError("gemm: seed must be >= 0");
    const std::string precision = args.string("precision", "double");
    if (precision == "double") {
      run_gemm<double>(context, shape, static_cast<int>(repeat), static_cast<std::uint64_t>(seed));
    } else if (precision == "float") {
      run_gemm<float>(context, shape, static_cast<int>(repeat), static_cast<std::uint64_t>(seed));
    } else {
      throw KernelError("gemm: precision must be 'double' or 'float', not '" + precision + "'");
    }
  }
};

}  // namespace

std::unique_ptr<fastgpu::Kernel> make_gemm_kernel() { return std::make_unique<GemmKernel>(); }

}  // namespace fastgpu::kernels
