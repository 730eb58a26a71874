// gemm: C = A * B with deterministic inputs (gemm_inputs.hpp), in double or float, `repeat`
// times; reports the achieved GFLOP/s and a checksum (the sum of C, added on the device in the
// fixed order of gemm_checksum.hpp, the same on every device) that compares a GPU run with a CPU
// run. Inputs are made and C is summed where they live: nothing but the checksum leaves the device.
#include <cstddef>
#include <new>
#include <string>

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

/// The CPU memory of one worker thread's gemm subtasks, kept from one to the next. Fresh memory
/// costs a page fault per 4 KiB page when first touched (in a VM about as long as making the
/// inputs), and the allocator gives blocks this big back to the system when they are freed. Kept
/// while the next subtask needs between a quarter of it and all of it, freed with the thread.
/// (On a GPU the device's stream-ordered pool does this.)
class CpuMatrices {
 public:
  static std::byte* get(std::size_t bytes) {
    thread_local CpuMatrices kept;
    if (bytes > kept.bytes_ || bytes < kept.bytes_ / 4) {
      kept.release();
      kept.data_ = static_cast<std::byte*>(::operator new(bytes, kAlignment));
      kept.bytes_ = bytes;
    }
    return kept.data_;
  }
  CpuMatrices(const CpuMatrices&) = delete;
  CpuMatrices& operator=(const CpuMatrices&) = delete;

 private:
  static constexpr std::align_val_t kAlignment{64};
  CpuMatrices() = default;
  ~CpuMatrices() { release(); }
  void release() {
    if (data_ != nullptr) ::operator delete(data_, kAlignment);
    data_ = nullptr;
    bytes_ = 0;
  }
  std::byte* data_ = nullptr;
  std::size_t bytes_ = 0;
};

/// Bytes for `count` values of T, rounded up to whole cache lines.
template <class T>
std::size_t padded_bytes(std::uint64_t count) {
  return (static_cast<std::size_t>(count) * sizeof(T) + 63) / 64 * 64;
}

template <class T>
void run_gemm(Context& context, GemmShape shape, int repeat, std::uint64_t seed) {
  Device& device = context.device();
  const auto size_a = static_cast<std::uint64_t>(shape.m) * static_cast<std::uint64_t>(shape.k);
  const auto size_b = static_cast<std::uint64_t>(shape.k) * static_cast<std::uint64_t>(shape.n);
  const auto size_c = static_cast<std::uint64_t>(shape.m) * static_cast<std::uint64_t>(shape.n);
  DeviceBuffer<T> a_buffer, b_buffer, c_buffer;
  T *a = nullptr, *b = nullptr, *c = nullptr;
  if (device.kind() == DeviceKind::cpu) {  // CPU "device memory" is host memory
    std::byte* block =
        CpuMatrices::get(padded_bytes<T>(size_a) + padded_bytes<T>(size_b) + padded_bytes<T>(size_c));
    a = reinterpret_cast<T*>(block);
    b = reinterpret_cast<T*>(block + padded_bytes<T>(size_a));
    c = reinterpret_cast<T*>(block + padded_bytes<T>(size_a) + padded_bytes<T>(size_b));
  } else {
    a_buffer = DeviceBuffer<T>(device, size_a);
    b_buffer = DeviceBuffer<T>(device, size_b);
    c_buffer = DeviceBuffer<T>(device, size_c);
    a = a_buffer.data();
    b = b_buffer.data();
    c = c_buffer.data();
  }
  fill_gemm_input(device, a, size_a, seed, GemmMatrix::a);
  fill_gemm_input(device, b, size_b, seed, GemmMatrix::b);
  const GemmRun run = multiply_and_checksum(device, shape, a, b, c, repeat);

  const double flops = 2.0 * shape.m * shape.n * static_cast<double>(shape.k) * repeat;
  context.metric("checksum", run.checksum);
  context.metric("seconds", run.seconds);
  context.metric("gflops", run.seconds > 0 ? flops / run.seconds / 1e9 : 0.0);
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
